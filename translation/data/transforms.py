"""Training-time geometry shared by paired and unpaired data: resize, random crop, flip.

The random part runs through albumentations with `additional_targets`, so the two halves of a pair
get the same crop and flip. Each sample is augmented with its own seed (derived from the run seed,
the epoch and the sample index): the result does not depend on worker processes, and a resumed run
sees exactly the crops an uninterrupted run would have seen. The sizes come from geometry.py, which
`data check` asks too.
"""
from __future__ import annotations

import albumentations as A
import numpy as np
import torch

from translation.data.arrays import resize, resize_nearest, to_tensor
from translation.data.geometry import (DEFAULT_CROP_SIZE, DEFAULT_LOAD_SIZE, DEFAULT_PREPROCESS, crop_error,
                                        preprocess_size)
from translation.names import PREPROCESS_MODES


class PairTransform:
    """Resize, crop and flip a set of aligned images identically; returns tensors in [-1, 1]."""

    def __init__(self, mode: str = DEFAULT_PREPROCESS, load_size: int = DEFAULT_LOAD_SIZE,
                 crop_size: int = DEFAULT_CROP_SIZE, flip: bool = True, targets: tuple[str, ...] = ("A", "B"),
                 ids: tuple[str, ...] = (), multiple: int | None = None):
        """`ids`: targets holding integer ids (label and instance maps): resized with the nearest neighbour and
        returned as int64 tensors, never interpolated or scaled. `multiple`: see geometry.preprocess_size."""
        if mode not in PREPROCESS_MODES:
            raise ValueError(f"unknown preprocess {mode!r}; choose one of {', '.join(PREPROCESS_MODES)}")
        self.mode, self.load_size, self.crop_size, self.flip = mode, load_size, crop_size, flip
        self.targets, self.ids, self.multiple = targets, ids, multiple
        steps = []
        if "crop" in mode:
            steps.append(A.RandomCrop(crop_size, crop_size))
        if flip:
            steps.append(A.HorizontalFlip(p=0.5))
        extra = {name: "mask" if name in ids else "image" for name in targets[1:]}
        self.compose = A.Compose(steps, additional_targets=extra) if steps else None

    def __call__(self, images: dict[str, np.ndarray], seed: int, source: str = "") -> dict[str, torch.Tensor]:
        first = images[self.targets[0]]
        problem = crop_error(*first.shape[:2], self.mode, self.load_size, self.crop_size)
        if problem:
            raise ValueError(f"{source} ({first.shape[1]}x{first.shape[0]}): {problem}")
        h, w = preprocess_size(*first.shape[:2], self.mode, self.load_size, self.crop_size, self.multiple)
        resized = {k: resize_nearest(v, h, w) if k in self.ids else resize(v, h, w) for k, v in images.items()}
        if self.compose is not None:
            self.compose.set_random_seed(seed)
            named = {"image" if k == self.targets[0] else k: v for k, v in resized.items()}
            out = self.compose(**named)
            resized = {k: out["image" if k == self.targets[0] else k] for k in resized}
        return {k: torch.from_numpy(np.ascontiguousarray(v.transpose(2, 0, 1))).long() if k in self.ids
                else to_tensor(v) for k, v in resized.items()}


def sample_seed(run_seed: int, epoch: int, index: int) -> int:
    """A 32-bit seed per (run, epoch, sample) that does not collide for neighbouring values."""
    rng = np.random.SeedSequence([run_seed & 0xFFFFFFFF, epoch, index])
    return int(rng.generate_state(1)[0])
