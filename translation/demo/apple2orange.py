"""An unpaired apple <-> orange set in the official apple2orange layout, rendered here: nothing is downloaded.

trainA/apple_NNNN.png    apples at random poses
trainB/orange_NNNN.png   oranges at poses of their own (unpaired: no orange stands in an apple's place)
testA/, testB/           held-out poses, each rendered as both kinds under one name: testB/pose_NNNN.png is
                         the orange in the place of testA/pose_NNNN.png, so each translation has a true answer
Both kinds are sized alike (the apple's span, stem and leaf included): CycleGAN keeps an outline where it
is, it is not asked to grow or shrink the fruit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from translation.data.io import write_image
from translation.demo.still_life import SPAN, render_as

KIND_A, KIND_B = "apple", "orange"
POSE_SPAN = max(SPAN[KIND_A], SPAN[KIND_B])


def build_apple2orange(root, size: int = 64, train_count: int = 400, test_count: int = 40,
                       seed: int = 0) -> tuple[int, int, int]:
    """Write the set under `root`; returns (trainA count, trainB count, test poses)."""
    root = Path(root)
    # separate streams: apples, oranges and held-out poses do not depend on how many of the others were drawn
    a_rng, b_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    for i in range(train_count):
        write_image(root / "trainA" / f"{KIND_A}_{i:04d}.png", render_as((KIND_A,), size, a_rng, POSE_SPAN)[0])
        write_image(root / "trainB" / f"{KIND_B}_{i:04d}.png", render_as((KIND_B,), size, b_rng, POSE_SPAN)[0])
    for i in range(test_count):
        photo_a, photo_b = render_as((KIND_A, KIND_B), size, test_rng, POSE_SPAN)
        write_image(root / "testA" / f"pose_{i:04d}.png", photo_a)
        write_image(root / "testB" / f"pose_{i:04d}.png", photo_b)
    return train_count, train_count, test_count
