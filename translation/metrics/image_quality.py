"""Full-reference quality of an output against its ground truth (paired tasks): PSNR and SSIM."""
from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def psnr(output: np.ndarray, target: np.ndarray) -> float:
    """PSNR in dB of HxWxC float images in [0, 1]."""
    return float(peak_signal_noise_ratio(target, output, data_range=1.0))


def ssim(output: np.ndarray, target: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004) over channels, Gaussian window as in the paper."""
    return float(structural_similarity(target, output, data_range=1.0, channel_axis=2, gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False))
