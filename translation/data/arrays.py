"""Image arrays <-> network tensors, and the one resize rule; shared by training and inference.

Arrays are HxWxC float32 in [0, 1] (what data/io.py reads); tensors are CxHxW in [-1, 1] (the official
Normalize(0.5, 0.5)). Nothing here imports training-only packages.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from translation.data.io import decode_image, luminance, read_image


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area averaging when shrinking (no aliasing), bicubic when enlarging; float in, float out."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    method = cv2.INTER_AREA if height < h and width < w else cv2.INTER_CUBIC
    out = cv2.resize(image, (width, height), interpolation=method)
    out = out.reshape(height, width, -1)  # cv2 drops a single channel axis
    return np.clip(out, 0.0, 1.0)


def resize_nearest(ids: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an HxWx1 map of integer ids (labels, instances) to the nearest pixel's id: no new ids appear."""
    h, w = ids.shape[:2]
    if (h, w) == (height, width):
        return ids
    out = cv2.resize(ids.astype(np.int32), (width, height), interpolation=cv2.INTER_NEAREST)
    return out.reshape(height, width, -1)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxWxC float in [0, 1] -> CxHxW float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() * 2.0 - 1.0


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """CxHxW in [-1, 1] (any float dtype or memory layout) -> HxWxC float32 in [0, 1]."""
    return ((tensor.detach().float().cpu().clamp(-1, 1) + 1.0) / 2.0).permute(1, 2, 0).contiguous().numpy()


def to_channels(image: np.ndarray, channels: int, source: str = "") -> np.ndarray:
    """Convert HxWxC to the channel count a network expects (gray <-> RGB); anything else is an error."""
    have = image.shape[2]
    if have == channels:
        return image
    if channels == 1 and have in (3, 4):
        return luminance(image)
    if channels == 3 and have == 1:
        return np.repeat(image, 3, axis=2)
    if channels == 3 and have == 4:
        return image[..., :3]
    raise ValueError(f"{source}: image has {have} channels, the model expects {channels}")


def read_channels(path, channels: int) -> np.ndarray:
    """Read an image for a network with `channels` inputs: 1 and 3 convert (alpha composited on white), any
    other count (e.g. RGBA, multi-channel TIFF) keeps every channel of the file, alpha included, and must
    match."""
    return read_image(path, **_for_net(channels))


def decode_channels(data: bytes, channels: int, name: str = "image") -> np.ndarray:
    """An image's bytes in memory (an upload) for a network with `channels` inputs, as read_channels reads
    the file."""
    return decode_image(data, name, **_for_net(channels))


def _for_net(channels: int) -> dict:
    return {"channels": channels} if channels in (1, 3) else {"channels": channels, "alpha": "keep"}
