"""PatchGAN discriminators (Isola et al. 2017, sec. 3.2.2): a map of real/fake logits, one per patch.

Module order follows the official NLayerDiscriminator / PixelDiscriminator so official weights load
key by key (`model.N.*`, `net.N.*`).
"""
from __future__ import annotations

from torch import nn

from .layers import conv_bias, norm_layer
from .registry import register_discriminator


class NLayerDiscriminator(nn.Module):
    """n_layers stride-2 4x4 convs, then two stride-1 ones; n_layers=3 sees 70x70 patches."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch"):
        super().__init__()
        bias = conv_bias(norm)
        make_norm = norm_layer(norm)
        layers = [nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)  # width doubles per level, capped at 8*ndf
            layers += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=2, padding=1, bias=bias),
                       make_norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=1, padding=1, bias=bias),
                   make_norm(ndf * mult), nn.LeakyReLU(0.2, True),
                   nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN: judges each pixel's colour alone (pix2pix paper, fig. 6)."""

    def __init__(self, in_channels: int, ndf: int = 64, norm: str = "batch"):
        super().__init__()
        bias = conv_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, ndf, kernel_size=1, stride=1, padding=0), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, stride=1, padding=0, bias=bias), norm_layer(norm)(ndf * 2),
            nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * 2, 1, kernel_size=1, stride=1, padding=0, bias=bias))

    def forward(self, x):
        return self.net(x)


# Builders: their signatures are the architecture options `create_discriminator` accepts. All three take
# n_layers so one set of model options builds any of them; only `n_layers` uses it.

@register_discriminator
def basic(in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> nn.Module:
    return NLayerDiscriminator(in_channels, ndf, n_layers=3, norm=norm)


@register_discriminator
def n_layers(in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> nn.Module:
    return NLayerDiscriminator(in_channels, ndf, n_layers=n_layers, norm=norm)


@register_discriminator
def pixel(in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> nn.Module:
    return PixelDiscriminator(in_channels, ndf, norm=norm)
