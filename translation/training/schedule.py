"""Iteration order and learning-rate schedule, both pure functions of the step number.

Being pure functions of `step` is what makes resume exact: nothing about the data order or the learning
rate has to be saved beyond the step itself.
"""
from __future__ import annotations

import math

import numpy as np
from torch.utils.data import Sampler

from translation.data.transforms import sample_seed


def linear_decay_factor(unit: int, n_constant: int, n_decay: int) -> float:
    """The official pix2pix/CycleGAN rule: 1 for n_constant units, then linearly towards 0 over n_decay.

    `unit` counts from 0; unit n_constant gets 1 - 1/(n_decay+1) and the last unit 1/(n_decay+1),
    as in the official `lambda_rule` stepped once per epoch.
    """
    return 1.0 - max(0, unit + 1 - n_constant) / float(n_decay + 1)


class Schedule:
    """Run length and learning-rate factor, by epochs (official) or by iterations (--steps)."""

    def __init__(self, dataset_size: int, batch_size: int, epochs: int, epochs_decay: int, steps: int = 0):
        self.steps_per_epoch = max(1, math.ceil(dataset_size / batch_size))
        self.by_steps = steps > 0
        if self.by_steps:
            # keep the epochs : epochs_decay proportion of the paper's schedule
            self.total_steps = steps
            self.decay_units = round(steps * epochs_decay / max(1, epochs + epochs_decay))
            self.constant_units = steps - self.decay_units
        else:
            self.total_steps = (epochs + epochs_decay) * self.steps_per_epoch
            self.constant_units, self.decay_units = epochs, epochs_decay

    def epoch(self, step: int) -> int:
        return step // self.steps_per_epoch

    def lr_factor(self, step: int) -> float:
        unit = step if self.by_steps else self.epoch(step)
        return linear_decay_factor(unit, self.constant_units, self.decay_units)


class TrainingOrder(Sampler):
    """Batches of (index, augmentation seed) keys from `start_step` to `total_steps`.

    Each epoch is a fresh permutation drawn from (seed, epoch); the last batch of an epoch may be short,
    as with the official loader. Resuming at any step yields exactly the remaining batches.
    """

    def __init__(self, dataset_size: int, batch_size: int, seed: int, start_step: int, total_steps: int,
                 shuffle: bool = True):
        self.n, self.batch_size, self.seed, self.shuffle = dataset_size, batch_size, seed, shuffle
        self.start, self.total = start_step, total_steps
        self.steps_per_epoch = max(1, math.ceil(dataset_size / batch_size))

    def __len__(self) -> int:
        return max(0, self.total - self.start)

    def __iter__(self):
        step = self.start
        while step < self.total:
            epoch, position = divmod(step, self.steps_per_epoch)
            order = (np.random.default_rng([self.seed & 0xFFFFFFFF, epoch]).permutation(self.n) if self.shuffle
                     else np.arange(self.n))  # --serial-batches: file order
            for b in range(position, self.steps_per_epoch):
                if step >= self.total:
                    return
                chunk = order[b * self.batch_size:(b + 1) * self.batch_size]
                yield [(int(i), sample_seed(self.seed, epoch, int(i))) for i in chunk]
                step += 1
