"""Input makers for paired sets: each turns a photo (B) into the model's input (A).

These are the image-to-image tasks of the GAN literature (pix2pix §4, SRGAN, Context Encoders...).
Every maker takes float32 H x W x 3 in [0, 1] and a seeded generator, and returns H x W x C.
"""
from __future__ import annotations

import hashlib
import pathlib
from typing import Callable

import cv2
import numpy as np

from translation.data.edges import canny_edges, hed_like_edges
from translation.data.imresize import bicubic_downscale
from translation.data.inpaint_layout import inpaint_folders, mask_to_file
from translation.data.masks import draw_mask
from translation.data.io import luminance, write_image
from translation.data.sr_layout import mod_crop, sr_folders
from translation.names import PAIRED_TASKS

Maker = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def rng_for(stem: str, task: str) -> np.random.Generator:
    """Noise and holes depend on the file name only: re-running gives identical files."""
    seed = int.from_bytes(hashlib.sha256(f"{task}:{stem}".encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


def edges_maker(method: str = "canny", device=None) -> Maker:
    if method == "canny":
        return lambda photo, rng: canny_edges(photo)
    if method == "hed-like":
        return lambda photo, rng: hed_like_edges(photo, device=device)
    raise ValueError(f"unknown edge method {method!r}; use canny or hed-like")


def colorize_maker() -> Maker:
    def gray(photo, rng):
        return luminance(photo)  # as read_image(channels=1): a 1-channel input for colorization models
    return gray


def superres_maker(scale: int = 4) -> Maker:
    if scale < 2:
        raise ValueError(f"--scale must be at least 2, got {scale}")

    def low_resolution(photo, rng):
        h, w = photo.shape[:2]
        small = cv2.resize(photo, (max(1, round(w / scale)), max(1, round(h / scale))), interpolation=cv2.INTER_AREA)
        # Back to full size so A and B align pixel for pixel, as pix2pix needs.
        up = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        return np.clip(up.reshape(h, w, -1), 0.0, 1.0)
    return low_resolution


def superres_writer(out, scale: int = 4, ext: str = ".png") -> Callable[..., str | None]:
    """`prepare superres --layout sr`: per photo, HR cropped to multiples of `scale` (BasicSR's mod crop) and its
    LR at exactly 1/scale, MATLAB bicubic (imresize.py), in the folders of sr_layout.py. A prepare_paired writer."""
    if scale < 2:
        raise ValueError(f"--scale must be at least 2, got {scale}")
    out = pathlib.Path(out)

    def write(split: str, stem: str, photo: np.ndarray, rng) -> str | None:
        # the HR as its 8-bit file will hold it, so LR = imresize(HR file) exactly, as the benchmarks' LR
        hr = np.round(mod_crop(photo, scale) * 255.0) / 255.0
        if min(hr.shape[:2]) == 0:
            return f"{photo.shape[1]}x{photo.shape[0]} is smaller than --scale {scale}"
        hr_dir, lr_dir = sr_folders(out, split, scale)
        write_image(hr_dir / (stem + ext), hr)
        write_image(lr_dir / (stem + ext), bicubic_downscale(hr, scale))
        return None
    return write


def denoise_maker(sigma: float = 25.0) -> Maker:
    if sigma <= 0:
        raise ValueError(f"--sigma must be positive, got {sigma}")

    def noisy(photo, rng):
        # sigma on the 0-255 scale, as in the denoising literature (e.g. sigma 25 for BSD68).
        noise = rng.normal(0.0, sigma / 255.0, photo.shape).astype(np.float32)
        return np.clip(photo + noise, 0.0, 1.0)
    return noisy


def hole_mask(height: int, width: int, holes: int, hole_size: float, rng: np.random.Generator) -> np.ndarray:
    """HxWx1 float mask (1 = hole) of `holes` rectangles, each hole_size x the image's sides, at random places (they may overlap)."""
    mask = np.zeros((height, width, 1), np.float32)
    side_h, side_w = max(1, round(height * hole_size)), max(1, round(width * hole_size))
    for _ in range(holes):
        top = int(rng.integers(0, height - side_h + 1))
        left = int(rng.integers(0, width - side_w + 1))
        mask[top : top + side_h, left : left + side_w] = 1.0
    return mask


def _check_holes(holes: int, hole_size: float) -> None:
    if holes < 1 or not 0 < hole_size < 1:
        raise ValueError(f"--holes must be >= 1 and --hole-size in (0, 1), got {holes}, {hole_size}")


def inpaint_maker(holes: int = 1, hole_size: float = 0.25, fill: float = 1.0) -> Maker:
    _check_holes(holes, hole_size)

    def with_holes(photo, rng):
        mask = hole_mask(*photo.shape[:2], holes, hole_size, rng)
        return np.where(mask > 0, np.float32(fill), photo)  # white holes, as Context Encoders
    return with_holes


def inpaint_writer(out, holes: int = 1, hole_size: float = 0.25, ext: str = ".png",
                   kind: str | None = None) -> Callable[..., str | None]:
    """`prepare inpaint --layout masks`: the photo and its mask in the folders of inpaint_layout.py, for the
    inpainting models. The mask: the holes inpaint_maker paints (same places for the same name), or `kind` of
    data/masks.py (free_form, rectangles, deepfill) drawn from the name. A prepare_paired writer."""
    _check_holes(holes, hole_size)
    out = pathlib.Path(out)

    def write(split: str, stem: str, photo: np.ndarray, rng) -> str | None:
        height, width = photo.shape[:2]
        if kind is None:
            mask = hole_mask(height, width, holes, hole_size, rng)
        else:
            try:
                mask = draw_mask(kind, height, width, int(rng.integers(2 ** 63)))
            except ValueError as error:  # a hole size that does not fit a tiny photo
                return str(error)
        images, masks = inpaint_folders(out, split)
        write_image(images / (stem + ext), photo)
        # masks are always PNG: a lossy format would blur 0/255 into grey
        write_image(masks / (stem + ".png"), mask_to_file(mask))
        return None
    return write


TASKS = PAIRED_TASKS  # task -> help text
