"""Layers that let a discriminator compare the samples of a batch, against mode collapse.

Both take features (N, C) or feature maps (N, C, H, W) and append per-sample statistics of the batch as extra
features (channels, tiled over the map): a generator that emits one image for every z gives batches with
tell-tale statistics that D can then see.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import check_count


def _tile_like(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(N, K) per-sample values as K extra channels of x's shape: constant over H and W."""
    return values.to(x.dtype).reshape(*values.shape, *[1] * (x.dim() - 2)).expand(*values.shape, *x.shape[2:])


class MinibatchStdDev(nn.Module):
    """Karras et al. 2018 (ProGAN, sec. 3): one extra channel holding the mean standard deviation over a group.

    The batch is split into groups of `group_size` (sample i in group i mod N/group_size, as the official code);
    in each group the std of every feature over the group is averaged into one number, which all the group's
    samples get. A batch that `group_size` does not divide uses the largest divisor below it (1: the value is
    then ~0 and carries nothing, rather than failing on the last, smaller batch of an epoch).
    """

    def __init__(self, group_size: int = 4):
        super().__init__()
        check_count("minibatch_std_group", group_size, 1)
        self.group_size = group_size
        self.extra_features = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        group = next(g for g in range(min(self.group_size, n), 0, -1) if n % g == 0)
        y = x.float().reshape(group, n // group, *x.shape[1:])
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().flatten(1).mean(1)  # (n // group,)
        return torch.cat([x, _tile_like(std.repeat(group)[:, None], x)], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016 (sec. 3.2): `kernels` closeness scores of each sample to the rest of the batch.

    f(x_i) (feature maps are averaged over H, W first) is projected by a learned tensor T to M_i (kernels x
    kernel_dim); o(x_i)_b = sum over j != i of exp(-||M_i,b - M_j,b||_1). The sum skips the sample itself, as
    the authors' code does (the paper's formula includes a constant exp(0) = 1). T is a bias-free Linear, so
    init and spectral norm reach it like any other layer.
    """

    def __init__(self, in_features: int, kernels: int, kernel_dim: int = 5):
        super().__init__()
        check_count("minibatch_discrimination", kernels, 1)
        check_count("minibatch_kernel_dim", kernel_dim, 1)
        self.kernels, self.kernel_dim, self.extra_features = kernels, kernel_dim, kernels
        self.T = nn.Linear(in_features, kernels * kernel_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = x.flatten(2).mean(2) if x.dim() > 2 else x
        m = self.T(f).float().view(-1, self.kernels, self.kernel_dim)  # (N, B, C); fp32 for the exp-sums
        l1 = (m[:, None] - m[None]).abs().sum(-1)  # (N, N, B): every pair, every kernel
        closeness = torch.exp(-l1).sum(1) - 1.0  # minus the pair (i, i), where exp(-0) = 1
        return torch.cat([x, _tile_like(closeness, x)], dim=1)
