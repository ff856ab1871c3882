"""BigGAN's generator and discriminator (Brock et al. 2019), laid out as ajbrock/BigGAN-PyTorch's BigGAN.py at
32, 64 and 128 px: the same layers, widths and parameter counts for the same ch, classes and options.

G: z (or its first chunk, hier) -> linear -> 4x4 x (16 ch, or 4 ch at 32 px) -> residual up-blocks
   [cBN-ReLU-up2-conv3x3-cBN-ReLU-conv3x3, + up2-conv1x1 shortcut] to 8, 16, ... px -> BN-ReLU-conv3x3 -> tanh.
   Each block's batch norms are class-conditional: per-layer class embeddings for gain and bias (the CIFAR
   configuration), or, with shared_dim > 0, bias-free linear maps of a shared class embedding, concatenated with
   the block's own chunk of z when hier (z split into blocks + 1 chunks, the first feeding the linear layer).
D: residual down-blocks [ReLU (not the first)-conv3x3-ReLU-conv3x3-avgpool2, + conv1x1 shortcut], wide (the
   hidden width is the output's), then ReLU, a sum over positions, a linear layer to the logit plus the
   projection <embed(y), h> (Miyato & Koyama 2018). At 32 px: four blocks of 4 ch, the first two halving.
Both: spectral norm on every conv and linear layer (and D's embedding; not G's embeddings, as the reference:
"applying SN to G's embedding seems to randomly cripple G"), one power iteration per training forward;
optionally one self-attention layer after the block whose output has `attention` px. ReLU throughout.
Weights are initialised here, as the reference's init_weights: conv, linear and embedding weights N(0, gain)
(its "N02" at 0.02), orthogonal or Xavier-uniform (its "glorot"); biases and batch norms keep PyTorch's defaults.

Where this differs from the reference: spectral norm is torch's parametrization (its u and v are buffers, as the
reference's u; torch runs 15 power iterations when the layer is made, the reference starts from a random u); the
32 px D arch of the reference marks every block "16 px", so its D_attn 16 puts attention after all four blocks,
here after the one block whose output is 16 px.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .attention import SelfAttention, attention_after
from .conditional_norm import ConditionalBatchNorm2d
from .layers import apply_spectral_norm, check_count
from .noise import CriticHead, NoiseGenerator, SampleDiscriminator, check_labels
from .registry import register_class

BIGGAN_SIZES = (32, 64, 128)
WEIGHT_INITS = ("normal", "orthogonal", "xavier", "pytorch")
SN_EPS = 1e-8  # BigGAN-PyTorch's --SN_eps default (its CIFAR script keeps it)


def generator_widths(image_size: int, ch: int) -> tuple[list[int], list[int]]:
    """(in, out) channels of G's blocks, BigGAN-PyTorch's G_arch: each block doubles the side from 4 px."""
    check_size(image_size)
    if image_size == 32:
        return [4 * ch] * 3, [4 * ch] * 3
    multipliers = {64: [16, 16, 8, 4, 2], 128: [16, 16, 8, 4, 2, 1]}[image_size]
    return [m * ch for m in multipliers[:-1]], [m * ch for m in multipliers[1:]]


def discriminator_layout(image_size: int, ch: int, in_channels: int) -> tuple[list[int], list[int], list[bool]]:
    """(in, out) channels of D's blocks and which halve the side, BigGAN-PyTorch's D_arch."""
    check_size(image_size)
    if image_size == 32:
        return [in_channels] + [4 * ch] * 3, [4 * ch] * 4, [True, True, False, False]
    multipliers = {64: [1, 2, 4, 8, 16], 128: [1, 2, 4, 8, 16, 16]}[image_size]
    outs = [m * ch for m in multipliers]
    return [in_channels] + outs[:-1], outs, [True] * (len(outs) - 1) + [False]


def check_size(image_size: int) -> None:
    if image_size not in BIGGAN_SIZES:
        raise ValueError(f"biggan makes images of {', '.join(map(str, BIGGAN_SIZES))} px (BigGAN-PyTorch's "
                         f"architectures), got image_size {image_size!r}")


def initialise(net: nn.Module, weight_init: str, gain: float) -> None:
    """The reference's init_weights: every conv, linear and embedding weight; nothing else."""
    if weight_init not in WEIGHT_INITS:
        raise ValueError(f"unknown weight_init {weight_init!r}; choose one of {', '.join(WEIGHT_INITS)}")
    if weight_init == "pytorch":
        return
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear, nn.Embedding)):
                if weight_init == "normal":
                    nn.init.normal_(module.weight, 0.0, gain)
                elif weight_init == "orthogonal":
                    nn.init.orthogonal_(module.weight)
                else:
                    nn.init.xavier_uniform_(module.weight)


class GBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, make_norm):
        super().__init__()
        self.bn1, self.bn2 = make_norm(in_channels), make_norm(out_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.conv_sc = nn.Conv2d(in_channels, out_channels, 1)  # every block upsamples: a learned shortcut

    def forward(self, x: torch.Tensor, condition) -> torch.Tensor:
        h = F.relu(self.bn1(x, condition))
        h, x = F.interpolate(h, scale_factor=2), F.interpolate(x, scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h), condition)))
        return h + self.conv_sc(x)


class DBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, preactivation: bool, downsample: bool):
        super().__init__()
        self.preactivation, self.downsample = preactivation, downsample
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)  # wide: the hidden width is the output's
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        learned = in_channels != out_channels or downsample
        self.conv_sc = nn.Conv2d(in_channels, out_channels, 1) if learned else None

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        # the reference's order: conv before pooling after a preactivation, pooling first in the first block
        if self.preactivation and self.conv_sc is not None:
            x = self.conv_sc(x)
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        if not self.preactivation and self.conv_sc is not None:
            x = self.conv_sc(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x  # out of place: the shortcut reads x as it was
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return h + self.shortcut(x)


class Unconditional(nn.Module):
    """Batch norm with its own affine, called as the conditional ones (an unconditional G without hier)."""

    def __init__(self, channels: int, eps: float, momentum: float):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, eps=eps, momentum=momentum)

    def forward(self, x: torch.Tensor, condition) -> torch.Tensor:
        return self.norm(x)


