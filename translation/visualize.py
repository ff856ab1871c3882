"""Image sheets: rows of samples, one labelled column per image kind (input | output | target)."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from translation.data.arrays import to_image

HEADER_HEIGHT = 22


def for_display(image: np.ndarray) -> np.ndarray:
    """Any channel count -> RGB for viewing: gray is replicated, extra channels are dropped."""
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return image[..., :3]


def _enlarge(image: np.ndarray, min_size: int) -> np.ndarray:
    factor = max(1, min_size // max(1, min(image.shape[:2])))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1) if factor > 1 else image


LABEL_FONT, LABEL_SCALE = cv2.FONT_HERSHEY_SIMPLEX, 0.45


def _label_width(text: str) -> int:
    """Pixels a column needs for its label to show whole (with a margin each side)."""
    return cv2.getTextSize(text, LABEL_FONT, LABEL_SCALE, 1)[0][0] + 4


def _label(text: str, width: int) -> np.ndarray:
    strip = np.full((HEADER_HEIGHT, width, 3), 255, np.uint8)  # OpenCV >= 5 draws text on 8-bit images only
    x = max(2, (width - _label_width(text) + 4) // 2)
    cv2.putText(strip, text, (x, HEADER_HEIGHT - 7), LABEL_FONT, LABEL_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    return strip.astype(np.float32) / 255.0


def make_sheet(columns: dict[str, list[np.ndarray]], gap: int = 2, min_size: int = 128) -> np.ndarray:
    """Lay out columns of HxWxC float images in [0, 1] with a header; rows are padded to the tallest.

    Images smaller than `min_size` are enlarged by an integer factor (nearest neighbour, so no pixel is
    invented) to stay readable next to their labels. A column is at least as wide as its label (32 px
    images under "yellow"), the images centred in it.
    """
    columns = {name: [_enlarge(img, min_size) for img in images] for name, images in columns.items()}
    names = list(columns)
    rows = len(columns[names[0]])
    widths = [max(_label_width(n), *(img.shape[1] for img in columns[n])) for n in names]
    heights = [max(columns[n][r].shape[0] for n in names) for r in range(rows)]
    total_w = sum(widths) + gap * (len(names) - 1)
    total_h = HEADER_HEIGHT + sum(heights) + gap * rows
    sheet = np.ones((total_h, total_w, 3), np.float32)
    x = 0
    for name, width in zip(names, widths):
        sheet[:HEADER_HEIGHT, x:x + width] = _label(name, width)
        y = HEADER_HEIGHT + gap
        for r in range(rows):
            img = for_display(columns[name][r])
            left = x + (width - img.shape[1]) // 2
            sheet[y:y + img.shape[0], left:left + img.shape[1]] = img
            y += heights[r] + gap
        x += width + gap
    return sheet


def sheet_from_batches(visuals: dict[str, torch.Tensor], max_rows: int = 4) -> np.ndarray:
    """A sheet from named batches in [-1, 1] (what a model's `visuals()` returns)."""
    columns = {name: [to_image(t) for t in batch[:max_rows]] for name, batch in visuals.items()}
    return make_sheet(columns)
