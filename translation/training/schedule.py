"""Iteration order and learning-rate schedule, both pure functions of the step number.

Being pure functions of `step` is what makes resume exact: nothing about the data order or the learning
rate has to be saved beyond the step itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from torch.utils.data import Sampler

from translation.data.transforms import sample_seed


def linear_decay_factor(unit: int, n_constant: int, n_decay: int) -> float:
    """The official pix2pix/CycleGAN rule: 1 for n_constant units, then linearly towards 0 over n_decay.

    `unit` counts from 0; unit n_constant gets 1 - 1/(n_decay+1) and the last unit 1/(n_decay+1),
    as in the official `lambda_rule` stepped once per epoch.
    """
    return 1.0 - max(0, unit + 1 - n_constant) / float(n_decay + 1)


def cosine_restart_factor(iteration: int, total: int, cycles: int, floor: float) -> float:
    """BasicSR's CosineAnnealingRestartLR over `cycles` equal periods of `total` iterations, restart weights 1:
    from 1 down to `floor` (eta_min / lr) along half a cosine in each period. `iteration` counts from 1, as
    BasicSR's scheduler after its step at the start of each iteration; the last of a period reaches the floor."""
    bounds = [round(total * (k + 1) / cycles) for k in range(cycles)]
    k = next((i for i, bound in enumerate(bounds) if iteration <= bound), cycles - 1)
    start = bounds[k - 1] if k else 0
    period = max(1, bounds[k] - start)
    return floor + 0.5 * (1.0 - floor) * (1.0 + math.cos(math.pi * (iteration - start) / period))


def multistep_factor(iteration: int, total: int, milestones, gamma: float) -> float:
    """BasicSR's MultiStepRestartLR (no restarts): times gamma from each milestone on, the milestones given as
    fractions of the `total` iterations; `iteration` counts from 1 as above (milestone m: iteration m on)."""
    return gamma ** sum(1 for fraction in milestones if round(fraction * total) <= iteration)


@dataclass(frozen=True)
class LRPolicy:
    """Which learning-rate rule a run follows (a model config's lr_* options; others: the official linear)."""

    kind: str = "linear"  # linear | cosine | multistep
    cycles: int = 1  # cosine: equal periods, each restarting at the full rate
    floor: float = 0.0  # cosine: the lowest factor
    milestones: tuple[float, ...] = ()  # multistep: fractions of the run
    gamma: float = 0.5  # multistep: the factor at each milestone


def lr_policy_of(config) -> LRPolicy:
    """The policy a config asks for: models without the lr_policy option decay linearly, as the official code."""
    kind = getattr(config, "lr_policy", "linear")
    if kind == "linear":
        return LRPolicy()
    return LRPolicy(kind, cycles=config.lr_restarts, floor=config.lr_min / config.lr,
                    milestones=tuple(config.lr_milestones), gamma=config.lr_gamma)


class Schedule:
    """Run length and learning-rate factor, by epochs (official) or by iterations (--steps); the factor follows
    the official linear decay, or `policy`'s cosine or multistep rule over all the run's steps."""

    def __init__(self, dataset_size: int, batch_size: int, epochs: int, epochs_decay: int, steps: int = 0,
                 policy: LRPolicy = LRPolicy()):
        self.policy = policy
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
        policy = self.policy
        if policy.kind == "cosine":
            return cosine_restart_factor(step + 1, self.total_steps, policy.cycles, policy.floor)
        if policy.kind == "multistep":
            return multistep_factor(step + 1, self.total_steps, policy.milestones, policy.gamma)
        unit = step if self.by_steps else self.epoch(step)
        return linear_decay_factor(unit, self.constant_units, self.decay_units)


class TrainingOrder(Sampler):
    """Batches of (index, augmentation seed) keys from `start_step` to `total_steps`.

    Each epoch is a fresh permutation drawn from (seed, epoch); the last batch of an epoch may be short,
    as with the official loader. Resuming at any step yields exactly the remaining batches.

    With several processes (distributed.py) `batch_size` is the global batch and process `rank` of
    `world_size` gets its contiguous share of each batch; the batches themselves do not depend on the
    number of processes, which is what lets a run resume with another.
    """

    def __init__(self, dataset_size: int, batch_size: int, seed: int, start_step: int, total_steps: int,
                 shuffle: bool = True, rank: int = 0, world_size: int = 1):
        self.n, self.batch_size, self.seed, self.shuffle = dataset_size, batch_size, seed, shuffle
        self.start, self.total = start_step, total_steps
        self.rank, self.world_size = rank, world_size
        self.steps_per_epoch = max(1, math.ceil(dataset_size / batch_size))
        if batch_size % world_size:
            raise ValueError(f"--batch-size {batch_size} is the global batch: it must be a multiple of the "
                             f"{world_size} processes")
        last = dataset_size % batch_size
        if 0 < last < world_size:  # some process would get no sample of the epoch's last batch
            raise ValueError(f"the data set's {dataset_size} samples leave a last batch of {last} each epoch, "
                             f"fewer than the {world_size} processes; use --max-dataset-size "
                             f"{dataset_size - last} or another --batch-size")

    def global_batch(self, step: int) -> int:
        """How many samples the batch of `step` holds over all processes (the last of an epoch may be short)."""
        return min(self.batch_size, self.n - (step % self.steps_per_epoch) * self.batch_size)

    def share(self, step: int) -> float:
        """This process's fraction of the batch of `step`: it scales its loss by this before the gradients
        are summed over the processes, which makes the sum the gradient of the whole batch's mean loss."""
        start, end = self._share_bounds(self.global_batch(step))
        return (end - start) / self.global_batch(step)

    def _share_bounds(self, size: int) -> tuple[int, int]:
        # as np.array_split: the first (size % world_size) processes take one sample more
        base, extra = divmod(size, self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return start, start + base + (self.rank < extra)

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
                start, end = self._share_bounds(len(chunk))
                chunk = chunk[start:end]
                yield [(int(i), sample_seed(self.seed, epoch, int(i))) for i in chunk]
                step += 1
