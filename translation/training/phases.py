"""What a model declares to the engine: optimizer specs and update phases (no gradient code here).

A model says *what* to optimise: which nets each optimizer holds and with which hyper-parameters, and in
which order its phases run, how often, and which named loss terms each minimises. The engine
(training/engine.py) does *how*: freezing, zeroing, autocast, scaling, backward, stepping, hooks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch

from translation.names import OPTIMIZERS


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer over the parameters of `nets` (several nets may share one, as CycleGAN's two Gs)."""

    nets: tuple[str, ...]
    kind: str = "adam"                       # adam | rmsprop | sgd | adadelta
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Adam's moment decays (DCGAN's beta1 0.5)
    momentum: float = 0.0                    # SGD / RMSprop
    alpha: float = 0.99                      # RMSprop's squared-gradient decay
    rho: float = 0.9                         # Adadelta's decay of both running averages (torch's default)
    eps: float = 1e-8
    weight_decay: float = 0.0

    def __post_init__(self):
        if self.kind not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.kind!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.lr <= 0:
            raise ValueError(f"learning rate must be > 0, got {self.lr}")


def build_optimizer(spec: OptimizerSpec, params: Iterable[torch.nn.Parameter],
                    device: torch.device) -> torch.optim.Optimizer:
    """The torch optimizer for `spec`. Adam and SGD use the fused kernels where the device has them: one
    pass over the weights instead of several (about 5x faster for unet_256 on a CPU), same update rule."""
    params = list(params)
    fused = device.type in ("cpu", "cuda")
    if spec.kind == "adam":
        return torch.optim.Adam(params, lr=spec.lr, betas=spec.betas, eps=spec.eps,
                                weight_decay=spec.weight_decay, fused=fused)
    if spec.kind == "sgd":
        return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay,
                               fused=fused)
    if spec.kind == "adadelta":
        return torch.optim.Adadelta(params, lr=spec.lr, rho=spec.rho, eps=spec.eps, weight_decay=spec.weight_decay)
    return torch.optim.RMSprop(params, lr=spec.lr, alpha=spec.alpha, eps=spec.eps, momentum=spec.momentum,
                               weight_decay=spec.weight_decay)


LossTerms = dict  # {name: scalar tensor}; the phase minimises weight * their sum


@dataclass(frozen=True)
class Phase:
    """One update: train `nets` with `optimizer` on the terms `loss(outputs)` returns.

    `outputs` is what the model's shared forward returned this step. All other nets are frozen while the
    phase runs. The phase runs on steps where (step + 1) % every == 0 (every=5: the generator of WGAN and
    StarGAN, once per five critic steps) and minimises weight * sum(terms); terms are logged unweighted.
    `start`/`stop`: it runs only on steps start <= step < stop (stop None: to the end), so a model can train in
    stages by step (GLCIC: G alone, then D alone, then both); a pure function of the step, so a resumed run
    picks the phases an uninterrupted one would.
    """

    name: str
    nets: tuple[str, ...]
    optimizer: str
    loss: Callable[[dict], LossTerms]
    every: int = 1
    weight: float = 1.0
    after_step: tuple[Callable[[], None], ...] = field(default=())  # e.g. weight clipping
    # (prefix, step): the parameters named "net.param..." that start with prefix are not trained before that
    # step (pix2pixHD's --niter-fix-global: the local enhancer's global part, "G.model."); they get no gradient,
    # so the optimizer leaves them, and their moments, alone until then
    frozen_until: tuple[tuple[str, int], ...] = field(default=())
    start: int = 0
    stop: int | None = None

    def __post_init__(self):
        if self.every < 1:
            raise ValueError(f"phase {self.name}: every must be >= 1, got {self.every}")
        if self.start < 0 or (self.stop is not None and self.stop <= self.start):
            raise ValueError(f"phase {self.name}: steps {self.start} to {self.stop} are not a range of steps")

    def due(self, step: int) -> bool:
        within = self.start <= step and (self.stop is None or step < self.stop)
        return within and (step + 1) % self.every == 0

    def frozen_at(self, step: int) -> tuple[str, ...]:
        """The parameter-name prefixes this phase does not train at `step`."""
        return tuple(prefix for prefix, until in self.frozen_until if step < until)
