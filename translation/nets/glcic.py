"""Globally and Locally Consistent Image Completion (Iizuka et al. 2017) as otenim/GLCIC-PyTorch's models.py.

CompletionNetwork: 17 layers, two stride-2 convs down to 1/4, dilated 3x3 convs (rates 2, 4, 8, 16) for a wide
receptive field, two 4x4 transposed convs back up, a sigmoid output in [0, 1] (theirs: images are ToTensor()'d, not
normalised to [-1, 1]). Its input is 4 channels: the image with the holes filled by the training set's mean pixel
value, and the mask (1 = hole); `completion_input` builds it. ContextDiscriminator: a local D on a crop around the
hole and a global D on the whole image, each conv stack ending in a 1024-unit linear layer, concatenated and
mapped to one logit.

As theirs: batch norm comes after the ReLU (bn(relu(conv(x)))), attribute names match theirs (conv1, bn1, ...,
deconv13, model_ld.linear6, model_gd.linear6/linear7, linear1) so their state dicts load with strict=True, and
PyTorch's default layer init is theirs (build with init="pytorch"). Where this differs: the context D returns the
logit; theirs ends in nn.Sigmoid and trains with BCELoss, which equals BCE-with-logits on this logit.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .layers import check_count, check_size_multiple
from .registry import register_class

VALUE_RANGE = (0.0, 1.0)  # theirs: ToTensor() images, sigmoid output
DISCRIMINATOR_ARCS = ("celeba", "places2")  # theirs: places2 adds a 6th stride-2 conv to the global D


def completion_input(image: torch.Tensor, mask: torch.Tensor, fill: torch.Tensor | float) -> torch.Tensor:
    """The completion net's input as their train.py builds it: holes (mask 1) set to `fill` (the training set's
    mean pixel value, per channel: shape (C,) or a float), then the mask as a last channel."""
    fill = torch.as_tensor(fill, dtype=image.dtype, device=image.device).reshape(1, -1, 1, 1)
    return torch.cat([image * (1 - mask) + fill * mask, mask], dim=1)


class CompletionNetwork(nn.Module):
    """GLCIC's completion net. ngf 64 gives theirs (widths 64, 128, 256; 32 before the output conv)."""

    value_range = VALUE_RANGE
    size_multiple = 4  # two stride-2 convs, two x2 transposed convs

    def __init__(self, in_channels: int = 4, out_channels: int = 3, ngf: int = 64):
        super().__init__()
        check_count("ngf", ngf, 2)
        w1, w2, w4 = ngf, ngf * 2, ngf * 4
        # (name, conv) in their order; every one but conv17 is followed by ReLU then batch norm
        layers = [
            ("conv1", nn.Conv2d(in_channels, w1, 5, 1, 2)),
            ("conv2", nn.Conv2d(w1, w2, 3, 2, 1)),
            ("conv3", nn.Conv2d(w2, w2, 3, 1, 1)),
            ("conv4", nn.Conv2d(w2, w4, 3, 2, 1)),
            ("conv5", nn.Conv2d(w4, w4, 3, 1, 1)),
            ("conv6", nn.Conv2d(w4, w4, 3, 1, 1)),
            *[(f"conv{7 + i}", nn.Conv2d(w4, w4, 3, 1, padding=rate, dilation=rate))
              for i, rate in enumerate((2, 4, 8, 16))],
            ("conv11", nn.Conv2d(w4, w4, 3, 1, 1)),
            ("conv12", nn.Conv2d(w4, w4, 3, 1, 1)),
            ("deconv13", nn.ConvTranspose2d(w4, w2, 4, 2, 1)),
            ("conv14", nn.Conv2d(w2, w2, 3, 1, 1)),
            ("deconv15", nn.ConvTranspose2d(w2, w1, 4, 2, 1)),
            ("conv16", nn.Conv2d(w1, ngf // 2, 3, 1, 1)),
        ]
        self.hidden = [name for name, _ in layers]
        for i, (name, conv) in enumerate(layers, start=1):
            setattr(self, name, conv)
            setattr(self, f"bn{i}", nn.BatchNorm2d(conv.out_channels))
        self.conv17 = nn.Conv2d(ngf // 2, out_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            check_size_multiple(x, self.size_multiple, "glcic")
        for i, name in enumerate(self.hidden, start=1):
            x = getattr(self, f"bn{i}")(F.relu(getattr(self, name)(x)))
        return torch.sigmoid(self.conv17(x))


def _check_size(what: str, size) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 32 or size % 32:
        raise ValueError(f"{what} must be a multiple of 32 pixels (five stride-2 convs before a linear layer), "
                         f"got {size!r}")


class _ConvStack(nn.Module):
    """Their Local/GlobalDiscriminator: 5x5 stride-2 convs (64, 128, 256, 512, 512 at ndf 64, a sixth 512 for the
    places2 global D), each ReLU then batch norm, flattened into a linear layer to 1024 units and a ReLU."""

    def __init__(self, in_channels: int, ndf: int, size: int, n_convs: int):
        super().__init__()
        widths = [ndf, ndf * 2, ndf * 4, ndf * 8, ndf * 8, ndf * 8][:n_convs]
        previous = in_channels
        for i, width in enumerate(widths, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(previous, width, 5, 2, 2))
            setattr(self, f"bn{i}", nn.BatchNorm2d(width))
            previous = width
        self.n_convs, self.size = n_convs, size
        side = size // 2 ** n_convs
        # theirs names the linear layer after its position: linear6 after five convs, linear7 after six
        self.linear_name = f"linear{n_convs + 1}"
        setattr(self, self.linear_name, nn.Linear(previous * side * side, 1024))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, self.n_convs + 1):
            x = getattr(self, f"bn{i}")(F.relu(getattr(self, f"conv{i}")(x)))
        return F.relu(getattr(self, self.linear_name)(torch.flatten(x, 1)))


class ContextDiscriminator(nn.Module):
    """GLCIC's global + local discriminator: D(local crop, whole image) -> one logit per image, (N, 1).

    local_size: the side of the square crop around the hole (theirs: --ld_input_size, 96); global_size: the
    side of the whole image (--cn_input_size, 160); arc: theirs' --arc, celeba (5 convs) or places2 (6 convs in
    the global D)."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, local_size: int = 96, global_size: int = 160,
                 arc: str = "celeba"):
        super().__init__()
        _check_size("local_size", local_size)
        _check_size("global_size", global_size)
        if arc not in DISCRIMINATOR_ARCS:
            raise ValueError(f"unknown GLCIC discriminator arc {arc!r}; choose one of {', '.join(DISCRIMINATOR_ARCS)}")
        if arc == "places2" and global_size % 64:
            raise ValueError(f"the places2 global discriminator has six stride-2 convs: global_size must be a multiple "
                             f"of 64, got {global_size}")
        self.model_ld = _ConvStack(in_channels, ndf, local_size, 5)
        self.model_gd = _ConvStack(in_channels, ndf, global_size, 6 if arc == "places2" else 5)
        self.linear1 = nn.Linear(2048, 1)

    def forward(self, local: torch.Tensor, whole: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            for what, x, size in (("local crop", local, self.model_ld.size), ("whole image", whole, self.model_gd.size)):
                if tuple(x.shape[-2:]) != (size, size):
                    raise ValueError(f"this GLCIC discriminator takes a {size}x{size} {what}, got "
                                     f"{x.shape[-1]}x{x.shape[-2]} (its linear layers are sized for it)")
        return self.linear1(torch.cat([self.model_ld(local), self.model_gd(whole)], dim=1))


register_class("generator", "glcic", CompletionNetwork)
register_class("discriminator", "glcic_context", ContextDiscriminator)
