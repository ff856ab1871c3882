"""A small unpaired "plain photo <-> warm toned photo" set in the CycleGAN layout, from scikit-image photos.

trainA/  plain crops from the left 40% of each photo
trainB/  crops from the next 40%, restyled with a warm, high-contrast toned look (a different crop set:
         no B image is the restyled version of an A image, so the task is genuinely unpaired)
testA/, testB/  held-out crops from the right 20%, never seen in training; testB/ is testA/ restyled,
         so the demo can also score how close A -> B comes to the true style
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from translation.data.io import luminance, write_image
from translation.demo.photos import load_photos, random_crops

A_COLUMNS, B_COLUMNS, TEST_COLUMNS = (0.0, 0.4), (0.4, 0.8), (0.8, 1.0)
TONE = np.array([1.0, 0.8, 0.55], np.float32)  # sepia-like tint: warm highlights, no blue


def warm_toned(image: np.ndarray) -> np.ndarray:
    """Mostly desaturated towards a warm tint, with an S-curve for more contrast.

    Some of the original colour is kept (30%), so the style is invertible in principle and B -> A has
    something to learn besides guessing colours.
    """
    toned = 0.7 * luminance(image) * TONE + 0.3 * image
    curve = 0.5 - 0.5 * np.cos(np.pi * np.clip(toned, 0.0, 1.0))  # smooth S-curve: darker darks, brighter lights
    return np.clip(0.08 + 0.9 * curve, 0.0, 1.0).astype(np.float32)


def build_styles(root, size: int = 64, train_per_photo: int = 40, test_per_photo: int = 4,
                 seed: int = 0) -> tuple[int, int, int]:
    """Write the set under `root`; returns (train A count, train B count, test count per domain)."""
    root, rng = Path(root), np.random.default_rng(seed)
    counts = {"trainA": 0, "trainB": 0, "test": 0}
    for name, photo in load_photos().items():
        for crop in random_crops(photo, train_per_photo, size, rng, A_COLUMNS):
            write_image(root / "trainA" / f"{name}_{counts['trainA']:04d}.png", crop)
            counts["trainA"] += 1
        for crop in random_crops(photo, train_per_photo, size, rng, B_COLUMNS):
            write_image(root / "trainB" / f"{name}_{counts['trainB']:04d}.png", warm_toned(crop))
            counts["trainB"] += 1
        for crop in random_crops(photo, test_per_photo, size, rng, TEST_COLUMNS):
            stem = f"{name}_{counts['test']:04d}.png"
            write_image(root / "testA" / stem, crop)
            write_image(root / "testB" / stem, warm_toned(crop))
            counts["test"] += 1
    return counts["trainA"], counts["trainB"], counts["test"]
