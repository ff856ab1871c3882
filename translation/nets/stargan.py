"""StarGAN generator and discriminator (Choi et al. 2018), as the official yunjey/stargan model.py.

Attribute names and Sequential indices are the official ones, so `{iter}-G.ckpt` / `{iter}-D.ckpt`
(keys `main.N.*`, and `conv1.*`, `conv2.*` for D) load with load_state_dict as they are. The official
code keeps PyTorch's default layer initialisation: build these with init="pytorch" to do the same.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import check_count, check_size_multiple
from .registry import register_as


def _instance_norm(channels: int) -> nn.InstanceNorm2d:
    # Official: affine, and running stats are tracked (saved in the files) although its test runs the
    # generator in train mode, i.e. on per-image statistics.
    return nn.InstanceNorm2d(channels, affine=True, track_running_stats=True)


class StarGANResidualBlock(nn.Module):
    """conv3x3-IN-ReLU-conv3x3-IN plus the input; zero padding, no bias (the norm's shift replaces it)."""

    def __init__(self, dim: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=1, bias=False), _instance_norm(dim),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=1, bias=False), _instance_norm(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


class StarGANGenerator(nn.Module):
    """G(x, labels): the target-domain labels are tiled over the image and concatenated as extra channels."""

    size_multiple = 4  # two 4x4 stride-2 convs; the transposed convs restore exactly 4x that

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_labels: int = 5,
                 n_blocks: int = 6):
        super().__init__()
        check_count("n_labels", n_labels, 1)
        check_count("n_blocks", n_blocks, 0)
        self.n_labels = n_labels
        layers = [nn.Conv2d(in_channels + n_labels, ngf, kernel_size=7, stride=1, padding=3, bias=False),
                  _instance_norm(ngf), nn.ReLU(inplace=True)]
        dim = ngf
        for _ in range(2):
            layers += [nn.Conv2d(dim, dim * 2, kernel_size=4, stride=2, padding=1, bias=False),
                       _instance_norm(dim * 2), nn.ReLU(inplace=True)]
            dim *= 2
        layers += [StarGANResidualBlock(dim) for _ in range(n_blocks)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(dim, dim // 2, kernel_size=4, stride=2, padding=1, bias=False),
                       _instance_norm(dim // 2), nn.ReLU(inplace=True)]
            dim //= 2
        layers += [nn.Conv2d(dim, out_channels, kernel_size=7, stride=1, padding=3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if labels.dim() != 2 or labels.shape != (x.shape[0], self.n_labels):
            raise ValueError(f"stargan: labels must have shape (batch, n_labels) = ({x.shape[0]}, {self.n_labels}), "
                             f"got {tuple(labels.shape)}")
        check_size_multiple(x, self.size_multiple, "stargan")
        tiled = labels.to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.main(torch.cat([x, tiled], dim=1))


class StarGANDiscriminator(nn.Module):
    """D(x) -> (src, cls): a PatchGAN real/fake map and per-image domain logits from one shared trunk."""

    def __init__(self, in_channels: int = 3, image_size: int = 128, ndf: int = 64, n_labels: int = 5,
                 n_layers: int = 6):
        super().__init__()
        check_count("n_labels", n_labels, 1)
        check_count("image_size", image_size, 1)
        if image_size % 2 ** n_layers:
            raise ValueError(f"stargan discriminator: image_size {image_size} must be a multiple of "
                             f"2**n_layers = {2 ** n_layers} (its classifier sees the whole last feature map)")
        self.image_size = image_size
        layers, dim = [], in_channels
        for n in range(n_layers):  # widths are not capped, unlike the pix2pix PatchGAN
            layers += [nn.Conv2d(dim, ndf * 2 ** n, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.01)]
            dim = ndf * 2 ** n
        self.main = nn.Sequential(*layers)
        self.conv1 = nn.Conv2d(dim, 1, kernel_size=3, stride=1, padding=1, bias=False)
        self.conv2 = nn.Conv2d(dim, n_labels, kernel_size=image_size // 2 ** n_layers, bias=False)

    def forward(self, x: torch.Tensor):
        size = self.image_size
        if not (torch.jit.is_tracing() or torch.compiler.is_compiling()) and tuple(x.shape[-2:]) != (size, size):
            raise ValueError(f"stargan discriminator was built for {size}x{size} images (image_size), "
                             f"got {x.shape[-2]}x{x.shape[-1]}")
        h = self.main(x)
        return self.conv1(h), self.conv2(h).flatten(1)


@register_as("generator", "stargan")
def stargan_generator(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_labels: int = 5,
                      n_blocks: int = 6) -> nn.Module:
    return StarGANGenerator(in_channels, out_channels, ngf=ngf, n_labels=n_labels, n_blocks=n_blocks)


@register_as("discriminator", "stargan")
def stargan_discriminator(in_channels: int = 3, image_size: int = 128, ndf: int = 64, n_labels: int = 5,
                          n_layers: int = 6) -> nn.Module:
    return StarGANDiscriminator(in_channels, image_size, ndf=ndf, n_labels=n_labels, n_layers=n_layers)
