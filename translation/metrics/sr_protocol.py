"""PSNR and SSIM as super-resolution papers report them: XPixelGroup/BasicSR's calculate_psnr / calculate_ssim.

Inputs are images as translation.data.io.read_image gives them (float32 H x W x C in [0, 1]; 8-bit files are
u / 255 in float32, as BasicSR's scripts/metrics/calculate_psnr_ssim.py reads them), and every step keeps
BasicSR's types, so the numbers are theirs:
  Y channel   ITU-R BT.601 luma of MATLAB's rgb2ycbcr, Y = 16 + 65.481 R + 128.553 G + 24.966 B on [0, 1]
              RGB (range 16-235), computed in float64 and stored as float32 on [0, 1] before it is scaled to
              0-255 (BasicSR's bgr2ycbcr / to_y_channel). Gray images are used as they are, as BasicSR's.
  crop_border N pixels off every side before scoring (BasicSR: N = the scale factor).
  PSNR        10 log10(255^2 / MSE) in float64 on the 0-255 scale; identical images give inf, as BasicSR.
  SSIM        Wang et al. 2004 on the 0-255 scale, C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, an 11 x 11 Gaussian
              window with sigma 1.5 (cv2.getGaussianKernel), filtered with cv2.filter2D and kept where the window
              fits inside the image ('valid'), the map's mean; per channel, then the mean of the channels.
"""
from __future__ import annotations

import numpy as np

Y_FROM_RGB = (65.481, 128.553, 24.966)  # BT.601 on [0, 1] RGB, giving Y on 16-235
Y_OFFSET = 16.0
SSIM_WINDOW, SSIM_SIGMA = 11, 1.5


def to_y_channel(image: np.ndarray) -> np.ndarray:
    """H x W x 3 RGB in [0, 1] -> H x W x 1 float32 Y on 0-255, step for step as BasicSR's to_y_channel of the
    same pixels in BGR order; H x W x 1 (gray) comes back as it is, on 0-255."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(f"the Y channel needs RGB or gray images (H x W x 3 or 1), got shape {image.shape}")
    if image.shape[2] == 1:
        return image * np.float32(255.0)
    # BasicSR: np.dot of the float32 BGR image with a list (so in float64), + 16, / 255, then float32
    y = (np.dot(image[..., ::-1], list(Y_FROM_RGB[::-1])) + Y_OFFSET) / 255.0
    return y.astype(np.float32)[..., None] * np.float32(255.0)


def prepare(image: np.ndarray, crop_border: int = 0, y_channel: bool = False) -> np.ndarray:
    """An image in [0, 1] as BasicSR scores it: on 0-255 (Y only, or every channel), the border cropped, float64."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if not isinstance(crop_border, (int, np.integer)) or isinstance(crop_border, bool) or crop_border < 0:
        raise ValueError(f"crop_border must be an integer >= 0, got {crop_border!r}")
    height, width = image.shape[:2]
    if 2 * crop_border >= min(height, width):
        raise ValueError(f"a border of {crop_border} px on each side leaves nothing of a {width}x{height} image")
    image = to_y_channel(image) if y_channel else image * np.float32(255.0)
    if crop_border:
        image = image[crop_border:-crop_border, crop_border:-crop_border]
    return image.astype(np.float64)


def _pair(output, target, crop_border: int, y_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    output, target = np.asarray(output), np.asarray(target)
    if output.shape != target.shape:
        raise ValueError(f"the output is {output.shape} and its target {target.shape}: they must be the same shape")
    return prepare(output, crop_border, y_channel), prepare(target, crop_border, y_channel)


def psnr(output: np.ndarray, target: np.ndarray, crop_border: int = 0, y_channel: bool = False) -> float:
    """BasicSR's calculate_psnr (test_y_channel=y_channel) of two images in [0, 1], in dB; inf when equal."""
    output, target = _pair(output, target, crop_border, y_channel)
    mse = np.mean((output - target) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 * 255.0 / mse))


def ssim(output: np.ndarray, target: np.ndarray, crop_border: int = 0, y_channel: bool = False) -> float:
    """BasicSR's calculate_ssim (test_y_channel=y_channel) of two images in [0, 1]: the mean over channels."""
    output, target = _pair(output, target, crop_border, y_channel)
    if min(output.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels after cropping the border, got "
                         f"{output.shape[1]}x{output.shape[0]}")
    return float(np.mean([_ssim_channel(output[..., c], target[..., c]) for c in range(output.shape[2])]))


def l1(output: np.ndarray, target: np.ndarray, crop_border: int = 0, y_channel: bool = False) -> float:
    """Mean absolute difference on the 0-1 scale, of the same pixels PSNR and SSIM see."""
    output, target = _pair(output, target, crop_border, y_channel)
    return float(np.abs(output - target).mean() / 255.0)


def _ssim_channel(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    kernel = cv2.getGaussianKernel(SSIM_WINDOW, SSIM_SIGMA)
    window = np.outer(kernel, kernel.transpose())
    edge = SSIM_WINDOW // 2
    inside = (slice(edge, -edge), slice(edge, -edge))  # where the whole window is on the image

    def local_mean(x: np.ndarray) -> np.ndarray:
        return cv2.filter2D(x, -1, window)[inside]

    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a, var_b = local_mean(a * a) - mu_a ** 2, local_mean(b * b) - mu_b ** 2
    cov = local_mean(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())
