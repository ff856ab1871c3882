"""Exponential moving average of a generator's weights (Polyak averaging for GANs: Yazici et al. 2019;
Karras et al. 2018, sec. 3). Sampling from the average gives smoother, often better images than the last
iterate; the trained net itself is untouched."""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, net: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.net, self.decay, self.updates = net, decay, 0
        self.average = copy.deepcopy(net).eval().requires_grad_(False)

    def current_decay(self) -> float:
        # Warm-up (as TensorFlow's ExponentialMovingAverage with num_updates): early on, when the weights
        # move fast, average over fewer steps, so a short run's average is not dominated by the random init.
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self) -> None:
        """Move the average towards the net's current weights; buffers (norm statistics) are copied."""
        self.updates += 1
        weight = 1.0 - self.current_decay()
        torch._foreach_lerp_(list(self.average.parameters()), list(self.net.parameters()), weight)
        for mine, theirs in zip(self.average.buffers(), self.net.buffers()):
            mine.copy_(theirs)

    def load(self, weights: dict, updates: int) -> None:
        self.average.load_state_dict(weights)
        self.updates = updates
