"""Inpainting samples (glcic, deepfill): a photo, its mask of holes, and the photo with the holes filled.

Masks come from files (inpaint_layout.py: ROOT/<split>/images/ and ROOT/<split>/masks/, same names, which
`prepare inpaint --layout masks` writes) or are drawn per sample by a mask function (data/masks.py's free-form
strokes and rectangles): then only the photos are read, from ROOT/<split>/images/, else ROOT/<split>/, else (train)
ROOT itself. A drawn mask depends on the sample's key (index, seed) only, as PairedDataset's crops: the same key
gives the same mask in any worker, and a resumed run sees the masks an uninterrupted one would have.

Geometry as every paired set (transforms.PairTransform: --preprocess, --load-size, --crop-size, flips): file
masks are resized to the nearest pixel and cropped and flipped with their image; drawn masks are drawn at the
cropped size. Every image/mask pair's sizes are checked from the file headers when the set is made.

Items: {"A": the masked image, "B": the image, "mask": 1 x H x W float (1 = hole), "path": the image file}, images
in [-1, 1]. "A" is B with every hole pixel set to `fill` (in [-1, 1], per channel or one value): DeepFill v2 fills
with 0 (JiahuiYu's x * (1 - mask) on [-1, 1] images), GLCIC with the training set's mean pixel (mean_pixel()).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from translation.data.arrays import read_channels, to_channels
from translation.data.datasets import DataSetError, problem_lines, match_folders
from translation.data.geometry import DEFAULT_CROP_SIZE, DEFAULT_LOAD_SIZE, DEFAULT_PREPROCESS
from translation.data.inpaint_layout import check_mask_size, inpaint_folders, masked, read_mask
from translation.data.io import image_size, list_images
from translation.data.transforms import PairTransform

# (height, width, rng) -> HxWx1 float32 mask, 1 = hole: how a mask is drawn per sample (data/masks.py)
MaskFn = Callable[[int, int, np.random.Generator], np.ndarray]
MASK_STREAM = 0x6D61736B  # keeps a sample's mask draws apart from its crop and flip draws (same seed)


def mask_function(masks: str | MaskFn | None) -> MaskFn | None:
    """None (mask files), a kind of data/masks.py (MASK_KINDS: free_form, rectangles, deepfill) or a MaskFn."""
    if masks is None or callable(masks):
        return masks
    from translation.data.masks import draw_mask
    from translation.names import MASK_KINDS

    if masks not in MASK_KINDS:
        raise ValueError(f"unknown mask kind {masks!r}; choose one of {', '.join(MASK_KINDS)}, or mask files")

    def draw(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
        return draw_mask(masks, height, width, int(rng.integers(2 ** 63)))
    return draw


@dataclass(frozen=True)
class MaskedImage:
    image: Path
    mask: Path | None  # None: drawn per sample


def find_masked_images(root, phase: str = "train", drawn: bool = False) -> list[MaskedImage]:
    """The images of `phase` with their mask files (matched by name, any extension), or, `drawn`, the images
    alone. DataSetError saying what was expected where nothing is found or names do not pair up."""
    root = Path(root)
    if not root.is_dir():
        raise DataSetError(f"{root}: no such data set folder")
    images_dir, masks_dir = inpaint_folders(root, phase)
    if drawn:
        folders = [images_dir, root / phase] + ([root] if phase == "train" else [])
        for folder in folders:
            files = list_images(folder) if folder.is_dir() else []
            if files:
                return [MaskedImage(p, None) for p in files]
        raise DataSetError(f"{root}: found no {phase} images in {images_dir}/ or {root / phase}/")
    if not images_dir.is_dir() or not masks_dir.is_dir():
        raise DataSetError(f"{root}: no {phase} images with masks: expected {images_dir}/ and {masks_dir}/ "
                           "(same names; `translation prepare inpaint PHOTOS OUT --layout masks` writes them), or "
                           "draw masks per sample")
    pairs = match_folders(images_dir, masks_dir)
    if not pairs:
        raise DataSetError(f"{root}: {images_dir}/ holds no images")
    return [MaskedImage(p.a, p.b) for p in pairs]


def mean_pixel(paths: Sequence[Path], channels: int = 3) -> np.ndarray:
    """Per-channel mean in [0, 1] over the images (the mean of each image's mean, as GLCIC-PyTorch's mpv):
    GLCIC's hole fill."""
    if not paths:
        raise DataSetError("mean pixel of no images")
    means = [to_channels(read_channels(p, channels), channels, str(p)).mean(axis=(0, 1)) for p in paths]
    return np.mean(means, axis=0).astype(np.float32)


class InpaintDataset(Dataset):
    """Photos, their masks and the masked photos; indexed by (index, seed) as PairedDataset (plain index: seed 0).

    `masks`: draw each sample's mask (a kind of data/masks.py, or a MaskFn) instead of reading mask files.
    `fill`: the hole value in [-1, 1] (one number, or one per channel). Geometry: PairTransform's (`preprocess`,
    `load_size`, `crop_size`, `flip`); preprocess "none" keeps sizes (then a batch needs images of one size).
    """

    def __init__(self, root, phase: str = "train", masks: str | MaskFn | None = None, fill=0.0, channels: int = 3,
                 preprocess: str = DEFAULT_PREPROCESS, load_size: int = DEFAULT_LOAD_SIZE,
                 crop_size: int = DEFAULT_CROP_SIZE, flip: bool = True, max_size: int = 0):
        self.mask_fn, self.channels = mask_function(masks), channels
        self.fill = np.broadcast_to(np.asarray(fill, np.float32), (channels,)).copy()
        self.items = find_masked_images(root, phase, drawn=self.mask_fn is not None)
        if max_size:
            self.items = self.items[:max_size]
        targets, ids = (("B",), ()) if self.mask_fn else (("B", "mask"), ("mask",))
        self.transform = PairTransform(preprocess, load_size, crop_size, flip, targets=targets, ids=ids)
        if self.mask_fn is None:
            self._check_sizes()
        self.shuffle = True  # the trainer draws a fresh order every epoch

    def _check_sizes(self) -> None:
        problems = []
        for item in self.items:
            image_wh, mask_wh = image_size(item.image), image_size(item.mask)
            if image_wh != mask_wh:
                problems.append(f"mask {item.mask} is {mask_wh[0]}x{mask_wh[1]} but its image {item.image} is "
                                f"{image_wh[0]}x{image_wh[1]}")
        if problems:
            raise DataSetError(f"{len(problems)} of {len(self.items)} masks do not have their image's size:"
                               + problem_lines(problems))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, 0)
        item = self.items[index]
        image = to_channels(read_channels(item.image, self.channels), self.channels, str(item.image))
        if self.mask_fn is None:
            mask = read_mask(item.mask)
            check_mask_size(mask, image.shape, item.mask, item.image)  # a file replaced since the check
            out = self.transform({"B": image, "mask": mask.astype(np.uint8)}, seed=seed, source=str(item.image))
            hole = out["mask"].float()
        else:
            out = self.transform({"B": image}, seed=seed, source=str(item.image))
            height, width = out["B"].shape[1:]
            drawn = self.mask_fn(height, width, np.random.default_rng([seed, MASK_STREAM]))
            hole = torch.from_numpy((np.asarray(drawn, np.float32).reshape(height, width, 1) >= 0.5)
                                    .astype(np.float32).transpose(2, 0, 1).copy())
        return {"A": masked(out["B"], hole, self.fill), "B": out["B"], "mask": hole, "path": str(item.image)}
