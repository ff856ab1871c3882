"""Training-time geometry shared by paired and unpaired data: resize, random crop, flip.

The random part runs through albumentations with `additional_targets`, so the two halves of a pair
get the same crop and flip. Each sample is augmented with its own seed (derived from the run seed,
the epoch and the sample index): the result does not depend on worker processes, and a resumed run
sees exactly the crops an uninterrupted run would have seen.
"""
from __future__ import annotations

import albumentations as A
import numpy as np
import torch

from translation.data.arrays import resize, to_tensor

PREPROCESS_MODES = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")


def preprocess_size(height: int, width: int, mode: str, load_size: int, crop_size: int) -> tuple[int, int]:
    """Size an image is resized to before cropping (the official code's `preprocess` rules)."""
    if mode == "resize_and_crop":
        return load_size, load_size
    if mode in ("scale_width", "scale_width_and_crop"):
        target_w = load_size
        target_h = max(int(round(load_size * height / width)), crop_size)
        return target_h, target_w
    if mode == "none":  # sizes a multiple of 4 so the ResNet generator's strides line up
        return max(4, int(round(height / 4)) * 4), max(4, int(round(width / 4)) * 4)
    return height, width  # "crop"


class PairTransform:
    """Resize, crop and flip a set of aligned images identically; returns tensors in [-1, 1]."""

    def __init__(self, mode: str = "resize_and_crop", load_size: int = 286, crop_size: int = 256,
                 flip: bool = True, targets: tuple[str, ...] = ("A", "B")):
        if mode not in PREPROCESS_MODES:
            raise ValueError(f"unknown preprocess {mode!r}; choose one of {', '.join(PREPROCESS_MODES)}")
        self.mode, self.load_size, self.crop_size, self.flip = mode, load_size, crop_size, flip
        self.targets = targets
        steps = []
        if "crop" in mode:
            steps.append(A.RandomCrop(crop_size, crop_size))
        if flip:
            steps.append(A.HorizontalFlip(p=0.5))
        extra = {name: "image" for name in targets[1:]}
        self.compose = A.Compose(steps, additional_targets=extra) if steps else None

    def __call__(self, images: dict[str, np.ndarray], seed: int, source: str = "") -> dict[str, torch.Tensor]:
        first = images[self.targets[0]]
        h, w = preprocess_size(*first.shape[:2], self.mode, self.load_size, self.crop_size)
        if "crop" in self.mode and (h < self.crop_size or w < self.crop_size):
            raise ValueError(f"{source}: image is {first.shape[0]}x{first.shape[1]} (x{h}x{w} after "
                             f"resizing), smaller than --crop-size {self.crop_size}")
        resized = {k: resize(v, h, w) for k, v in images.items()}
        if self.compose is not None:
            self.compose.set_random_seed(seed)
            named = {"image" if k == self.targets[0] else k: v for k, v in resized.items()}
            out = self.compose(**named)
            resized = {k: out["image" if k == self.targets[0] else k] for k in resized}
        return {k: to_tensor(v) for k, v in resized.items()}


def sample_seed(run_seed: int, epoch: int, index: int) -> int:
    """A 32-bit seed per (run, epoch, sample) that does not collide for neighbouring values."""
    rng = np.random.SeedSequence([run_seed & 0xFFFFFFFF, epoch, index])
    return int(rng.generate_state(1)[0])
