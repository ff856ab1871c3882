"""Self-attention over the positions of a feature map (SAGAN, Zhang et al. 2019), as BigGAN-PyTorch's Attention.

    theta = W_theta x          (C/8 channels, every position)
    phi   = maxpool2(W_phi x)  (C/8 channels, a quarter of the positions)
    g     = maxpool2(W_g x)    (C/2 channels, a quarter of the positions)
    beta  = softmax over the pooled positions of theta^T phi
    out   = x + gamma * W_o (g beta^T)

All four are bias-free 1x1 convs; gamma is a learned scalar that starts at 0, so a net with the layer computes
what it computed without it until training opens the gate. The released SAGAN/BigGAN code pools phi and g (the
paper does not say so), which is what this layer does. Any conv net can place one after a layer whose maps it
should attend over: `attention_after(resolutions, attention)` says which. Spectral norm reaches the convs as any
other (nets.layers.apply_spectral_norm).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        if not isinstance(channels, int) or channels < 8:
            raise ValueError(f"self-attention needs at least 8 channels (its query and key have channels // 8), "
                             f"got {channels!r}; widen the net or place the layer where it has more")
        self.channels = channels
        self.theta = nn.Conv2d(channels, channels // 8, 1, bias=False)
        self.phi = nn.Conv2d(channels, channels // 8, 1, bias=False)
        self.g = nn.Conv2d(channels, channels // 2, 1, bias=False)
        self.o = nn.Conv2d(channels // 2, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        theta = self.theta(x).flatten(2)  # (N, C/8, HW)
        phi = F.max_pool2d(self.phi(x), 2).flatten(2)  # (N, C/8, HW/4)
        g = F.max_pool2d(self.g(x), 2).flatten(2)  # (N, C/2, HW/4)
        beta = torch.softmax(torch.bmm(theta.transpose(1, 2), phi), dim=-1)  # (N, HW, HW/4)
        attended = torch.bmm(g, beta.transpose(1, 2)).reshape(n, self.channels // 2, h, w)
        return x + self.gamma * self.o(attended)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


def attention_after(resolutions: list[int], attention: int, net: str) -> list[bool]:
    """For a net whose successive layers (or blocks) output maps of `resolutions` px: where the one attention
    layer goes, after the first layer at `attention` px (0: nowhere). A resolution the net does not have is an
    error naming the ones it has."""
    if not isinstance(attention, int) or isinstance(attention, bool) or attention < 0:
        raise ValueError(f"attention must be a resolution in pixels or 0 (none), got {attention!r}")
    if attention == 0:
        return [False] * len(resolutions)
    usable = sorted({r for r in resolutions if r >= 2 and r % 2 == 0})  # the pooling halves the maps
    if attention not in usable:
        raise ValueError(f"attention {attention}: {net} has feature maps of {', '.join(map(str, usable))} px to "
                         "attend over")
    first = resolutions.index(attention)
    return [i == first for i in range(len(resolutions))]
