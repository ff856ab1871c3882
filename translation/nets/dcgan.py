"""DCGAN (Radford et al. 2016), laid out as the PyTorch DCGAN example at 64 px and one block more per doubling.

G: z -> 4x4 transposed conv to ngf * 2^(k-1) channels, k-1 stride-2 4x4 transposed convs halving the channels,
each followed by norm + ReLU, and a last stride-2 one to the image with tanh; k = log2(image_size) - 2 doublings
(3 at 32 px, 4 at 64 px as the example, 5 at 128 px).
D: the mirror: k stride-2 4x4 convs doubling from ndf with LeakyReLU 0.2, norm on all but the first, then a 4x4
valid conv to one logit (n_outputs > 1: that many). No pooling, no fully connected hidden layer.
attention=R puts a self-attention layer (SAGAN's, nets/attention.py) after the layer whose maps are R px, in G
and in D (0: none, as the paper).
Convs carry no bias before batch norm (its shift replaces it; the example's bias=False everywhere) and a bias
everywhere otherwise: the critics of WGAN-GP and SNGAN run with norm "none" and need their biases.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .attention import SelfAttention, attention_after
from .layers import norm_layer
from .noise import CriticHead, NoiseGenerator, SampleDiscriminator
from .registry import register_class


def doublings(image_size: int) -> int:
    """How many stride-2 layers take 4x4 to image_size (or back)."""
    if not isinstance(image_size, int) or image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"dcgan makes square images whose side is a power of two from 8 (32, 64, 128, ...), "
                         f"got image_size {image_size!r}")
    return image_size.bit_length() - 3


class DCGANGenerator(NoiseGenerator):
    def __init__(self, z_dim: int = 100, out_channels: int = 3, image_size: int = 64, ngf: int = 64,
                 norm: str = "batch", n_classes: int = 0, embed_dim: Optional[int] = None, attention: int = 0):
        super().__init__("dcgan", z_dim, out_channels, image_size, n_classes, embed_dim)
        k, bias, make_norm = doublings(image_size), norm != "batch", norm_layer(norm)
        attend = attention_after([4 * 2 ** i for i in range(k)], attention, f"the dcgan generator at {image_size} px")
        width = ngf * 2 ** (k - 1)
        layers = [nn.ConvTranspose2d(self.input_dim, width, 4, 1, 0, bias=bias), make_norm(width), nn.ReLU(True)]
        for i in range(k - 1):
            layers += [SelfAttention(width)] if attend[i] else []
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=bias), make_norm(width // 2),
                       nn.ReLU(True)]
            width //= 2
        layers += [SelfAttention(width)] if attend[-1] else []
        layers += [nn.ConvTranspose2d(width, out_channels, 4, 2, 1, bias=bias), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        return self.main(h[:, :, None, None])


class DCGANDiscriminator(SampleDiscriminator):
    """condition="concat" tiles the label embedding over the image as extra input channels."""

    def __init__(self, in_channels: int = 3, image_size: int = 64, ndf: int = 64, norm: str = "batch",
                 n_classes: int = 0, embed_dim: Optional[int] = None, condition: str = "concat",
                 minibatch_std: bool = False, minibatch_std_group: int = 4, minibatch_discrimination: int = 0,
                 minibatch_kernel_dim: int = 5, n_outputs: int = 1, attention: int = 0):
        super().__init__("dcgan", in_channels, image_size, n_classes, embed_dim, condition)
        k, bias, make_norm = doublings(image_size), norm != "batch", norm_layer(norm)
        attend = attention_after([image_size >> i for i in range(1, k + 1)], attention,
                                 f"the dcgan discriminator at {image_size} px")
        layers = [nn.Conv2d(in_channels + self.label_channels, ndf, 4, 2, 1, bias=bias), nn.LeakyReLU(0.2, True)]
        width = ndf
        for i in range(k - 1):
            layers += [SelfAttention(width)] if attend[i] else []
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=bias), make_norm(width * 2),
                       nn.LeakyReLU(0.2, True)]
            width *= 2
        layers += [SelfAttention(width)] if attend[-1] else []
        self.main = nn.Sequential(*layers)
        self.head = CriticHead(width, lambda c, n: nn.Conv2d(c, n, 4, 1, 0, bias=bias), self.projection_classes,
                               minibatch_std, minibatch_std_group, minibatch_discrimination, minibatch_kernel_dim,
                               n_outputs)

    def trunk(self, x: torch.Tensor, code: Optional[torch.Tensor]) -> torch.Tensor:
        if code is not None:
            x = torch.cat([x, code[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)
        return self.main(x)


dcgan_generator = register_class("generator", "dcgan", DCGANGenerator)
dcgan_discriminator = register_class("discriminator", "dcgan", DCGANDiscriminator)
