"""Conditional batch norm (de Vries et al. 2017; Dumoulin et al. 2017), as BigGAN-PyTorch's ccbn.

    y = BN(x) * (1 + gain(c)) + bias(c)

BN without an affine part of its own, keeping running statistics as torch's BatchNorm2d (so test mode and
export treat it as any batch norm); gain and bias per sample from the condition c: a class index through an
embedding per layer (BigGAN's CIFAR configuration), or a conditioning vector through a bias-free linear map
(BigGAN's shared class embedding, with its chunk of z under --hier). The gain is 1 + ..., so zero weights give
plain batch norm.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import check_count


class ConditionalBatchNorm2d(nn.Module):
    def __init__(self, channels: int, n_classes: int = 0, condition_dim: int = 0, eps: float = 1e-5,
                 momentum: float = 0.1):
        super().__init__()
        check_count("channels", channels, 1)
        check_count("n_classes", n_classes, 0)
        check_count("condition_dim", condition_dim, 0)
        if (n_classes > 0) == (condition_dim > 0):
            raise ValueError("conditional batch norm takes its gain and bias from class indices (n_classes) or from "
                             f"a conditioning vector (condition_dim), one of the two; got n_classes={n_classes}, "
                             f"condition_dim={condition_dim}")
        self.n_classes, self.condition_dim = n_classes, condition_dim
        if n_classes:
            self.gain, self.bias = nn.Embedding(n_classes, channels), nn.Embedding(n_classes, channels)
        else:
            self.gain = nn.Linear(condition_dim, channels, bias=False)
            self.bias = nn.Linear(condition_dim, channels, bias=False)
        self.norm = nn.BatchNorm2d(channels, eps=eps, momentum=momentum, affine=False)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(condition).to(x.dtype)[:, :, None, None]
        bias = self.bias(condition).to(x.dtype)[:, :, None, None]
        return self.norm(x) * gain + bias
