"""The inpainting data layout and its mask files.

    ROOT/<split>/images/<name>.png   the photo
    ROOT/<split>/masks/<name>.png    its mask: 8-bit, 1 channel, white (255) = hole, black (0) = known

`prepare inpaint --layout masks` writes it; data/inpaint.py reads it. A mask file has the size of its image and
one channel; grey values (anti-aliased brushes, JPEG) are read as holes from 128 up, with a warning naming the file.
In memory a mask is HxWx1 float32, 1 = hole, as data/masks.py draws them.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from translation.data.io import ImageReadError, ImageReadWarning, read_image

IMAGES_FOLDER = "images"
MASKS_FOLDER = "masks"
HOLE_THRESHOLD = 128  # 8-bit value from which a mask pixel is a hole


class MaskError(ValueError):
    """A mask that cannot be used (missing, not 1-channel, another size than its image): names the files."""


def inpaint_folders(root, split: str) -> tuple[Path, Path]:
    """(images folder, masks folder) of `split`."""
    split_root = Path(root) / split
    return split_root / IMAGES_FOLDER, split_root / MASKS_FOLDER


def read_mask(path) -> np.ndarray:
    """A mask file -> HxWx1 float32 of 0 and 1 (1 = hole). MaskError when it is unreadable or not 1-channel;
    values other than 0 and 255 are thresholded at 128 with an ImageReadWarning (read_warnings collects it)."""
    try:
        values = read_image(path, alpha="keep")
    except ImageReadError as error:
        raise MaskError(f"mask {error}") from None
    if values.shape[2] != 1:
        kind = {2: "gray + alpha", 3: "RGB", 4: "RGBA"}.get(values.shape[2], "channels")
        raise MaskError(f"mask {path} has {values.shape[2]} channels ({kind}); a mask is a 1-channel grayscale "
                        "image, white = hole, black = known (save it as 8-bit gray, e.g. PIL's mode 'L')")
    # >= 128/255 with half a step of slack, so 16-bit masks threshold at the same level
    holes = values >= (HOLE_THRESHOLD - 0.5) / 255.0
    if np.any((values > 0) & (values < 1)):
        warnings.warn(ImageReadWarning(path, f"mask has values other than 0 and 255: pixels from "
                                             f"{HOLE_THRESHOLD} up are holes, the rest known"), stacklevel=2)
    return holes.astype(np.float32)


def check_mask_size(mask: np.ndarray, image_shape: tuple, mask_path, image_path) -> None:
    """MaskError naming both files when the mask's size is not its image's."""
    if mask.shape[:2] != tuple(image_shape[:2]):
        raise MaskError(f"mask {mask_path} is {mask.shape[1]}x{mask.shape[0]} but its image {image_path} is "
                        f"{image_shape[1]}x{image_shape[0]}: a mask must have its image's size")


def mask_to_file(mask: np.ndarray) -> np.ndarray:
    """HxWx1 float mask (1 = hole) -> the float image write_image writes as 0/255 8-bit gray."""
    return (np.asarray(mask) >= 0.5).astype(np.float32).reshape(mask.shape[0], mask.shape[1], 1)


def masked(image: torch.Tensor, mask: torch.Tensor, fill) -> torch.Tensor:
    """C x H x W (or N x C x H x W) image with its holes (mask 1) set to `fill` (a number or one per channel)."""
    fill = torch.as_tensor(fill, dtype=image.dtype, device=image.device).reshape(-1, 1, 1)
    return image * (1 - mask) + fill * mask
