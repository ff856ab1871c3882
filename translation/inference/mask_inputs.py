"""What an inpainting generator reads: the image with its holes filled, and the mask as one more channel.

The contract every inpainting net follows at inference: generator(cat(masked image, mask)) -> image (glcic:
N x (C + 1) x H x W in), or generator(masked image, mask) -> image where its forward takes two arguments
(deepfill: the mask is not among its in_channels); N x C x H x W out. Images are in the net's value range
(net.value_range: [-1, 1] unless it says (0, 1)), the mask is 0 (known) and 1 (hole). A net that returns several
stages (DeepFill's coarse and refined) returns them as a tuple, the last one the result. The output is then
composited (composite.py).

As label_inputs.py, in two halves:
  prepared_masked  before padding, in numpy: the image and its mask (resized as asked: the mask to the nearest
                   pixel) as one array, the mask its last channel. Padding (translator._pad) reflects both
                   together, so the padding mirrors the image's edge with its holes: a hole at the edge stays a
                   hole in the padding, and no pixel under a hole shows through it.
  MaskedInput      after padding, in torch: holes set to the model's fill, the mask appended.

A generator's checkpoint record says it inpaints with inpaints(fill) ({"inpaint": True, "hole_fill": [...]}).
"""
from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from translation.data.arrays import resize, resize_nearest
from translation.data.inpaint_layout import MaskError, masked, read_mask
from translation.inference.label_inputs import find_by_name


def inpaints(fill: float | Sequence[float] = 0.0) -> dict:
    """The generator-record keys of an inpainting generator; `fill`: what its training set put in the holes, in
    [-1, 1] (one value or one per channel): 0 for DeepFill v2, the training set's mean pixel for GLCIC."""
    values = [float(v) for v in np.atleast_1d(np.asarray(fill, np.float64))]
    if not all(-1.0 <= v <= 1.0 for v in values):
        raise ValueError(f"hole fill {values} is outside [-1, 1]")
    return {"inpaint": True, "hole_fill": values}


def hole_fill(record: dict) -> list[float] | None:
    """The fill of an inpainting generator's record, None for other generators."""
    return [float(v) for v in record.get("hole_fill", [0.0])] if record.get("inpaint") else None


def prepared_masked(image: np.ndarray, mask: np.ndarray, size: int | None = None,
                    name: str = "the input", mask_name: str = "its mask") -> np.ndarray:
    """HxWxC image in [0, 1] and its HxWx1 mask (1 = hole) -> HxWx(C+1), resized to size x size when asked;
    MaskError naming both when their sizes differ."""
    if mask.shape[:2] != image.shape[:2]:
        raise MaskError(f"{name}: {mask_name} is {mask.shape[1]}x{mask.shape[0]} but the image is "
                        f"{image.shape[1]}x{image.shape[0]}; a mask must have its image's size")
    if size:
        image, mask = resize(image, size, size), resize_nearest((mask >= 0.5).astype(np.uint8), size, size)
    return np.concatenate([image.astype(np.float32), (mask >= 0.5).astype(np.float32)], axis=-1)


class MaskedInput(nn.Module):
    """N x (C + 1) x H x W (the image in the net's range, then the mask) -> the generator's input: the image with
    its holes set to `fill` (given in the net's range), then the mask."""

    def __init__(self, fill: Sequence[float]):
        super().__init__()
        self.register_buffer("fill", torch.tensor([float(v) for v in fill]), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        image, mask = x[:, :-1], x[:, -1:]
        return torch.cat([masked(image, mask, self.fill.to(x.dtype)), mask], 1)


def takes_mask(net: nn.Module) -> bool:
    """Whether the net's forward takes the image and the mask as two arguments (deepfill)."""
    return len(inspect.signature(net.forward).parameters) == 2


def find_mask(name: str, given: Path, index: dict[str, Path] | None, shown: str | None = None) -> Path:
    """The mask of the input at relative path `name`: `given` itself when it is a file, else the image of the
    same relative path and name under it (any image extension); MaskError naming the input and where it looked."""
    return find_by_name(name, given, index, "mask", MaskError, shown)


def read_input_mask(path: Path, source: Path) -> np.ndarray:
    """read_mask, its errors naming the input the mask belongs to."""
    try:
        return read_mask(path)
    except MaskError as error:
        raise MaskError(f"{source}: its {error}") from None
