"""pix2pix U-Net and CycleGAN ResNet generators.

Module order and nesting follow the official pytorch-CycleGAN-and-pix2pix networks exactly, so
their state dicts load key by key (`model.model.1.model...` for the U-Net, `model.N...` for ResNet).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .layers import check_size_multiple, conv_bias, norm_layer
from .registry import register_generator


class UnetSkipConnectionBlock(nn.Module):
    """One U-Net level: down -> inner levels -> up, with its input concatenated to its output.

    Ronneberger et al. 2015 skips; pix2pix (Isola et al. 2017, sec. 3.2.1) with 4x4 stride-2 convs.
    """

    def __init__(self, outer_nc: int, inner_nc: int, input_nc: Optional[int] = None,
                 submodule: Optional[nn.Module] = None, outermost: bool = False, innermost: bool = False,
                 norm: str = "batch", dropout: bool = False):
        super().__init__()
        self.outermost = outermost
        bias = conv_bias(norm)
        make_norm = norm_layer(norm)
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=bias)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            layers = [downconv, submodule, nn.ReLU(True), upconv, nn.Tanh()]
        elif innermost:
            # The 1x1 bottleneck has no down norm: batch statistics of one pixel would be degenerate.
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), downconv, nn.ReLU(True), upconv, make_norm(outer_nc)]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), downconv, make_norm(inner_nc), submodule,
                      nn.ReLU(True), upconv, make_norm(outer_nc)]
            if dropout:
                layers.append(nn.Dropout(0.5))  # pix2pix's noise source (Isola et al. 2017, sec. 3.1)
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """U-Net with `num_downs` halvings: any H, W that are multiples of 2**num_downs work."""

    def __init__(self, in_channels: int, out_channels: int, num_downs: int, ngf: int = 64,
                 norm: str = "batch", dropout: bool = False):
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"U-Net needs num_downs >= 5, got {num_downs}")
        self.size_multiple = 2 ** num_downs
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):  # dropout only on these ngf*8 levels, as the official code
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, dropout=dropout)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(out_channels, ngf, input_nc=in_channels, submodule=block,
                                             outermost=True, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            check_size_multiple(x, self.size_multiple, f"unet_{self.size_multiple}")
        return self.model(x)


class ResnetBlock(nn.Module):
    """Residual block (He et al. 2016) with reflect padding against border artifacts (Johnson et al. 2016)."""

    def __init__(self, dim: int, norm: str = "batch", dropout: bool = False, bias: Optional[bool] = None):
        super().__init__()
        bias = conv_bias(norm) if bias is None else bias  # pix2pixHD's convs always have one
        make_norm = norm_layer(norm)
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, bias=bias), make_norm(dim), nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, bias=bias), make_norm(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """CycleGAN generator (Zhu et al. 2017, appendix 7.2): c7s1-ngf, two stride-2 downs, blocks, two ups."""

    size_multiple = 4  # two stride-2 convs; transposed convs restore exactly 4x that

    def __init__(self, in_channels: int, out_channels: int, ngf: int = 64, norm: str = "batch",
                 dropout: bool = False, n_blocks: int = 9):
        super().__init__()
        bias = conv_bias(norm)
        make_norm = norm_layer(norm)
        self.n_blocks = n_blocks
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, kernel_size=7, bias=bias),
                  make_norm(ngf), nn.ReLU(True)]
        for mult in (1, 2):
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=bias),
                       make_norm(ngf * mult * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4, norm=norm, dropout=dropout) for _ in range(n_blocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=2, padding=1,
                                          output_padding=1, bias=bias),
                       make_norm(ngf * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, kernel_size=7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            check_size_multiple(x, self.size_multiple, f"resnet_{self.n_blocks}blocks")
        return self.model(x)


# Builders, one per registered name; their signature is what `create_generator` accepts (and checks).

def _unet(num_downs: int):
    def build(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, norm: str = "batch",
              dropout: bool = False) -> nn.Module:
        return UnetGenerator(in_channels, out_channels, num_downs, ngf=ngf, norm=norm, dropout=dropout)

    build.__name__ = build.__qualname__ = f"unet_{2 ** num_downs}"
    return register_generator(build)


def _resnet(n_blocks: int):
    def build(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, norm: str = "batch",
              dropout: bool = False) -> nn.Module:
        return ResnetGenerator(in_channels, out_channels, ngf=ngf, norm=norm, dropout=dropout, n_blocks=n_blocks)

    build.__name__ = build.__qualname__ = f"resnet_{n_blocks}blocks"
    return register_generator(build)


unet_32, unet_64, unet_128, unet_256 = (_unet(num_downs) for num_downs in (5, 6, 7, 8))
resnet_6blocks, resnet_9blocks = (_resnet(n_blocks) for n_blocks in (6, 9))
