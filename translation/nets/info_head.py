"""InfoGAN's Q head (Chen et al. 2016): from D's last hidden features to the parameters of Q(c | x), the
distribution of the latent codes given an image. It sits on D's shared body, as in the official code's
"encoder_template": FC 128 -> batch norm -> LeakyReLU -> FC to the codes' parameters.

    Q(features (N, in_features)) -> (N, sum of the categorical codes' categories + continuous codes)

The first outputs are each categorical code's logits in turn, then one mean per continuous code (its standard
deviation is fixed at 1, as the official MNIST experiment's Uniform(1, fix_std=True) codes).
Registered as a discriminator: it is trained with D (see models/infogan.py).
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import check_count
from .registry import register_class


class CodeHead(nn.Module):
    def __init__(self, in_features: int = 1024, n_outputs: int = 12, hidden: int = 128, norm: str = "batch"):
        super().__init__()
        check_count("in_features", in_features, 1)
        check_count("n_outputs", n_outputs, 1)
        check_count("hidden", hidden, 1)
        if norm not in ("batch", "none"):
            raise ValueError(f"the Q head takes norm 'batch' or 'none' (it reads vectors), got {norm!r}")
        self.in_features = in_features
        self.main = nn.Sequential(nn.Linear(in_features, hidden),
                                  nn.BatchNorm1d(hidden) if norm == "batch" else nn.Identity(),
                                  nn.LeakyReLU(0.2, True), nn.Linear(hidden, n_outputs))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 2 or features.shape[1] != self.in_features:
            raise ValueError(f"the Q head reads D's features of shape (batch, {self.in_features}), got "
                             f"{tuple(features.shape)}")
        return self.main(features)


info_q = register_class("discriminator", "infogan_q", CodeHead)