class BigGANGenerator(NoiseGenerator):
    """G(z, labels). shared_dim 0: per-layer class embeddings; > 0: one shared embedding of that size.
    hier: z in blocks + 1 chunks (needs shared_dim > 0 with classes; z_dim a multiple of blocks + 1)."""

    def __init__(self, z_dim: int = 128, out_channels: int = 3, image_size: int = 32, ch: int = 64,
                 n_classes: int = 0, shared_dim: int = 0, hier: bool = False, attention: int = 0,
                 weight_init: str = "normal", weight_gain: float = 0.02, bn_eps: float = 1e-5,
                 bn_momentum: float = 0.1):
        super().__init__("biggan", z_dim, out_channels, image_size, 0, None)  # the label code is cBN's, below
        check_count("ch", ch, 1)
        check_count("n_classes", n_classes, 0)
        check_count("shared_dim", shared_dim, 0)
        ins, outs = generator_widths(image_size, ch)
        self.n_classes, self.shared_dim, self.hier = n_classes, shared_dim, bool(hier)
        slots = len(ins) + 1 if hier else 1
        if hier and z_dim % slots:
            raise ValueError(f"biggan --hier splits z into {slots} chunks (one per block and one for the linear "
                             f"layer) at {image_size} px: z_dim must be a multiple of {slots}, got {z_dim}")
        if hier and n_classes and not shared_dim:
            raise ValueError("biggan --hier joins each chunk of z to the shared class embedding: set shared_dim "
                             "(BigGAN-PyTorch: hier with G_shared)")
        if shared_dim and not n_classes:
            raise ValueError("biggan shared_dim is the size of a shared class embedding; an unconditional G has none")
        self.chunk = z_dim // slots if hier else 0
        # the shared class embedding is G.embed, where the family keeps a generator's label code
        self.embed = nn.Embedding(n_classes, shared_dim) if shared_dim else None
        condition_dim = (shared_dim if shared_dim else 0) + self.chunk
        by_class = n_classes if (n_classes and not shared_dim) else 0

        def make_norm(channels: int) -> nn.Module:
            if condition_dim or by_class:
                return ConditionalBatchNorm2d(channels, by_class, condition_dim, bn_eps, bn_momentum)
            return Unconditional(channels, bn_eps, bn_momentum)

        self.linear = nn.Linear(z_dim // slots, ins[0] * 16)
        attend = attention_after([8 * 2 ** i for i in range(len(ins))], attention,
                                 f"the biggan generator at {image_size} px")
        self.blocks = nn.ModuleList(GBlock(i, o, make_norm) for i, o in zip(ins, outs))
        self.attention = nn.ModuleDict({str(i): SelfAttention(outs[i]) for i, on in enumerate(attend) if on})
        self.output_norm = nn.BatchNorm2d(outs[-1], eps=bn_eps, momentum=bn_momentum)
        self.output_conv = nn.Conv2d(outs[-1], out_channels, 3, padding=1)
        initialise(self, weight_init, weight_gain)
        apply_spectral_norm(self, eps=SN_EPS, layers=(nn.Conv2d, nn.Linear))

    def conditions(self, z: torch.Tensor, labels: Optional[torch.Tensor]) -> tuple[torch.Tensor, list]:
        """(what the linear layer takes, each block's condition): BigGAN's forward with G.shared applied."""
        blocks = len(self.blocks)
        if self.embed is not None:
            code = self.embed(labels).to(z.dtype)
        else:
            code = labels  # the per-layer embeddings take the class index itself (None: unconditional)
        if not self.hier:
            return z, [code] * blocks
        chunks = torch.split(z, self.chunk, dim=1)
        return chunks[0], [torch.cat([code, c], 1) if code is not None else c for c in chunks[1:]]

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        if z.dim() == 4 and z.shape[2:] == (1, 1):
            z = z.flatten(1)
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"biggan generator takes z of shape (batch, z_dim={self.z_dim}), got {tuple(z.shape)}")
        check_labels("biggan generator", self.n_classes, labels, z.shape[0])
        first, conditions = self.conditions(z, labels)
        h = self.linear(first)
        h = h.reshape(h.shape[0], -1, 4, 4)
        for i, (block, condition) in enumerate(zip(self.blocks, conditions)):
            h = block(h, condition)
            if str(i) in self.attention:
                h = self.attention[str(i)](h)
        return torch.tanh(self.output_conv(F.relu(self.output_norm(h))))


class BigGANDiscriminator(SampleDiscriminator):
    """D(x, labels): a projection discriminator (condition "projection"; unconditional with n_classes 0)."""

    def __init__(self, in_channels: int = 3, image_size: int = 32, ch: int = 64, n_classes: int = 0,
                 condition: str = "projection", attention: int = 0, weight_init: str = "normal",
                 weight_gain: float = 0.02):
        if condition != "projection":
            raise ValueError(f"biggan's discriminator is a projection discriminator (condition 'projection'), got "
                             f"{condition!r}")
        super().__init__("biggan", in_channels, image_size, n_classes, None, condition)
        check_count("ch", ch, 1)
        ins, outs, halves = discriminator_layout(image_size, ch, in_channels)
        resolutions = [image_size >> sum(halves[:i + 1]) for i in range(len(outs))]
        attend = attention_after(resolutions, attention, f"the biggan discriminator at {image_size} px")
        self.blocks = nn.ModuleList(DBlock(i, o, index > 0, down)
                                    for index, (i, o, down) in enumerate(zip(ins, outs, halves)))
        self.attention = nn.ModuleDict({str(i): SelfAttention(outs[i]) for i, on in enumerate(attend) if on})
        self.head = CriticHead(outs[-1], lambda width, n: nn.Linear(width, n), self.projection_classes)
        initialise(self, weight_init, weight_gain)
        apply_spectral_norm(self, eps=SN_EPS)

    def trunk(self, x: torch.Tensor, code: Optional[torch.Tensor]) -> torch.Tensor:
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if str(i) in self.attention:
                h = self.attention[str(i)](h)
        return F.relu(h).sum(dim=(2, 3))  # SN-GAN's global sum pooling: (N, C)


biggan_generator = register_class("generator", "biggan", BigGANGenerator)
biggan_discriminator = register_class("discriminator", "biggan", BigGANDiscriminator)
