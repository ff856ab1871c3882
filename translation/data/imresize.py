"""MATLAB's `imresize(img, scale, 'bicubic')`: the degradation published super-resolution tables use.

The DIV2K/Set5/Set14 low-resolution images are made with MATLAB's imresize (BasicSR's
`basicsr/utils/matlab_functions.py` reproduces it), and PSNR figures move by tenths of a dB with another
resampler. What MATLAB does, per dimension (it is separable):
- Keys' cubic kernel with a = -0.5 (Keys 1981), support 4 pixels;
- when shrinking by s < 1 with antialiasing (its default) the kernel is stretched to 4 / s pixels and scaled by
  s, so every output pixel averages the input it covers (a low-pass filter before sampling);
- output pixel x (1-based) samples input position u = x / s + (1 - 1 / s) / 2 (pixel centres line up);
- each output's weights are normalised to sum to 1;
- outside the image the input is mirrored with the edge pixel repeated (..., 2, 1, 1, 2, ..., n, n, n-1, ...).
This works in float64 throughout and does not round between the two passes.
"""
from __future__ import annotations

import math

import numpy as np


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's and PIL's bicubic)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def contributions(in_length: int, out_length: int, scale: float,
                  antialias: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(weights, indices), each out_length x taps: output i = sum_k weights[i, k] * input[indices[i, k]].

    Indices are 0-based and already mirrored into the image, so they may repeat within a row."""
    shrink_aa = antialias and scale < 1
    width = 4.0 / scale if shrink_aa else 4.0
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    taps = math.ceil(width) + 2  # one more than needed each side: extra taps get weight 0
    positions = left[:, None] + np.arange(taps)[None, :]  # 1-based input positions
    distance = u[:, None] - positions
    weights = scale * cubic(distance * scale) if shrink_aa else cubic(distance)
    weights /= weights.sum(axis=1, keepdims=True)
    # MATLAB's symmetric extension: position p maps through [1..n, n..1] with period 2n
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    indices = mirror[(positions.astype(np.int64) - 1) % (2 * in_length)]
    return weights, indices


def _resize_axis(image: np.ndarray, axis: int, out_length: int, scale: float, antialias: bool) -> np.ndarray:
    weights, indices = contributions(image.shape[axis], out_length, scale, antialias)
    moved = np.moveaxis(image, axis, 0)
    out = np.zeros((out_length,) + moved.shape[1:], dtype=np.float64)
    extra = (slice(None),) + (None,) * (moved.ndim - 1)  # broadcast a column of weights over the other axes
    for k in range(weights.shape[1]):
        out += weights[:, k][extra] * moved[indices[:, k]]
    return np.moveaxis(out, 0, axis)


def imresize(image: np.ndarray, scale: float | None = None, size: tuple[int, int] | None = None,
             antialias: bool = True) -> np.ndarray:
    """Resize H x W (x C) by `scale` (output ceil(H * scale) x ceil(W * scale)) or to `size` = (height, width), as
    MATLAB's imresize(..., 'bicubic'). Float64 out, not clipped (bicubic overshoots at edges): clip and round
    when writing, as MATLAB does for uint8 images."""
    if (scale is None) == (size is None):
        raise ValueError("imresize: give either scale or size")
    image = np.asarray(image, dtype=np.float64)
    h, w = image.shape[:2]
    if size is None:
        if scale <= 0:
            raise ValueError(f"imresize: scale must be positive, got {scale}")
        size = (math.ceil(h * scale), math.ceil(w * scale))
        scales = (scale, scale)
    else:
        if min(size) < 1:
            raise ValueError(f"imresize: size must be at least 1 x 1, got {size[1]}x{size[0]}")
        scales = (size[0] / h, size[1] / w)
    out = image
    # MATLAB resizes the dimension with the smaller scale first (fewer pixels for the second pass)
    for axis in sorted((0, 1), key=lambda a: scales[a]):
        out = _resize_axis(out, axis, size[axis], scales[axis], antialias)
    return out


def bicubic_downscale(image: np.ndarray, factor: int) -> np.ndarray:
    """The SR benchmarks' LR image: MATLAB imresize(HR, 1/factor, 'bicubic'), as float32 clipped to [0, 1].

    The HR sides must be multiples of `factor` (mod-crop first), so that LR x factor == HR exactly."""
    h, w = image.shape[:2]
    if h % factor or w % factor:
        raise ValueError(f"a {w}x{h} image does not shrink by {factor} exactly: crop it to a multiple of {factor}")
    out = imresize(image, size=(h // factor, w // factor))
    return np.clip(out, 0.0, 1.0).astype(np.float32)
