"""The inpainting composite: the net's pixels in the holes, the input's everywhere else.

Known pixels are selected, never computed (no m * x + (1 - m) * y), so they come out bit for bit as they went
in: in float, an input read from an 8- or 16-bit file is written back to the same samples. Models use it in
training as well (GLCIC's and DeepFill's completed image); torch.where passes gradients to the holes only.
"""
from __future__ import annotations

import numpy as np
import torch


def composite(output, image, mask):
    """`output` where `mask` >= 0.5 (holes), `image` elsewhere. numpy arrays or torch tensors of one layout;
    the mask broadcasts over the channels (H x W x 1 with H x W x C, N x 1 x H x W with N x C x H x W)."""
    if isinstance(output, torch.Tensor):
        return torch.where(mask >= 0.5, output, image.to(output.dtype))
    return np.where(np.asarray(mask) >= 0.5, output, np.asarray(image).astype(output.dtype, copy=False))


def keep_known(out: np.ndarray, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Write `image`'s known pixels into `out` in place (`out` may be uint8/uint16 samples: the input is
    quantised as write_image would quantise it); HxWxC arrays and an HxWx1 mask. For outputs blended from tiles,
    where the blend's float rounding must not reach the known pixels."""
    from translation.data.io import _quantise

    known = np.asarray(mask)[..., 0] < 0.5
    bits = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(out.dtype)
    for row in range(0, out.shape[0], 256):  # bands: no full-size float copy of a huge input
        rows = slice(row, row + 256)
        source = image[rows] if bits is None else _quantise(image[rows], bits)
        band = out[rows]
        band[known[rows]] = source[known[rows]]
    return out
