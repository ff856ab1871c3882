"""pix2pixHD's nets (Wang et al. 2018): the global generator, the local enhancer and the multi-scale discriminator.

Layer order, widths and module names follow NVIDIA/pix2pixHD `models/networks.py`, so the parameter counts are
the official ones and official state dicts load key by key (`model.N.*`, `model1_1.N.*`, `model1_2.N.*`,
`scale{i}_layer{j}.N.*`). Unlike pix2pix's nets, every conv has a bias whatever the norm (the official code
never turns it off), and the discriminator pads its 4x4 convs by 2, not 1.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .generators import ResnetBlock
from .layers import check_count, check_size_multiple, norm_layer
from .registry import register_as


def _downsample() -> nn.AvgPool2d:
    """pix2pixHD's halving of images between scales (local enhancer, discriminator): a 3x3 mean over the pixels
    inside the image only, stride 2, so H becomes ceil(H / 2)."""
    return nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)


def _global_layers(in_channels: int, out_channels: int, ngf: int, n_downsample: int, n_blocks: int,
                   norm: str) -> list[nn.Module]:
    """The official GlobalGenerator's layers: c7s1-ngf, n_downsample stride-2 3x3 convs doubling the width,
    n_blocks residual blocks, as many transposed convs back, c7s1-out, tanh."""
    make_norm = norm_layer(norm)
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, kernel_size=7), make_norm(ngf), nn.ReLU(True)]
    for i in range(n_downsample):
        width = ngf * 2 ** i
        layers += [nn.Conv2d(width, width * 2, kernel_size=3, stride=2, padding=1), make_norm(width * 2),
                   nn.ReLU(True)]
    layers += [ResnetBlock(ngf * 2 ** n_downsample, norm=norm, bias=True) for _ in range(n_blocks)]
    for i in range(n_downsample, 0, -1):
        width = ngf * 2 ** i
        # output_padding 1: each one exactly doubles H and W, undoing a stride-2 conv on an even size
        layers += [nn.ConvTranspose2d(width, width // 2, kernel_size=3, stride=2, padding=1, output_padding=1),
                   make_norm(width // 2), nn.ReLU(True)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, kernel_size=7), nn.Tanh()]
    return layers


class GlobalGenerator(nn.Module):
    """G1 of the paper: a ResNet generator with `n_downsample` halvings (4 by default, so 16x smaller inside)."""

    def __init__(self, in_channels: int, out_channels: int, ngf: int = 64, n_downsample: int = 4,
                 n_blocks: int = 9, norm: str = "instance"):
        super().__init__()
        check_count("n_downsample_global", n_downsample, 1)
        check_count("n_blocks_global", n_blocks, 0)
        self.size_multiple = 2 ** n_downsample
        self.model = nn.Sequential(*_global_layers(in_channels, out_channels, ngf, n_downsample, n_blocks, norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            check_size_multiple(x, self.size_multiple, "global")
        return self.model(x)


class LocalEnhancer(nn.Module):
    """G = {G1, G2}: the global generator without its output layers runs on the 2x average-pooled input, and its
    last features are added to those of a full-resolution front end (7x7 conv, one stride-2 conv) before that
    branch's residual blocks, transposed conv and 7x7 output conv. n_local_enhancers > 1 nests further
    branches, each at twice the resolution and half the width of the one inside it, as the official code."""

    def __init__(self, in_channels: int, out_channels: int, ngf: int = 32, n_downsample_global: int = 4,
                 n_blocks_global: int = 9, n_local_enhancers: int = 1, n_blocks_local: int = 3,
                 norm: str = "instance"):
        super().__init__()
        check_count("n_downsample_global", n_downsample_global, 1)
        check_count("n_blocks_global", n_blocks_global, 0)
        check_count("n_local_enhancers", n_local_enhancers, 1)
        check_count("n_blocks_local", n_blocks_local, 0)
        self.n_local_enhancers = n_local_enhancers
        self.size_multiple = 2 ** (n_downsample_global + n_local_enhancers)
        make_norm = norm_layer(norm)
        # the global generator at ngf * 2**n, minus its last pad, conv and tanh: its features, not an image
        global_layers = _global_layers(in_channels, out_channels, ngf * 2 ** n_local_enhancers,
                                       n_downsample_global, n_blocks_global, norm)
        self.model = nn.Sequential(*global_layers[:-3])
        for n in range(1, n_local_enhancers + 1):
            width = ngf * 2 ** (n_local_enhancers - n)
            front = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, kernel_size=7), make_norm(width),
                     nn.ReLU(True),
                     nn.Conv2d(width, width * 2, kernel_size=3, stride=2, padding=1), make_norm(width * 2),
                     nn.ReLU(True)]
            back = [ResnetBlock(width * 2, norm=norm, bias=True) for _ in range(n_blocks_local)]
            back += [nn.ConvTranspose2d(width * 2, width, kernel_size=3, stride=2, padding=1, output_padding=1),
                     make_norm(width), nn.ReLU(True)]
            if n == n_local_enhancers:
                back += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, kernel_size=7), nn.Tanh()]
            setattr(self, f"model{n}_1", nn.Sequential(*front))
            setattr(self, f"model{n}_2", nn.Sequential(*back))
        self.downsample = _downsample()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            check_size_multiple(x, self.size_multiple, "local")
        pyramid = [x]
        for _ in range(self.n_local_enhancers):
            pyramid.append(self.downsample(pyramid[-1]))
        features = self.model(pyramid[-1])
        for n in range(1, self.n_local_enhancers + 1):
            front, back = getattr(self, f"model{n}_1"), getattr(self, f"model{n}_2")
            features = back(front(pyramid[self.n_local_enhancers - n]) + features)
        return features


class MultiscaleDiscriminator(nn.Module):
    """num_D PatchGANs of the same shape, on the image and on its 2x, 4x, ... average-pooled copies.

    forward(x) -> one list per scale, the full resolution first, of the n_layers + 2 layer outputs of that
    scale's D (n_layers + 1 feature maps for feature matching, then the patch scores). The D of the full
    resolution is the last one built (`scale{num_D-1}_*`), as in the official code, so its weights load as theirs.
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, num_D: int = 2,
                 norm: str = "instance"):
        super().__init__()
        check_count("num_D", num_D, 1)
        self.num_D, self.n_layers = num_D, n_layers
        for i in range(num_D):
            for j, block in enumerate(_patch_blocks(in_channels, ndf, n_layers, norm)):
                setattr(self, f"scale{i}_layer{j}", block)
        self.downsample = _downsample()

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        outputs = []
        for i in range(self.num_D):
            scale = self.num_D - 1 - i
            features = [x]
            for j in range(self.n_layers + 2):
                features.append(getattr(self, f"scale{scale}_layer{j}")(features[-1]))
            outputs.append(features[1:])
            if i != self.num_D - 1:
                x = self.downsample(x)
        return outputs


