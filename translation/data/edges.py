"""Edge maps for paired edges→photo data sets: black lines (0.0) on white (1.0), float32 H x W x 1.

``canny_edges``: OpenCV Canny with thresholds from the median intensity.
``hed_like_edges``: the post-processing of the official edges2shoes/edges2handbags sets
(edge strength → non-maximum suppression → threshold 25/255 → thinning → removal of pieces
under 5 px → inverted), with Sobel gradient magnitude standing in for the HED network. The
gradient and suppression run in NumPy/OpenCV or, for tensors and ``device=...``, in PyTorch
(kornia) on any device; thinning and component removal always run in scikit-image so that both
paths share the exact same topology code.
"""
from __future__ import annotations

from typing import Optional, Union

import cv2
import numpy as np
from skimage.measure import label
from skimage.morphology import thin

from translation.data.io import luminance

# Lowest Canny thresholds (on the 3x3 Sobel magnitude of 8-bit luminance).
CANNY_MIN_LOWER = 20
CANNY_MIN_UPPER = 50
# Smoothing before the gradient: HED responds to object contours, not pixel noise.
HED_SMOOTH_SIGMA = 1.0
HED_THRESHOLD = 25 / 255  # the official edges2* threshold on an edge strength in [0, 1]
HED_MIN_COMPONENT = 5  # pieces under 5 px are removed in the official sets
_TAN_22_5 = 0.41421356237309503  # tan(22.5°): splits gradient directions into 4 bins

_SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
_SOBEL_Y = _SOBEL_X.T.copy()


def _luminance(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an H x W x C image with C in 1, 3 (4), got shape {image.shape}")
    if image.shape[2] == 1:
        return image[:, :, 0]
    return luminance(image)[:, :, 0]


def canny_edges(image: np.ndarray, sigma: float = 0.33) -> np.ndarray:
    """Canny edges with automatic thresholds: ``(1 ± sigma) * median`` of the blurred luminance."""
    gray = np.round(np.clip(_luminance(image), 0.0, 1.0) * 255).astype(np.uint8)
    gray = cv2.GaussianBlur(gray, (5, 5), 0)  # suppresses sensor/JPEG noise that would become speckle
    median = float(np.median(gray))
    # Floors keep a mostly dark image (median near 0) from turning its noise into edges.
    lower = int(max(CANNY_MIN_LOWER, (1.0 - sigma) * median))
    upper = int(max(CANNY_MIN_UPPER, min(255.0, (1.0 + sigma) * median)))
    edges = cv2.Canny(gray, lower, max(upper, lower + 1), L2gradient=True)
    return (1.0 - edges.astype(np.float32) / 255.0)[:, :, None]


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(round(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-(x**2) / (2 * sigma**2))
    return (kernel / kernel.sum()).astype(np.float32)


def _suppress_non_maxima(magnitude, gx, gy, xp):
    """Keep pixels at least as strong as both neighbours across the edge; ``xp`` is numpy or torch."""
    padded = xp.nn.functional.pad(magnitude[None, None], (1, 1, 1, 1))[0, 0] if xp.__name__ == "torch" \
        else np.pad(magnitude, 1)
    h, w = magnitude.shape[-2:]

    def shifted(dy, dx):  # neighbour at (y + dy, x + dx), zero outside the image
        return padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]

    ax, ay = xp.abs(gx), xp.abs(gy)
    horizontal = ay <= _TAN_22_5 * ax  # gradient along x: edge runs vertically
    vertical = ax <= _TAN_22_5 * ay
    same_sign = (gx * gy) > 0  # gradient towards down-right (y grows downwards)
    n1 = xp.where(horizontal, shifted(0, -1), xp.where(vertical, shifted(-1, 0),
                  xp.where(same_sign, shifted(-1, -1), shifted(-1, 1))))
    n2 = xp.where(horizontal, shifted(0, 1), xp.where(vertical, shifted(1, 0),
                  xp.where(same_sign, shifted(1, 1), shifted(1, -1))))
    return (magnitude >= n1) & (magnitude >= n2)


def _strength_numpy(gray: np.ndarray, sigma: float):
    kernel = _gaussian_kernel(sigma)
    smooth = cv2.sepFilter2D(gray, cv2.CV_32F, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)
    gx = cv2.filter2D(smooth, cv2.CV_32F, _SOBEL_X, borderType=cv2.BORDER_REFLECT_101)
    gy = cv2.filter2D(smooth, cv2.CV_32F, _SOBEL_Y, borderType=cv2.BORDER_REFLECT_101)
    # Divided by 4 (the Sobel gain) so a step of contrast c gives strength ≈ c, in [0, 1] like HED.
    magnitude = np.sqrt(gx * gx + gy * gy) / 4.0
    return magnitude, gx, gy


def _candidates_numpy(gray: np.ndarray, threshold: float, sigma: float) -> np.ndarray:
    magnitude, gx, gy = _strength_numpy(gray, sigma)
    return _suppress_non_maxima(magnitude, gx, gy, np) & (magnitude > threshold)


def _candidates_torch(images, threshold: float, sigma: float):
    """Same as the NumPy path for a B x C x H x W tensor; returns a B x H x W bool tensor."""
    import torch
    from kornia.filters import filter2d, filter2d_separable

    if images.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=images.dtype, device=images.device)
        gray = (images * weights.view(1, 3, 1, 1)).sum(1, keepdim=True)
    elif images.shape[1] == 1:
        gray = images
    else:
        raise ValueError(f"expected 1 or 3 channels, got {images.shape[1]}")
    kernel = torch.from_numpy(_gaussian_kernel(sigma)).to(gray)[None]
    smooth = filter2d_separable(gray, kernel, kernel, border_type="reflect")  # = OpenCV REFLECT_101
    gx = filter2d(smooth, torch.from_numpy(_SOBEL_X).to(gray)[None], border_type="reflect")[:, 0]
    gy = filter2d(smooth, torch.from_numpy(_SOBEL_Y).to(gray)[None], border_type="reflect")[:, 0]
    magnitude = torch.sqrt(gx * gx + gy * gy) / 4.0
    keep = torch.stack([_suppress_non_maxima(m, x, y, torch) for m, x, y in zip(magnitude, gx, gy)])
    return keep & (magnitude > threshold)


