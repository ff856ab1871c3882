"""EBGAN's discriminators (Zhao, Mathieu & LeCun 2017): an auto-encoder whose reconstruction error is the energy,
low on the data manifold and high elsewhere.

    D(x, labels=None) -> energies (N,) >= 0: ||Dec(Enc(x)) - x||, the L2 norm of each image's reconstruction error
    D(x, labels, return_codes=True) -> (energies, codes (N, F)): Enc(x) flattened, the pulling-away term's S
    D.reconstruct(x, labels=None) -> Dec(Enc(x))

The energy is the paper's ||Dec(Enc(x)) - x|| read literally, a norm: it grows with the image side (the square
root of the pixel count), as the paper's margins do (20 at 64 px, 40 at 128 px, 80 at 256 px). The decoder ends
in a plain layer, no tanh: a reconstruction can then reach the -1 of a background exactly.

mlp_ae: Enc C*H*W -> ndf * 2^(n_layers-1) -> ... -> ndf (the code), Dec the mirror back to C*H*W; LeakyReLU 0.2
    after each layer but the last, batch norm (norm="batch") on every hidden layer but the input's.
dcgan_ae: the paper's 64 px auto-encoder, (64)4c2s-(128)4c2s-(256)4c2s then (128)4c2s-(64)4c2s-(C)4c2s, with
    ndf in place of 64: n_layers stride-2 4x4 convs doubling from ndf (LeakyReLU 0.2, norm on all but the first)
    and as many transposed convs back (norm, ReLU; none after the last). The code is the last feature map.
condition="concat" appends the label embedding to the encoder's input, as the sample discriminators do.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .dcgan import DCGANDiscriminator
from .layers import check_count, norm_layer
from .mlp import MLPDiscriminator
from .noise import SampleDiscriminator
from .registry import register_class


def energy(x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """||reconstruction - x|| per image, (N,), in float32 (a sum over many pixels)."""
    return (reconstruction.float() - x.float()).flatten(1).norm(dim=1)


class AutoEncoderDiscriminator(SampleDiscriminator):
    """Base of the auto-encoder discriminators: subclasses build `self.main` (the encoder, SampleDiscriminator's
    trunk) and `self.decoder`."""

    def __init__(self, name: str, in_channels: int, image_size: int, n_classes: int, embed_dim: Optional[int],
                 condition: str):
        if condition == "projection":  # a projection adds to one score; an auto-encoder has none to add it to
            raise ValueError(f"{name} auto-encoder discriminator: condition='projection' needs a score head; "
                             "use condition='concat'")
        super().__init__(name, in_channels, image_size, n_classes, embed_dim, condition)

    def trunk(self, x: torch.Tensor, code: Optional[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def reconstruct(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.decoder(self.hidden(x, labels)).view_as(x)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None, return_codes: bool = False):
        codes = self.hidden(x, labels)
        energies = energy(x, self.decoder(codes).view_as(x))
        return (energies, codes.flatten(1)) if return_codes else energies


class MLPAutoEncoder(AutoEncoderDiscriminator):
    def __init__(self, in_channels: int = 1, image_size: int = 28, ndf: int = 256, n_layers: int = 3,
                 norm: str = "none", n_classes: int = 0, embed_dim: Optional[int] = None, condition: str = "concat"):
        super().__init__("mlp_ae", in_channels, image_size, n_classes, embed_dim, condition)
        check_count("image_size", image_size, 1)
        check_count("n_layers", n_layers, 1)
        if norm not in ("batch", "none"):
            raise ValueError(f"mlp_ae takes norm 'batch' or 'none' (no feature maps for instance norm), got {norm!r}")

        def hidden(width: int, first: bool) -> list[nn.Module]:
            return [nn.BatchNorm1d(width)] if norm == "batch" and not first else []

        pixels = in_channels * image_size ** 2
        widths = [ndf * 2 ** (n_layers - 1 - i) for i in range(n_layers)]  # 1024, 512, 256 for ndf 256
        encoder, width = [], pixels + self.label_channels
        for i, out in enumerate(widths):
            encoder += [nn.Linear(width, out), *hidden(out, i == 0), nn.LeakyReLU(0.2, True)]
            width = out
        decoder = []
        for out in widths[-2::-1]:
            decoder += [nn.Linear(width, out), *hidden(out, False), nn.LeakyReLU(0.2, True)]
            width = out
        self.main = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder, nn.Linear(width, pixels))

    trunk = MLPDiscriminator.trunk  # the encoder reads x (and the label code) as mlp's D does: self.main


class DCGANAutoEncoder(AutoEncoderDiscriminator):
    def __init__(self, in_channels: int = 3, image_size: int = 64, ndf: int = 64, n_layers: int = 3,
                 norm: str = "batch", n_classes: int = 0, embed_dim: Optional[int] = None, condition: str = "concat"):
        super().__init__("dcgan_ae", in_channels, image_size, n_classes, embed_dim, condition)
        check_count("n_layers", n_layers, 1)
        if not isinstance(image_size, int) or image_size % 2 ** n_layers:
            raise ValueError(f"dcgan_ae halves its input {n_layers} times: image_size must be a multiple of "
                             f"{2 ** n_layers}, got {image_size!r}")
        bias, make_norm = norm != "batch", norm_layer(norm)
        encoder = [nn.Conv2d(in_channels + self.label_channels, ndf, 4, 2, 1, bias=bias), nn.LeakyReLU(0.2, True)]
        width = ndf
        for _ in range(n_layers - 1):
            encoder += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=bias), make_norm(width * 2), nn.LeakyReLU(0.2, True)]
            width *= 2
        decoder = []
        for _ in range(n_layers - 1):
            decoder += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=bias), make_norm(width // 2),
                        nn.ReLU(True)]
            width //= 2
        self.main = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder, nn.ConvTranspose2d(width, in_channels, 4, 2, 1))

    trunk = DCGANDiscriminator.trunk  # the label code tiled as channels, then self.main, as dcgan's D


mlp_ae_discriminator = register_class("discriminator", "mlp_ae", MLPAutoEncoder)
dcgan_ae_discriminator = register_class("discriminator", "dcgan_ae", DCGANAutoEncoder)
