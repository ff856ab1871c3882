"""Discriminator regularizers a phase adds to its loss terms, and weight clipping, a post-step hook.

Each penalty is called with the critic (any callable returning scores, or (scores, ...) like StarGAN's D)
and image batches, plus any extra inputs the critic takes (labels). Each returns the weighted term, ready
to add. Images are detached: a penalty trains the critic only.
"""
from __future__ import annotations

import torch
from torch import nn


def _scores(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def _input_gradients(critic, points: torch.Tensor, extra_inputs) -> torch.Tensor:
    """d(sum of scores)/d(points), kept in the graph so the penalty itself can be differentiated."""
    points = points.detach().requires_grad_(True)
    scores = _scores(critic(points, *extra_inputs)).float()
    (grad,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
    return grad.flatten(1).float()


class GradientPenalty:
    """WGAN-GP (Gulrajani et al. 2017, eq. 3): weight * E[(||grad D(x_hat)||_2 - 1)^2], x_hat between real and fake."""

    def __init__(self, weight: float = 10.0):
        self.weight = weight

    def __call__(self, critic, real: torch.Tensor, fake: torch.Tensor, *extra_inputs) -> torch.Tensor:
        alpha = torch.rand(real.size(0), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
        mixed = alpha * real.detach() + (1 - alpha) * fake.detach()
        grad = _input_gradients(critic, mixed, extra_inputs)
        return self.weight * ((grad.norm(2, dim=1) - 1.0) ** 2).mean()


class DRAGAN:
    """DRAGAN (Kodali et al. 2017): the same penalty, on points scattered around the real data only.

    x_hat = x + alpha * delta with delta = scale * std(x) * U[0, 1), as the authors' code does.
    """

    def __init__(self, weight: float = 10.0, scale: float = 0.5):
        self.weight, self.scale = weight, scale

    def __call__(self, critic, real: torch.Tensor, fake: torch.Tensor | None = None, *extra_inputs) -> torch.Tensor:
        real = real.detach()
        perturbed = real + self.scale * real.std() * torch.rand_like(real)
        alpha = torch.rand(real.size(0), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
        grad = _input_gradients(critic, real + alpha * (perturbed - real), extra_inputs)
        return self.weight * ((grad.norm(2, dim=1) - 1.0) ** 2).mean()


class R1:
    """R1 (Mescheder et al. 2018, eq. 9): gamma / 2 * E[||grad D(x_real)||^2], pulling D flat on real data.

    `every` > 1 is lazy regularization (Karras et al. 2020, sec. 3.1): the model runs the penalty in its own
    phase every `every` steps with weight `every` (Phase(every=r1.every, weight=r1.every)), so on average it
    pulls as hard as when run every step, at a fraction of the cost. StyleGAN2 also scales that optimizer's
    lr by c = every / (every + 1) and its betas to the power c; set them so in its OptimizerSpec if wanted.
    """

    def __init__(self, gamma: float = 10.0, every: int = 1):
        if every < 1:
            raise ValueError(f"R1 interval must be >= 1, got {every}")
        self.gamma, self.every = gamma, every

    def __call__(self, critic, real: torch.Tensor, fake: torch.Tensor | None = None, *extra_inputs) -> torch.Tensor:
        grad = _input_gradients(critic, real, extra_inputs)
        return 0.5 * self.gamma * grad.pow(2).sum(dim=1).mean()


class WeightClipping:
    """Clamp every parameter of `net` to [-c, c] after each step: the original WGAN's Lipschitz constraint
    (Arjovsky et al. 2017, algorithm 1, c = 0.01). Use as a phase's `after_step` hook."""

    def __init__(self, net: nn.Module, clip: float = 0.01):
        if clip <= 0:
            raise ValueError(f"clip value must be > 0, got {clip}")
        self.net, self.clip = net, clip

    @torch.no_grad()
    def __call__(self) -> None:
        for p in self.net.parameters():
            p.clamp_(-self.clip, self.clip)


def orthogonal_regularization(weights) -> torch.Tensor:
    """BigGAN's orthogonal regularization (Brock et al. 2019, eq. 3) on each weight of at least two axes, W taken as
    (out, everything else): 1/2 ||W W^T ⊙ (1 - I)||_F^2, summed. Only the rows' inner products with each other are
    pushed to 0, not their norms to 1. The 1/2 makes its gradient 2 (W W^T ⊙ (1 - I)) W, the one BigGAN-PyTorch's
    utils.ortho adds to the gradients; the paper's beta ||.||^2 is twice that. Unweighted: the caller scales it."""
    total = None
    for weight in weights:
        if weight.dim() < 2:
            continue
        w = weight.flatten(1).float()
        gram = w @ w.t()
        off_diagonal = gram - torch.diag_embed(torch.diagonal(gram))
        term = 0.5 * off_diagonal.pow(2).sum()
        total = term if total is None else total + term
    if total is None:
        raise ValueError("orthogonal regularization needs at least one weight with two or more axes")
    return total
