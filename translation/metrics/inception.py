"""The FID Inception v3: the network behind pytorch-fid's numbers, loading its weights file unchanged.

It is Inception v3 (Szegedy et al. 2016) as TensorFlow's FID code ran it, which differs from torchvision's
ImageNet model in three places: the average pools inside the 35x35, 17x17 and first 8x8 blocks leave the
padded zeros out of the mean (TensorFlow's SAME pooling), the last 8x8 block pools with a max instead of an
average, and the classifier has 1008 outputs. Module names follow the weights file's keys
(``Mixed_5b.branch5x5_1.conv.weight``, ...). Input is RGB in [0, 1], any size: it is resized to 299x299
bilinearly (align_corners=False, no antialiasing) and mapped to [-1, 1], as pytorch-fid does.
One forward gives both the 2048-d pool3 features (FID, KID, ...) and the 1008 logits (Inception Score).
"""
from __future__ import annotations

import pathlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from translation.metrics.weights import SHA256, InceptionWeightsError, check_weights_file, find_inception_weights
from translation.names import DEVICES
from translation.utils.device import select_device

SIZE = 299
FEATURES = 2048
CLASSES = 1008


class ConvBN(nn.Module):
    """Convolution without bias, batch norm (TensorFlow's eps 1e-3), ReLU."""

    def __init__(self, cin: int, cout: int, kernel, stride: int = 1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def _chain(x, *layers):
    for layer in layers:
        x = layer(x)
    return x


def _tf_avg_pool(x):
    """3x3 average over the valid pixels only: TensorFlow's SAME pooling, unlike torchvision's."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class Mixed35(nn.Module):
    """The 35x35 block (Mixed_5b/c/d): 1x1, 5x5, double 3x3 and pooled branches."""

    def __init__(self, cin: int, pool_out: int):
        super().__init__()
        self.branch1x1 = ConvBN(cin, 64, 1)
        self.branch5x5_1 = ConvBN(cin, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)
        self.branch_pool = ConvBN(cin, pool_out, 1)

    def forward(self, x):
        return torch.cat([self.branch1x1(x),
                          _chain(x, self.branch5x5_1, self.branch5x5_2),
                          _chain(x, self.branch3x3dbl_1, self.branch3x3dbl_2, self.branch3x3dbl_3),
                          self.branch_pool(_tf_avg_pool(x))], 1)


class Reduce35(nn.Module):
    """35x35 -> 17x17 (Mixed_6a): strided 3x3, strided double 3x3 and a max pool."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = ConvBN(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat([self.branch3x3(x),
                          _chain(x, self.branch3x3dbl_1, self.branch3x3dbl_2, self.branch3x3dbl_3),
                          F.max_pool2d(x, 3, stride=2)], 1)


class Mixed17(nn.Module):
    """The 17x17 block (Mixed_6b..e): 7x7 convolutions factorised into 1x7 and 7x1."""

    def __init__(self, cin: int, mid: int):
        super().__init__()
        row, col = {"kernel": (1, 7), "padding": (0, 3)}, {"kernel": (7, 1), "padding": (3, 0)}
        self.branch1x1 = ConvBN(cin, 192, 1)
        self.branch7x7_1 = ConvBN(cin, mid, 1)
        self.branch7x7_2 = ConvBN(mid, mid, **row)
        self.branch7x7_3 = ConvBN(mid, 192, **col)
        self.branch7x7dbl_1 = ConvBN(cin, mid, 1)
        self.branch7x7dbl_2 = ConvBN(mid, mid, **col)
        self.branch7x7dbl_3 = ConvBN(mid, mid, **row)
        self.branch7x7dbl_4 = ConvBN(mid, mid, **col)
        self.branch7x7dbl_5 = ConvBN(mid, 192, **row)
        self.branch_pool = ConvBN(cin, 192, 1)

    def forward(self, x):
        return torch.cat([self.branch1x1(x),
                          _chain(x, self.branch7x7_1, self.branch7x7_2, self.branch7x7_3),
                          _chain(x, self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                                 self.branch7x7dbl_4, self.branch7x7dbl_5),
                          self.branch_pool(_tf_avg_pool(x))], 1)