def _clean(candidates: np.ndarray, min_component: int) -> np.ndarray:
    """Thin to one-pixel lines, drop pieces under ``min_component`` px; returns black-on-white."""
    lines = thin(candidates)
    if min_component > 1 and lines.any():
        labels = label(lines, connectivity=2)  # diagonal steps keep a line in one piece
        sizes = np.bincount(labels.ravel())
        small = sizes < min_component
        small[0] = False
        lines[small[labels]] = False
    return (1.0 - lines.astype(np.float32))[:, :, None]


def hed_like_edges(
    image,
    threshold: float = HED_THRESHOLD,
    min_component: int = HED_MIN_COMPONENT,
    device: Optional[Union[str, "torch.device"]] = None,  # noqa: F821
    sigma: float = HED_SMOOTH_SIGMA,
):
    """Edge map in the style of the official edges2shoes/handbags sets.

    ``image``: float32 H x W x C NumPy array in [0, 1] (C 1 or 3) → float32 H x W x 1 array; or a
    tensor C x H x W / B x C x H x W → tensor 1 x H x W / B x 1 x H x W on the input's device.
    ``device`` (e.g. ``"cuda"``) runs the gradient stage of a NumPy input in PyTorch there; the
    result matches the CPU path up to floating-point ties at the threshold.
    """
    if _is_tensor(image):
        return _hed_like_tensor(image, threshold, min_component, sigma)
    if device is not None:
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
        tensor = (tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)).to(device)
        return _hed_like_tensor(tensor[:3] if tensor.shape[0] == 4 else tensor,
                                threshold, min_component, sigma)[0].cpu().numpy()[:, :, None]
    candidates = _candidates_numpy(_luminance(image), threshold, sigma)
    return _clean(candidates, min_component)


def _is_tensor(value) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return isinstance(value, torch.Tensor)


def _hed_like_tensor(images, threshold, min_component, sigma):
    import torch

    batched = images.ndim == 4
    batch = images if batched else images[None]
    with torch.no_grad():
        candidates = _candidates_torch(batch.float(), threshold, sigma).cpu().numpy()
    # Thinning and labelling are sequential graph operations: scikit-image on the CPU, shared with
    # the NumPy path, so both paths differ only where the float gradient ties at the threshold.
    cleaned = np.stack([_clean(c, min_component)[:, :, 0] for c in candidates])[:, None]
    out = torch.from_numpy(cleaned).to(images.device)
    return out if batched else out[0]
