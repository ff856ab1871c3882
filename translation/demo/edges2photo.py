"""A paired edges->photo set in the official aligned format, rendered here: no photo is downloaded.

train/KIND_NNNN.png : edges | photo side by side (A|B), like edges2shoes
test/A, test/B      : held-out edges and photos, drawn from their own random stream (never trained on)
Photos are procedural still lifes (still_life.py), the same number of each kind; edges come from the
official-like HED-style extraction that `translation prepare edges --method hed-like` uses.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from translation.data.edges import hed_like_edges
from translation.data.io import write_image
from translation.demo.still_life import KINDS, render


def edges_and_photos(count: int, size: int, rng: np.random.Generator):
    """`count` (name stem, edges, photo) triples, the kinds taking turns."""
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        photo = render(kind, size, rng)
        edges = np.repeat(hed_like_edges(photo), 3, axis=2)  # RGB like the official edges2* files
        yield f"{kind}_{i:04d}", edges, photo


def build_edges2photo(root, size: int = 64, train_count: int = 1200, test_count: int = 60,
                      seed: int = 0) -> tuple[int, int]:
    """Write the set under `root`; returns (train count, test count)."""
    root = Path(root)
    # separate streams: the held-out objects do not depend on how many training ones were drawn
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    for stem, edges, photo in edges_and_photos(train_count, size, train_rng):
        write_image(root / "train" / f"{stem}.png", np.concatenate([edges, photo], axis=1))
    for stem, edges, photo in edges_and_photos(test_count, size, test_rng):
        write_image(root / "test" / "A" / f"{stem}.png", edges)
        write_image(root / "test" / "B" / f"{stem}.png", photo)
    return train_count, test_count
