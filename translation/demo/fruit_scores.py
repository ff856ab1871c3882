"""Did the apple become an orange (and back) while keeping its shape? Three measures on written images.

- `l1`: mean absolute error to the true other kind (the same pose rendered as it), on the 0-1 scale.
- `became`: the share of outputs that a colour classifier reads as the target kind. The classifier is the
  nearest mean foreground colour of each training set (apples deep red, oranges orange, the green channel
  apart), so an unchanged input scores 0 and only a change of colour over the object moves it.
- `shape_iou`: intersection over union of the object's silhouette (all that is not white paper) between
  input and output: 1 when the outline is kept; an apple's stem and leaf are not on its orange, so even
  the true answer scores a little below 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from translation.demo.shading import BACKGROUND

PAPER_CONTRAST = 0.3  # the soft table shadow darkens the paper by at most 0.25: it stays background


def silhouette(image: np.ndarray) -> np.ndarray:
    """Where the picture is not the paper backdrop: the object, with its stem and leaf."""
    return np.abs(image[..., :3] - BACKGROUND).max(axis=2) > PAPER_CONTRAST


def silhouette_iou(a: np.ndarray, b: np.ndarray) -> float:
    mask_a, mask_b = silhouette(a), silhouette(b)
    union = (mask_a | mask_b).sum()
    return float((mask_a & mask_b).sum() / union) if union else 1.0  # two empty pictures agree


def foreground_colour(image: np.ndarray) -> np.ndarray | None:
    """Mean RGB over the silhouette; None when there is no object."""
    mask = silhouette(image)
    return image[..., :3][mask].mean(axis=0) if mask.any() else None


@dataclass
class KindClassifier:
    """Nearest mean foreground colour: fitted on training renders, never on what it judges."""

    centres: dict[str, np.ndarray]

    @classmethod
    def fit(cls, examples: dict[str, list[np.ndarray]]) -> "KindClassifier":
        centres = {}
        for kind, images in examples.items():
            colours = [c for c in map(foreground_colour, images) if c is not None]
            if not colours:
                raise ValueError(f"no {kind} in its training images: nothing to fit the colour of")
            centres[kind] = np.mean(colours, axis=0)
        return cls(centres)

    def predict(self, image: np.ndarray) -> str | None:
        """The kind whose mean colour is nearest; None for a picture of bare paper."""
        colour = foreground_colour(image)
        if colour is None:
            return None
        return min(self.centres, key=lambda kind: float(np.abs(self.centres[kind] - colour).sum()))


def score(inputs: list[np.ndarray], outputs: list[np.ndarray], truths: list[np.ndarray], target: str,
          classifier: KindClassifier) -> dict:
    """The three measures of `outputs` (translations of `inputs` into `target`, whose true images are
    `truths`), each a mean over the images."""
    return {"l1": float(np.mean([np.abs(o - t).mean() for o, t in zip(outputs, truths)])),
            "became": float(np.mean([classifier.predict(o) == target for o in outputs])),
            "shape_iou": float(np.mean([silhouette_iou(i, o) for i, o in zip(inputs, outputs)]))}