class Reduce17(nn.Module):
    """17x17 -> 8x8 (Mixed_7a)."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = ConvBN(cin, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvBN(cin, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x):
        return torch.cat([_chain(x, self.branch3x3_1, self.branch3x3_2),
                          _chain(x, self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3,
                                 self.branch7x7x3_4),
                          F.max_pool2d(x, 3, stride=2)], 1)


class Mixed8(nn.Module):
    """The 8x8 block (Mixed_7b/c): 3x3 convolutions split into parallel 1x3 and 3x1 halves.

    ``pool="max"`` for Mixed_7c: the FID graph max-pools there (TensorFlow's model did, by mistake).
    """

    def __init__(self, cin: int, pool: str):
        super().__init__()
        row, col = {"kernel": (1, 3), "padding": (0, 1)}, {"kernel": (3, 1), "padding": (1, 0)}
        self.pool = pool
        self.branch1x1 = ConvBN(cin, 320, 1)
        self.branch3x3_1 = ConvBN(cin, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, **row)
        self.branch3x3_2b = ConvBN(384, 384, **col)
        self.branch3x3dbl_1 = ConvBN(cin, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, **row)
        self.branch3x3dbl_3b = ConvBN(384, 384, **col)
        self.branch_pool = ConvBN(cin, 192, 1)

    def forward(self, x):
        split = self.branch3x3_1(x)
        double = _chain(x, self.branch3x3dbl_1, self.branch3x3dbl_2)
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.pool == "max" else _tf_avg_pool(x)
        return torch.cat([self.branch1x1(x),
                          self.branch3x3_2a(split), self.branch3x3_2b(split),
                          self.branch3x3dbl_3a(double), self.branch3x3dbl_3b(double),
                          self.branch_pool(pooled)], 1)


@dataclass
class InceptionOutput:
    features: torch.Tensor  # N x 2048: pool3, what FID and KID compare
    logits: torch.Tensor  # N x 1008: the classifier with its bias (torchvision's fc)
    logits_unbiased: torch.Tensor  # N x 1008 without the bias: what the original Inception Score code used


class FIDInception(nn.Module):
    """The FID Inception v3 in eval mode; ``weights_sha256`` identifies the file it was loaded from."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = Mixed35(192, 32)
        self.Mixed_5c = Mixed35(256, 64)
        self.Mixed_5d = Mixed35(288, 64)
        self.Mixed_6a = Reduce35(288)
        self.Mixed_6b = Mixed17(768, 128)
        self.Mixed_6c = Mixed17(768, 160)
        self.Mixed_6d = Mixed17(768, 160)
        self.Mixed_6e = Mixed17(768, 192)
        self.Mixed_7a = Reduce17(768)
        self.Mixed_7b = Mixed8(1280, pool="avg")
        self.Mixed_7c = Mixed8(2048, pool="max")
        self.fc = nn.Linear(FEATURES, CLASSES)
        self.weights_sha256: str | None = None
        self.weights_path: pathlib.Path | None = None
        self.requires_grad_(False)
        self.eval()

    @property
    def standard(self) -> bool:
        """True when the weights are pytorch-fid's file: only then are the numbers comparable to papers."""
        return self.weights_sha256 == SHA256

    @staticmethod
    def resize(x: torch.Tensor) -> torch.Tensor:
        """pytorch-fid's resize of [0, 1] images to 299x299 (a no-op at that size)."""
        if tuple(x.shape[-2:]) == (SIZE, SIZE):
            return x
        return F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> InceptionOutput:
        """``x``: N x 3 x H x W RGB in [0, 1]."""
        x = self.resize(x)
        x = 2 * x - 1  # the range TensorFlow's Inception was trained on
        x = _chain(x, self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3)
        x = F.max_pool2d(x, 3, stride=2)
        x = _chain(x, self.Conv2d_3b_1x1, self.Conv2d_4a_3x3)
        x = F.max_pool2d(x, 3, stride=2)
        x = _chain(x, self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                   self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c)
        features = F.adaptive_avg_pool2d(x, 1).flatten(1)  # the pooling pytorch-fid uses: the same sums
        unbiased = features @ self.fc.weight.t().to(features.dtype)
        return InceptionOutput(features, unbiased + self.fc.bias.to(features.dtype), unbiased)


def random_weights(seed: int = 0) -> dict:
    """A state dict with the weights file's keys and shapes and random values, for tests and benchmarks
    where the real file is absent. He-scaled convolutions keep the activations of order 1."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in FIDInception().state_dict().items():
        if _is_counter(key):
            continue
        if key.endswith("conv.weight") or key == "fc.weight":
            fan_in = value[0].numel()
            state[key] = torch.randn(value.shape, generator=generator) * (2.0 / fan_in) ** 0.5
        elif key.endswith(("running_var", "bn.weight")):
            state[key] = 0.8 + 0.4 * torch.rand(value.shape, generator=generator)
        else:  # biases and running means
            state[key] = 0.1 * torch.randn(value.shape, generator=generator)
    return state


def _is_counter(key: str) -> bool:
    """BatchNorm's num_batches_tracked: training bookkeeping, present in some saves and not in others."""
    return key.endswith("num_batches_tracked")


def load_inception(weights=None, device="cpu") -> FIDInception:
    """The network with the weights from ``weights`` (else $TRANSLATION_INCEPTION_WEIGHTS, else the hub cache),
    on ``device`` (a torch.device, or a --device name such as "auto").

    A file named like ``pt_inception-2015-12-05-6726825d.pth`` must have a SHA-256 starting with those digits.
    """
    path = find_inception_weights(weights)
    digest = check_weights_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise InceptionWeightsError(f"{path} is not a PyTorch weights file ({type(error).__name__}: "
                                    f"{str(error).splitlines()[0] if str(error) else ''})") from None
    model = FIDInception()
    if not isinstance(state, dict):
        raise InceptionWeightsError(f"{path} holds a {type(state).__name__}, not a state dict")
    expected = {k for k in model.state_dict() if not _is_counter(k)}
    given = {k for k in state if not _is_counter(k)}
    if expected != given:
        missing, extra = sorted(expected - given), sorted(given - expected)
        raise InceptionWeightsError(
            f"{path} is not the FID Inception weights file: {len(missing)} keys missing "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}), {len(extra)} unexpected "
            f"({', '.join(extra[:3])}{', ...' if len(extra) > 3 else ''})")
    wrong = [f"{k} {tuple(getattr(state[k], 'shape', ()))} (expected {tuple(v.shape)})"
             for k, v in model.state_dict().items() if k in given and getattr(state[k], "shape", None) != v.shape]
    if wrong:
        raise InceptionWeightsError(f"{path}: tensors of the wrong shape: {'; '.join(wrong[:3])}")
    model.load_state_dict({k: v for k, v in state.items() if k in given}, strict=False)
    model.weights_sha256, model.weights_path = digest, path
    return model.to(resolve_device(device))


def resolve_device(device) -> torch.device:
    """A --device name ("auto", "cpu", "cuda", "mps") through select_device; anything else as torch reads it."""
    if isinstance(device, str) and device in DEVICES:
        return select_device(device)
    return torch.device(device)
