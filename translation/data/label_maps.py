"""Label maps and instance maps, as pix2pixHD reads them.

A label map is a one-channel image of integer class ids (8- or 16-bit gray, or a palette image, whose
indices are the ids: Cityscapes' *_labelIds.png); the net sees it one-hot, one channel per class
(--label-nc N). An instance map holds an id per object (Cityscapes' *_instanceIds.png); the net sees its
boundaries: 1 where a pixel's id differs from one of its 4 neighbours (the official get_edges), else 0.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from translation.data.io import (DEFAULT_MAX_PIXELS, ImageReadError, _apply_orientation, _check_pixels, _open_pil,
                                 resolve_max_pixels)

_ID_MODES = ("1", "L", "P", "I", "I;16", "I;16B", "I;16L", "I;16N")


class LabelRangeError(ValueError):
    """A label map holds an id outside 0..label_nc-1: named with its file and value."""


def read_id_map(path) -> np.ndarray:
    """An image of integer ids as an HxWx1 int32 array: gray values, or a palette image's indices (not its
    colours). A colour image whose channels are equal counts as gray; any other colour image is an error."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(path, "file not found")
    return _id_map(path, path, "for colour inputs use --label-nc 0")


def decode_id_map(data: bytes, name: str = "label map",
                  colour_advice: str = "send an 8- or 16-bit gray or a palette PNG of class ids") -> np.ndarray:
    """read_id_map for a file's bytes held in memory (an upload): the same rules, nothing written to disk.
    `name` stands for the file in messages; `colour_advice` ends the message refusing a colour image."""
    if not data:
        raise ImageReadError(name, "empty (0 bytes)")
    return _id_map(bytes(data), name, colour_advice)


def _id_map(source, name, colour_advice: str) -> np.ndarray:
    """The ids of a file (a path) or of its bytes; `name` in messages."""
    try:
        im = _open_pil(source)
    except (OSError, SyntaxError, ValueError) as error:  # PIL's errors for files it cannot open
        raise ImageReadError(name, f"not a readable image ({error})") from None
    with im:
        _check_pixels(name, im.width, im.height, resolve_max_pixels(DEFAULT_MAX_PIXELS))
        orientation = int(im.getexif().get(0x0112, 1) or 1)
        mode = im.mode
        try:
            ids = np.asarray(im.convert("RGB") if mode in ("RGBA", "LA", "PA") else im)
        except (OSError, ValueError, SyntaxError) as error:
            raise ImageReadError(name, f"corrupt image data ({error})") from None
    if mode not in _ID_MODES:
        if ids.ndim == 3 and (ids == ids[..., :1]).all():
            ids = ids[..., 0]
        else:
            raise ImageReadError(name, f"a colour image (mode {mode}), not a map of integer ids in one channel; "
                                       f"{colour_advice}")
    ids = ids.astype(np.int32)[..., None]
    return np.ascontiguousarray(_apply_orientation(ids, orientation))


def check_label_range(ids: np.ndarray, label_nc: int, path, advice: str | None = None) -> None:
    """Refuse an id the one-hot encoding has no channel for (on a GPU it would be a device-side assert).
    `advice` replaces the training advice (raise --label-nc) that ends the message."""
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= label_nc:
        value = low if low < 0 else high
        advice = advice or f"raise --label-nc to at least {high + 1}, or map the value to a class"
        raise LabelRangeError(f"{path}: label value {value} is outside 0..{label_nc - 1} (--label-nc {label_nc}); "
                              f"{advice}")


def scan_label_maps(paths, label_nc: int) -> None:
    """Check every label map before training starts; 8-bit files cannot exceed 255, so with --label-nc 256
    or more only their header is read."""
    for path in paths:
        if label_nc >= 256:
            with _open_pil(Path(path)) as im:
                if im.mode in ("1", "L", "P"):
                    continue
        check_label_range(read_id_map(path), label_nc, path)


def one_hot(ids: torch.Tensor, label_nc: int) -> torch.Tensor:
    """1xHxW int ids -> label_nc x H x W float one-hot (0 and 1, as the official input_label)."""
    return torch.nn.functional.one_hot(ids[0].long(), label_nc).permute(2, 0, 1).float()


def boundaries(ids: torch.Tensor) -> torch.Tensor:
    """...xHxW ids -> float map of the same shape: 1 where a pixel's id differs from a 4-neighbour's."""
    edge = torch.zeros_like(ids, dtype=torch.bool)
    across = ids[..., :, 1:] != ids[..., :, :-1]
    edge[..., :, 1:] |= across
    edge[..., :, :-1] |= across
    down = ids[..., 1:, :] != ids[..., :-1, :]
    edge[..., 1:, :] |= down
    edge[..., :-1, :] |= down
    return edge.float()


def label_colours(label_nc: int) -> torch.Tensor:
    """label_nc x 3 colours in [0, 1] for showing label maps, distinct for nearby ids (the PASCAL VOC colour map:
    the bits of the id spread over the high bits of R, G and B)."""
    colours = torch.zeros(label_nc, 3)
    for label in range(label_nc):
        value, rgb = label, [0, 0, 0]
        for shift in range(7, -1, -1):
            for channel in range(3):
                rgb[channel] |= ((value >> channel) & 1) << shift
            value >>= 3
        colours[label] = torch.tensor(rgb, dtype=torch.float32) / 255.0
    return colours


def show_labels(encoded: torch.Tensor, label_nc: int) -> torch.Tensor:
    """A batch of encoded inputs (one-hot first, then any boundary channel) as colour images in [-1, 1]."""
    ids = encoded[:, :label_nc].float().argmax(1)
    return label_colours(label_nc).to(encoded.device)[ids].permute(0, 3, 1, 2) * 2.0 - 1.0
