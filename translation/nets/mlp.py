"""The fully connected GAN of the classic MNIST example (the setting of Goodfellow et al. 2014).

Layout of the widely copied PyTorch version (D. Gómez Mosquera, "GANs from Scratch 1", 2018):
G: z(100) -> 256 -> 512 -> 1024 -> C*H*W, LeakyReLU 0.2 after each hidden layer (that reference's G uses
LeakyReLU too, not ReLU; followed here), tanh, reshaped to (C, H, W).
D: C*H*W -> 1024 -> 512 -> 256 -> 1, LeakyReLU 0.2 and dropout 0.3 after each hidden layer, a logit out
(the reference ends in a sigmoid; here the loss applies it); n_outputs > 1 gives that many scores instead.
Hidden layer i of G is ngf * 2^i wide and D mirrors it from ndf * 2^(n_layers-1): ngf = ndf = 256 and
n_layers = 3 are the example. norm="batch" adds BatchNorm1d where DCGAN puts norms (every hidden layer of G,
all but the first of D); "none" is the example. condition="concat" appends the label embedding to D's
flattened input.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .layers import check_count
from .noise import CriticHead, NoiseGenerator, SampleDiscriminator
from .registry import register_class


def _norm_1d(norm: str):
    """Factory `width -> norm module` for vectors."""
    if norm not in ("batch", "none"):
        raise ValueError(f"mlp nets take norm 'batch' or 'none' (no feature maps for instance norm), got {norm!r}")
    return nn.BatchNorm1d if norm == "batch" else (lambda width: nn.Identity())


class MLPGenerator(NoiseGenerator):
    def __init__(self, z_dim: int = 100, out_channels: int = 1, image_size: int = 28, ngf: int = 256,
                 n_layers: int = 3, norm: str = "none", n_classes: int = 0, embed_dim: Optional[int] = None):
        super().__init__("mlp", z_dim, out_channels, image_size, n_classes, embed_dim)
        check_count("image_size", image_size, 1)
        layers, width, make_norm = [], self.input_dim, _norm_1d(norm)
        for i in range(n_layers):
            layers += [nn.Linear(width, ngf * 2 ** i), make_norm(ngf * 2 ** i), nn.LeakyReLU(0.2, True)]
            width = ngf * 2 ** i
        layers += [nn.Linear(width, out_channels * image_size ** 2), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        return self.main(h).view(-1, *self.image_shape)


class MLPDiscriminator(SampleDiscriminator):
    def __init__(self, in_channels: int = 1, image_size: int = 28, ndf: int = 256, n_layers: int = 3,
                 norm: str = "none", dropout: float = 0.3, n_classes: int = 0, embed_dim: Optional[int] = None,
                 condition: str = "concat", minibatch_std: bool = False, minibatch_std_group: int = 4,
                 minibatch_discrimination: int = 0, minibatch_kernel_dim: int = 5, n_outputs: int = 1):
        super().__init__("mlp", in_channels, image_size, n_classes, embed_dim, condition)
        check_count("image_size", image_size, 1)
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        layers, width, make_norm = [], in_channels * image_size ** 2 + self.label_channels, _norm_1d(norm)
        for i in range(n_layers):
            out = ndf * 2 ** (n_layers - 1 - i)
            norm_here = make_norm(out) if i else nn.Identity()  # none on the input layer, as DCGAN's D
            layers += [nn.Linear(width, out), norm_here, nn.LeakyReLU(0.2, True), nn.Dropout(dropout)]
            width = out
        self.main = nn.Sequential(*layers)
        self.head = CriticHead(width, nn.Linear, self.projection_classes, minibatch_std, minibatch_std_group,
                               minibatch_discrimination, minibatch_kernel_dim, n_outputs)

    def trunk(self, x: torch.Tensor, code: Optional[torch.Tensor]) -> torch.Tensor:
        h = x.flatten(1)
        return self.main(h if code is None else torch.cat([h, code], dim=1))


mlp_generator = register_class("generator", "mlp", MLPGenerator)
mlp_discriminator = register_class("discriminator", "mlp", MLPDiscriminator)
