"""How close a repainted object is to its true rendering: per pixel, by its paint, and by the colour it reads as.

The held-out objects exist in every colour (coloured_objects.py); where their renderings differ is the
painted body, the rest (backdrop, shadow, stem, leaf, band, label) being the same in all of them.
"""
from __future__ import annotations

import numpy as np

PAINT_THRESHOLD = 0.03  # 0-1 scale: well above 8-bit rounding, below any two colours' difference on the body


def painted(renderings: list[np.ndarray]) -> np.ndarray:
    """H x W bool: the pixels whose colour changes with the paint (the object's body)."""
    stack = np.stack(renderings)
    return (stack.max(axis=0) - stack.min(axis=0)).max(axis=-1) > PAINT_THRESHOLD


def paint_colour(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean RGB of the painted pixels."""
    return image[mask].mean(axis=0)


def reads_as(image: np.ndarray, truths: dict[str, np.ndarray], mask: np.ndarray) -> str:
    """The colour whose true rendering of this object has the nearest paint colour to `image`'s."""
    colour = paint_colour(image, mask)
    return min(truths, key=lambda name: np.linalg.norm(paint_colour(truths[name], mask) - colour))


def scores(pairs) -> dict:
    """`pairs`: (image, target colour, {colour: true rendering of the same object}) for every translation.

    mae: mean absolute error (0-1 scale) to the true target rendering, per pixel over the whole image;
    body_mae: the same over the painted body only (the rest is the input's own, where leaving it unchanged
    is exact); paint_error: the same for the body's mean colour; became_target: the share of images whose
    paint reads as the target colour."""
    mae, body_mae, paint_error, hits = [], [], [], []
    for image, target, truths in pairs:
        mask = painted(list(truths.values()))
        truth = truths[target]
        mae.append(np.abs(image - truth).mean())
        body_mae.append(np.abs(image - truth)[mask].mean())
        paint_error.append(np.abs(paint_colour(image, mask) - paint_colour(truth, mask)).mean())
        hits.append(reads_as(image, truths, mask) == target)
    return {"mae": float(np.mean(mae)), "body_mae": float(np.mean(body_mae)),
            "paint_error": float(np.mean(paint_error)),
            "became_target": float(np.mean(hits)), "pairs": len(mae)}