def _patch_blocks(in_channels: int, ndf: int, n_layers: int, norm: str) -> list[nn.Sequential]:
    """pix2pixHD's NLayerDiscriminator in its n_layers + 2 separately readable blocks: 4x4 convs padded by
    ceil(3 / 2) = 2, n_layers of stride 2, widths doubling up to 512, LeakyReLU 0.2, one stride-1 conv, then
    one to a single channel."""
    make_norm = norm_layer(norm)
    pad = math.ceil((4 - 1) / 2)
    blocks = [[nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=pad), nn.LeakyReLU(0.2, True)]]
    width = ndf
    for stride in [2] * (n_layers - 1) + [1]:
        previous, width = width, min(width * 2, 512)
        blocks.append([nn.Conv2d(previous, width, kernel_size=4, stride=stride, padding=pad), make_norm(width),
                       nn.LeakyReLU(0.2, True)])
    blocks.append([nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=pad)])
    return [nn.Sequential(*block) for block in blocks]


def init_local_from_global(local: LocalEnhancer, global_state: dict) -> list[str]:
    """Start a local enhancer from a trained global generator (the paper's coarse-to-fine training).

    The global generator's layers sit under the same keys in both nets (`model.N.*`), except its output conv,
    which the enhancer does not have. The global net must have been built with twice the enhancer's ngf
    (64 for the enhancer's 32), the same depth and channels. Returns the keys copied; the rest of the enhancer
    keeps its initialisation.
    """
    own = local.state_dict()
    copied = {key: value for key, value in global_state.items() if key in own}
    if not copied:
        raise ValueError("no key of the global generator's weights is in the local enhancer: not the weights of "
                         "a pix2pixHD global generator")
    for key, value in copied.items():
        if value.shape != own[key].shape:
            raise ValueError(f"the global generator's {key} has shape {tuple(value.shape)}, the local enhancer "
                             f"needs {tuple(own[key].shape)}: train the global net with ngf = 2 x the enhancer's "
                             "ngf and the same --n-downsample-global, --n-blocks-global and channels")
    missing = [key for key in own if key.startswith("model.") and key not in copied]
    if missing:
        raise ValueError(f"the global generator's weights lack {missing[0]} (and {len(missing) - 1} more) that "
                         "the local enhancer's global part needs")
    local.load_state_dict(copied, strict=False)
    return sorted(copied)


# Builders: their signatures are what create_generator / create_discriminator accept ("global" is a keyword,
# hence register_as). Defaults are the official pix2pixHD options.

@register_as("generator", "global")
def _global(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_downsample_global: int = 4,
            n_blocks_global: int = 9, norm: str = "instance") -> nn.Module:
    return GlobalGenerator(in_channels, out_channels, ngf, n_downsample_global, n_blocks_global, norm)


@register_as("generator", "local")
def _local(in_channels: int = 3, out_channels: int = 3, ngf: int = 32, n_downsample_global: int = 4,
           n_blocks_global: int = 9, n_local_enhancers: int = 1, n_blocks_local: int = 3,
           norm: str = "instance") -> nn.Module:
    return LocalEnhancer(in_channels, out_channels, ngf, n_downsample_global, n_blocks_global, n_local_enhancers,
                         n_blocks_local, norm)


@register_as("discriminator", "multiscale")
def _multiscale(in_channels: int, ndf: int = 64, n_layers: int = 3, num_D: int = 2,
                norm: str = "instance") -> nn.Module:
    return MultiscaleDiscriminator(in_channels, ndf, n_layers, num_D, norm)
