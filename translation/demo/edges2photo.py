"""A small paired edges->photo set in the official aligned format, built from scikit-image photos.

train/NAME.png : edges | photo side by side (A|B), crops from the left 65% of each photo
test/A, test/B : held-out edges and photos, crops from the right 35% (never seen in training)
Crops with almost no edges are left out: like the objects of edges2shoes, every sample has an outline.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from translation.data.edges import canny_edges
from translation.data.io import write_image
from translation.demo.photos import load_photos, random_crops

TRAIN_COLUMNS, TEST_COLUMNS = (0.0, 0.65), (0.65, 1.0)
MIN_EDGE_FRACTION = 0.02  # share of edge pixels below which a crop says too little about its photo


def edged_crops(photo: np.ndarray, count: int, size: int, rng: np.random.Generator, columns):
    """`count` (edges, crop) pairs whose edge maps are not nearly empty."""
    pairs, attempts = [], 0
    while len(pairs) < count and attempts < 50 * count:
        for crop in random_crops(photo, count, size, rng, columns):
            attempts += 1
            edges = canny_edges(crop)
            if 1.0 - edges.mean() >= MIN_EDGE_FRACTION:
                pairs.append((np.repeat(edges, 3, axis=2), crop))  # RGB like the official edges2* files
    return pairs[:count]


def build_edges2photo(root, size: int = 64, train_per_photo: int = 60, test_per_photo: int = 4,
                      seed: int = 0) -> tuple[int, int]:
    """Write the set under `root`; returns (train count, test count)."""
    root, rng = Path(root), np.random.default_rng(seed)
    n_train = n_test = 0
    for name, photo in load_photos().items():
        for edges, crop in edged_crops(photo, train_per_photo, size, rng, TRAIN_COLUMNS):
            write_image(root / "train" / f"{name}_{n_train:04d}.png", np.concatenate([edges, crop], axis=1))
            n_train += 1
        for edges, crop in edged_crops(photo, test_per_photo, size, rng, TEST_COLUMNS):
            stem = f"{name}_{n_test:04d}.png"
            write_image(root / "test" / "A" / stem, edges)
            write_image(root / "test" / "B" / stem, crop)
            n_test += 1
    return n_train, n_test
