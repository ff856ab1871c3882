"""Super-resolution nets as XPixelGroup/BasicSR's archs: MSRResNet, RRDBNet (ESRGAN) and the VGG-style discriminator.

Attribute names follow BasicSR's (`conv_first`, `body.N.conv1`, `body.N.rdb1.conv1`, `upconv1`, `conv_hr`, ...),
so its released weights load with strict=True (translation.nets.basicsr_weights unwraps their
{'params_ema': ...} files). These nets take and give images in [0, 1] (`value_range`), with no output
activation, as BasicSR trains them. `scale`: the output is scale x the input's height and width;
`size_multiple`: what the input's height and width must be a multiple of.

Initialisation: the generators apply BasicSR's in __init__ (Kaiming normal x 0.1, zero bias, on the layers
BasicSR picks, in its order); the discriminator keeps PyTorch's defaults, as BasicSR's. Build them with
init="pytorch" to keep this (the registry's default init would redraw every layer from N(0, 0.02)).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .layers import check_count, check_size_multiple
from .registry import register_as, register_class

VALUE_RANGE = (0.0, 1.0)  # BasicSR's images: [0, 1] in and out, no tanh


@torch.no_grad()
def scaled_kaiming_init(modules: list[nn.Module], scale: float = 0.1) -> None:
    """BasicSR's default_init_weights: Kaiming normal (fan-in, gain sqrt(2)) times `scale`, zero biases. Small
    residual branches at the start keep a deep residual stack close to identity (ESRGAN, Wang et al. 2018, 3.3)."""
    for module in modules:
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
                m.weight.mul_(scale)
                if m.bias is not None:
                    m.bias.zero_()


def _check_scale(net: str, scale, allowed: tuple[int, ...]) -> None:
    if scale not in allowed or isinstance(scale, bool):
        raise ValueError(f"{net} upscales by {', '.join(map(str, allowed))}; got scale {scale!r}")


def _conv3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1)


class ResidualBlockNoBN(nn.Module):
    """conv3x3-ReLU-conv3x3 plus the input, no batch norm (EDSR, Lim et al. 2017: BN hurts SR)."""

    def __init__(self, ngf: int = 64):
        super().__init__()
        self.conv1, self.conv2 = _conv3(ngf, ngf), _conv3(ngf, ngf)
        self.relu = nn.ReLU(inplace=True)
        scaled_kaiming_init([self.conv1, self.conv2], 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.relu(self.conv1(x)))


class MSRResNet(nn.Module):
    """Modified SRResNet (BasicSR): SRResNet (Ledig et al. 2017) without batch norm. A 3x3 conv, n_blocks residual
    blocks, pixel-shuffle upsampling (one x2/x3 step, or two x2 steps for x4), two 3x3 convs; the result is
    added to the bilinear upsampling of the input, so the net learns only the residual."""

    value_range = VALUE_RANGE
    size_multiple = 1

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_blocks: int = 16,
                 scale: int = 4):
        super().__init__()
        _check_scale("msrresnet", scale, (2, 3, 4))
        check_count("n_blocks", n_blocks, 0)
        if in_channels != out_channels:  # the bilinear base is added channel for channel
            raise ValueError(f"msrresnet adds its upsampled input to its output: in_channels ({in_channels}) "
                             f"must equal out_channels ({out_channels})")
        self.scale = scale
        self.conv_first = _conv3(in_channels, ngf)
        self.body = nn.Sequential(*[ResidualBlockNoBN(ngf) for _ in range(n_blocks)])
        step = 2 if scale == 4 else scale  # x4 is two x2 pixel shuffles
        self.upconv1 = _conv3(ngf, ngf * step * step)
        if scale == 4:
            self.upconv2 = _conv3(ngf, ngf * step * step)
        self.pixel_shuffle = nn.PixelShuffle(step)
        self.conv_hr = _conv3(ngf, ngf)
        self.conv_last = _conv3(ngf, out_channels)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)
        scaled_kaiming_init([self.conv_first, self.upconv1, self.conv_hr, self.conv_last], 0.1)
        if scale == 4:
            scaled_kaiming_init([self.upconv2], 0.1)  # BasicSR draws it last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(self.lrelu(self.conv_first(x)))
        out = self.lrelu(self.pixel_shuffle(self.upconv1(out)))
        if self.scale == 4:
            out = self.lrelu(self.pixel_shuffle(self.upconv2(out)))
        out = self.conv_last(self.lrelu(self.conv_hr(out)))
        return out + F.interpolate(x, scale_factor=float(self.scale), mode="bilinear", align_corners=False)


class ResidualDenseBlock(nn.Module):
    """Five 3x3 convs, each seeing the block's input and every earlier output (dense connections, growth
    channels each); the last maps back to ngf, scaled by 0.2 and added to the input (ESRGAN's residual scaling)."""

    def __init__(self, ngf: int = 64, growth: int = 32):
        super().__init__()
        for i in range(1, 5):
            setattr(self, f"conv{i}", _conv3(ngf + (i - 1) * growth, growth))
        self.conv5 = _conv3(ngf + 4 * growth, ngf)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)
        scaled_kaiming_init([self.conv1, self.conv2, self.conv3, self.conv4, self.conv5], 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            features.append(self.lrelu(conv(torch.cat(features, 1))))
        return self.conv5(torch.cat(features, 1)) * 0.2 + x


class RRDB(nn.Module):
    """Residual in residual dense block: three dense blocks, their result scaled by 0.2 and added to the input."""

    def __init__(self, ngf: int = 64, growth: int = 32):
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = (ResidualDenseBlock(ngf, growth) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    """ESRGAN's generator (BasicSR's RRDBNet): 3x3 conv, n_blocks RRDBs and a 3x3 conv added back to the first
    conv's features, then two (nearest x2, 3x3 conv, LeakyReLU) steps and two 3x3 convs: x4 inside. For scale
    2 (1) the input is first pixel-unshuffled by 2 (4) into 4x (16x) the channels, as BasicSR, so inputs must
    have even sides (multiples of 4)."""

    value_range = VALUE_RANGE

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_blocks: int = 23,
                 growth: int = 32, scale: int = 4):
        super().__init__()
        _check_scale("rrdbnet", scale, (1, 2, 4))
        check_count("n_blocks", n_blocks, 0)
        check_count("growth", growth, 1)
        self.scale = scale
        self.size_multiple = 4 // scale  # the pixel-unshuffle's factor
        self.conv_first = _conv3(in_channels * self.size_multiple ** 2, ngf)
        self.body = nn.Sequential(*[RRDB(ngf, growth) for _ in range(n_blocks)])
        self.conv_body = _conv3(ngf, ngf)
        self.conv_up1, self.conv_up2 = _conv3(ngf, ngf), _conv3(ngf, ngf)
        self.conv_hr = _conv3(ngf, ngf)
        self.conv_last = _conv3(ngf, out_channels)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.size_multiple > 1:
            if not torch.jit.is_scripting():
                check_size_multiple(x, self.size_multiple, f"rrdbnet x{self.scale}")
            # BasicSR's pixel_unshuffle: channel c*s*s + i*s + j holds pixel (i, j) of each s x s cell
            x = F.pixel_unshuffle(x, self.size_multiple)
        features = self.conv_first(x)
        features = features + self.conv_body(self.body(features))
        features = self.lrelu(self.conv_up1(F.interpolate(features, scale_factor=2.0, mode="nearest")))
        features = self.lrelu(self.conv_up2(F.interpolate(features, scale_factor=2.0, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(features)))


class VGGStyleDiscriminator(nn.Module):
    """SRGAN/ESRGAN's discriminator (BasicSR's VGGStyleDiscriminator) for image_size 128 or 256 patches: pairs of
    (3x3 stride-1, 4x4 stride-2) convs, widths ndf, 2, 4, 8, 8 (, 8) x ndf, batch norm after every conv but the
    first, LeakyReLU 0.2, down to 4x4, then linear 100, LeakyReLU, linear 1: one logit per image (N, 1)."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, image_size: int = 128):
        super().__init__()
        if image_size not in (128, 256):
            raise ValueError(f"the VGG-style discriminator takes 128 or 256 px patches, not {image_size!r}")
        self.image_size = image_size
        widths = [ndf, ndf * 2, ndf * 4, ndf * 8, ndf * 8] + ([ndf * 8] if image_size == 256 else [])
        previous = in_channels
        for i, width in enumerate(widths):
            # the first conv has a bias and no norm; every later conv is followed by a batch norm
            setattr(self, f"conv{i}_0", nn.Conv2d(previous, width, 3, 1, 1, bias=i == 0))
            if i:
                setattr(self, f"bn{i}_0", nn.BatchNorm2d(width, affine=True))
            setattr(self, f"conv{i}_1", nn.Conv2d(width, width, 4, 2, 1, bias=False))
            setattr(self, f"bn{i}_1", nn.BatchNorm2d(width, affine=True))
            previous = width
        self.n_stages = len(widths)
        self.linear1 = nn.Linear(ndf * 8 * 4 * 4, 100)
        self.linear2 = nn.Linear(100, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting() and tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(f"this VGG-style discriminator takes {self.image_size}x{self.image_size} patches, got "
                             f"{x.shape[-1]}x{x.shape[-2]} (its linear layer is sized for a 4x4 map)")
        features = x
        for i in range(self.n_stages):
            features = getattr(self, f"conv{i}_0")(features)
            if i:
                features = getattr(self, f"bn{i}_0")(features)
            features = self.lrelu(features)
            features = self.lrelu(getattr(self, f"bn{i}_1")(getattr(self, f"conv{i}_1")(features)))
        return self.linear2(self.lrelu(self.linear1(features.flatten(1))))


register_class("generator", "msrresnet", MSRResNet)
register_class("generator", "rrdbnet", RRDBNet)


@register_as("discriminator", "vgg128")
def _vgg128(in_channels: int = 3, ndf: int = 64) -> nn.Module:
    return VGGStyleDiscriminator(in_channels, ndf, image_size=128)


@register_as("discriminator", "vgg256")
def _vgg256(in_channels: int = 3, ndf: int = 64) -> nn.Module:
    return VGGStyleDiscriminator(in_channels, ndf, image_size=256)
