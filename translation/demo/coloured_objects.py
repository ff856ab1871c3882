"""A multi-domain set in StarGAN's one-folder-per-domain layout: still-life objects painted in four colours.

train/<colour>/  each object rendered once, in one colour only (colours and kinds take turns), so the
                 model never sees one object two ways and has to learn the colours, not memorise pairs.
test/<colour>/   held-out objects from their own random stream, each rendered in every colour from the same
                 seed under the same name: the same shape, pose, shading and details (leaf, band, label),
                 only the body's paint differs, so any X -> Y translation is scored against the true Y.
The objects are the pix2pix demo's (still_life.py): apples, oranges, lemons, pears, vases and bottles.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from translation.data.io import write_image
from translation.demo.still_life import KINDS, render

# the body's paint (each object is tinted a little lighter or darker around it), in folder (= label) order
COLOURS = {"blue": (0.15, 0.3, 0.75), "green": (0.2, 0.6, 0.15), "red": (0.78, 0.12, 0.1),
           "yellow": (0.95, 0.8, 0.12)}


def in_every_colour(kind: str, size: int, seed: int) -> dict[str, np.ndarray]:
    """One object, the same draws from `seed` for each colour: {colour: image}."""
    return {name: render(kind, size, np.random.default_rng(seed), colour) for name, colour in COLOURS.items()}


def build_coloured_objects(root, size: int = 32, train_count: int = 960, test_count: int = 24,
                           seed: int = 0) -> tuple[dict[str, int], int]:
    """Write the set under `root`; returns ({colour: training images}, held-out objects, each in every colour)."""
    root, names = Path(root), list(COLOURS)
    # separate streams: the held-out objects do not depend on how many training ones were drawn
    train_rng, test_seeds = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    counts = {name: 0 for name in COLOURS}
    for i in range(train_count):
        kind, colour = KINDS[i % len(KINDS)], names[(i // len(KINDS)) % len(names)]  # every kind in every colour
        write_image(root / "train" / colour / f"{kind}_{i:04d}.png", render(kind, size, train_rng, COLOURS[colour]))
        counts[colour] += 1
    for i in range(test_count):
        kind = KINDS[i % len(KINDS)]
        for colour, image in in_every_colour(kind, size, int(test_seeds.integers(2 ** 32))).items():
            write_image(root / "test" / colour / f"{kind}_{i:04d}.png", image)
    return counts, test_count
