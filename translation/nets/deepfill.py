"""DeepFill v2 (Yu et al. 2019, "Free-Form Image Inpainting with Gated Convolution") as JiahuiYu/generative_inpainting's
inpaint_model.py / inpaint_ops.py (TensorFlow, v2.0.0).

Generator: a coarse net and a refinement net of gated convs (theirs' gen_conv: one conv to 2 x out channels split
into features through ELU and a gate through a sigmoid, multiplied). The refinement net runs a hallucination
branch (dilated convs) and a contextual-attention branch side by side on the coarse result pasted into the hole,
concatenates them and decodes. Input: the image in [-1, 1] with the hole zeroed, a channel of ones and the mask
(5 channels for RGB, as theirs); both stages end in tanh. Discriminator: SN-PatchGAN, six 5x5 stride-2 convs with
spectral norm and LeakyReLU 0.2, flattened: one score per cell of the last map, for the hinge loss.

Naming: theirs calls gen_conv(x, cnum) with cnum = the conv's filters, half of which come out after gating; here
GatedConv2d(in, out) gives `out` channels from a conv of 2 x out filters (the output convs, ungated, out = filters).
Layer names follow theirs (conv1 ... conv17, xconv*, pmconv*, allconv*). Padding is TF's SAME: symmetric for
stride 1, one extra row/column after for the stride-2 convs (theirs pads 0 before, 1 after on even sizes), so
converted TF weights give the same maps; nipponjo/deepfillv2-pytorch pads stride-2 convs symmetrically.
Init as theirs (tf.layers.conv2d): Glorot-uniform kernels, zero biases, applied here; build with init="pytorch"
to keep it (the registry's default N(0, 0.02) would redraw the generator, and cannot reach the discriminator's
spectral-normed weights).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F

from .contextual_attention import ContextualAttention
from .layers import check_count, check_size_multiple
from .registry import register_class

VALUE_RANGE = (-1.0, 1.0)  # theirs: images / 127.5 - 1, tanh outputs
ACTIVATIONS = {"elu": F.elu, "relu": F.relu}


def _tf_init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def _same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF's SAME padding for one side length: (before, after)."""
    effective = (kernel - 1) * dilation + 1
    total = max((-(-size // stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


class GatedConv2d(nn.Module):
    """Gated convolution (DeepFill v2, eq. 1): features = act(conv_f(x)), gate = sigmoid(conv_g(x)), out = both
    multiplied; conv_f and conv_g are the two halves of one conv, features first. gated=False: the plain conv
    (theirs' output layers). Stride-2 convs take TF SAME padding, which the even inputs this net gets make fixed."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, activation: str = "elu", gated: bool = True):
        super().__init__()
        self.out_channels, self.gated, self.activation = out_channels, gated, activation
        self.pad = (0, 0, 0, 0)
        padding = dilation * (kernel_size - 1) // 2
        if stride > 1:  # an even side: TF puts the odd padding pixel after
            before, after = _same_padding(2, kernel_size, stride, dilation)
            self.pad, padding = (before, after, before, after), 0
        self.conv = nn.Conv2d(in_channels, out_channels * (2 if gated else 1), kernel_size, stride, padding, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(F.pad(x, self.pad) if any(self.pad) else x)
        if not self.gated:
            return x
        features, gate = torch.split(x, self.out_channels, dim=1)
        return ACTIVATIONS[self.activation](features) * torch.sigmoid(gate)


class GatedUpsample(nn.Module):
    """Theirs' gen_deconv: nearest-neighbour x2, then a 3x3 gated conv."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = GatedConv2d(in_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def _stack(layers: list[tuple[str, nn.Module]]) -> nn.Sequential:
    return nn.Sequential(OrderedDict(layers))


def _dilated(prefix: str, width: int) -> list[tuple[str, nn.Module]]:
    return [(f"{prefix}{7 + i}_atrous", GatedConv2d(width, width, 3, dilation=rate))
            for i, rate in enumerate((2, 4, 8, 16))]


def _decoder(prefix: str, in_channels: int, c: int, out_channels: int) -> nn.Sequential:
    """conv11 ... conv17 of either stage: two 3x3 at 1/4, up x2, 3x3, up x2, 3x3 to c/4, the output conv."""
    return _stack([
        (f"{prefix}11", GatedConv2d(in_channels, 2 * c)),
        (f"{prefix}12", GatedConv2d(2 * c, 2 * c)),
        (f"{prefix}13_upsample", GatedUpsample(2 * c, c)),
        (f"{prefix}14", GatedConv2d(c, c)),
        (f"{prefix}15_upsample", GatedUpsample(c, c // 2)),
        (f"{prefix}16", GatedConv2d(c // 2, c // 4)),
        (f"{prefix}17", GatedConv2d(c // 4, out_channels, gated=False)),
    ])


class DeepFillGenerator(nn.Module):
    """G(image, mask) -> (coarse, refined), both (N, C, H, W) in [-1, 1] over the whole image (paste the known
    pixels back yourself). image: (N, C, H, W) in [-1, 1] (the hole's pixels are zeroed here, as theirs zeroes
    them before the net); mask: (N or 1, 1, H, W), 1 = hole. H and W: multiples of 8. cnum 48 is theirs; here
    `cnum` is theirs too (the first conv's filters), so the first gated conv gives cnum / 2 channels."""

    value_range = VALUE_RANGE
    size_multiple = 8  # two stride-2 convs, then the attention's rate 2

    def __init__(self, in_channels: int = 3, cnum: int = 48):
        super().__init__()
        check_count("in_channels", in_channels, 1)
        if not isinstance(cnum, int) or isinstance(cnum, bool) or cnum < 4 or cnum % 4:
            raise ValueError(f"cnum must be a positive multiple of 4 (its quarter is a layer's width), got {cnum!r}")
        c = cnum // 2  # what a gen_conv(x, cnum) gives after gating
        self.coarse = _stack([
            ("conv1", GatedConv2d(in_channels + 2, c, 5)),  # + ones + mask, as theirs
            ("conv2_downsample", GatedConv2d(c, 2 * c, 3, 2)),
            ("conv3", GatedConv2d(2 * c, 2 * c)),
            ("conv4_downsample", GatedConv2d(2 * c, 4 * c, 3, 2)),
            ("conv5", GatedConv2d(4 * c, 4 * c)),
            ("conv6", GatedConv2d(4 * c, 4 * c)),
            *_dilated("conv", 4 * c),
        ])
        self.coarse_decoder = _decoder("conv", 4 * c, 2 * c, in_channels)
        # refinement, hallucination branch: theirs narrows its first layers (cnum, cnum, 2 cnum filters)
        self.hallucination = _stack([
            ("xconv1", GatedConv2d(in_channels, c, 5)),
            ("xconv2_downsample", GatedConv2d(c, c, 3, 2)),
            ("xconv3", GatedConv2d(c, 2 * c)),
            ("xconv4_downsample", GatedConv2d(2 * c, 2 * c, 3, 2)),
            ("xconv5", GatedConv2d(2 * c, 4 * c)),
            ("xconv6", GatedConv2d(4 * c, 4 * c)),
            *_dilated("xconv", 4 * c),
        ])
        self.attention_encoder = _stack([
            ("pmconv1", GatedConv2d(in_channels, c, 5)),
            ("pmconv2_downsample", GatedConv2d(c, c, 3, 2)),
            ("pmconv3", GatedConv2d(c, 2 * c)),
            ("pmconv4_downsample", GatedConv2d(2 * c, 4 * c, 3, 2)),
            ("pmconv5", GatedConv2d(4 * c, 4 * c)),
            ("pmconv6", GatedConv2d(4 * c, 4 * c, activation="relu")),
        ])
        self.attention = ContextualAttention(patch_size=3, rate=2, fuse_size=3, softmax_scale=10.0, fuse=True)
        self.attention_decoder = _stack([
            ("pmconv9", GatedConv2d(4 * c, 4 * c)),
            ("pmconv10", GatedConv2d(4 * c, 4 * c)),
        ])
        self.decoder = _decoder("allconv", 8 * c, 2 * c, in_channels)
        _tf_init(self)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not torch.jit.is_scripting():
            check_size_multiple(image, self.size_multiple, "deepfill")
            if not torch.jit.is_tracing() and (mask.dim() != 4 or mask.shape[1] != 1
                                               or mask.shape[-2:] != image.shape[-2:]):
                raise ValueError(f"deepfill takes a mask of shape (N, 1, H, W) matching the image's "
                                 f"{tuple(image.shape[-2:])}, got {tuple(mask.shape)}")
        mask = mask.to(image.dtype)
        known = image * (1 - mask)
        ones = torch.ones_like(mask).expand(image.shape[0], 1, -1, -1)
        x = self.coarse(torch.cat([known, ones, ones * mask], dim=1))
        coarse = torch.tanh(self.coarse_decoder(x))
        pasted = coarse * mask + known  # known is zero in the hole
        matched = self.attention_encoder(pasted)
        attended = self.attention(matched, matched, mask)  # the hole's features rebuilt from the known ones
        features = torch.cat([self.hallucination(pasted), self.attention_decoder(attended)], dim=1)
        return coarse, torch.tanh(self.decoder(features))


class SNPatchDiscriminator(nn.Module):
    """SN-PatchGAN (DeepFill v2, section 3.3): six 5x5 stride-2 convs (ndf, 2, 4, 4, 4, 4 x ndf), spectral norm on
    each, LeakyReLU 0.2 after each, TF SAME padding. D(x) -> (N, 4 ndf, H/64, W/64): every value a score, as theirs
    (it flattens them; the hinge loss averages all). in_channels 4: the image and the mask (theirs' gan_with_mask,
    its default; no ones channel here)."""

    def __init__(self, in_channels: int = 4, ndf: int = 64):
        super().__init__()
        check_count("ndf", ndf, 1)
        widths = [ndf, ndf * 2, ndf * 4, ndf * 4, ndf * 4, ndf * 4]
        previous = in_channels
        for i, width in enumerate(widths, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(previous, width, 5, 2))
            previous = width
        self.n_layers = len(widths)
        _tf_init(self)
        for i in range(1, self.n_layers + 1):  # after the init: the parametrization hides the weight from it
            nn.utils.parametrizations.spectral_norm(getattr(self, f"conv{i}"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, self.n_layers + 1):
            top, bottom = _same_padding(int(x.shape[-2]), 5, 2)
            left, right = _same_padding(int(x.shape[-1]), 5, 2)
            x = F.leaky_relu(getattr(self, f"conv{i}")(F.pad(x, (left, right, top, bottom))), 0.2)
        return x


register_class("generator", "deepfill", DeepFillGenerator)
register_class("discriminator", "sn_patch", SNPatchDiscriminator)
