"""Scoring generated images against real ones: the unpaired metrics on features (FID, KID, IS, ...) and the
paired ones on matching files (PSNR, SSIM, L1). `translation evaluate` and training's --eval-every use it.

Features come from pytorch-fid's Inception (metrics/inception.py; the real set's are cached by content) or,
for the built-in digits, from a small classifier trained on them (metrics/digits.py): scores in that space
are named with a `_digits` suffix and do not compare with Inception-based ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from translation.data.io import list_images, read_image
from translation.metrics import sr_protocol
from translation.metrics.formulas import (PAIRED_METRICS, UNPAIRED_METRICS, MetricResult, fid_from_statistics,
                                          gaussian_statistics)
from translation.metrics.image_quality import psnr, ssim



@dataclass
class FeatureSet:
    """Features (and logits) of a set of images, or only the statistics saved from one."""
    name: str
    features: np.ndarray | None
    logits: np.ndarray | None = None
    mu: np.ndarray | None = None
    sigma: np.ndarray | None = None
    count: int = 0
    notes: list[str] = field(default_factory=list)


def digit_feature_set(folder) -> FeatureSet:
    from translation.metrics.digits import digit_features

    files = list_images(folder)
    if not files:
        raise ValueError(f"{folder}: no images")
    features, logits = digit_features([read_image(p) for p in files])
    return FeatureSet(str(folder), features, logits, count=len(files))


def inception_feature_set(folder, model, batch_size: int, device, precision: str, resize: str,
                          cached: bool) -> FeatureSet:
    from translation.metrics.cache import cached_folder_features
    from translation.metrics.features import folder_features

    compute = cached_folder_features if cached else folder_features
    result = compute(folder, model, batch_size, device, precision, resize)
    return FeatureSet(str(folder), result.features, result.logits_unbiased, count=len(result),
                      notes=[result.summary()])


def stats_feature_set(path) -> FeatureSet:
    from translation.metrics.stats import load_stats

    stats = load_stats(path)
    return FeatureSet(str(path), stats.features, None, stats.mu, stats.sigma, stats.count or 0,
                      [f"{path}: saved statistics of {stats.count or 'an unknown number of'} images"])


def unpaired(real: FeatureSet, fake: FeatureSet, metrics: list[str], seed: int = 2020,
             suffix: str = "", skipped: list[str] | None = None) -> list[MetricResult]:
    """Every metric asked for, in one pass over the two feature sets. With a `skipped` list, a metric that
    refuses these sets (the Inception Score's 10 splits on 6 images) is left out and its reason added there
    (`--metrics all`: the others are still worth having); without, its ValueError stops the evaluation."""
    results = []
    for name in metrics:
        try:
            results.append(_unpaired_metric(real, fake, name, seed, suffix))
        except ValueError as error:
            if skipped is None:
                raise
            skipped.append(f"{name}{suffix} left out: {error}")
    return results


def _unpaired_metric(real: FeatureSet, fake: FeatureSet, name: str, seed: int, suffix: str) -> MetricResult:
    if real.features is None:  # saved statistics without features: FID only
        if name != "fid":
            raise ValueError(f"{real.name} holds only mean and covariance: {name} needs the features (save "
                             "them with --save-stats from a folder, which keeps them)")
        mu, sigma = gaussian_statistics(fake.features)
        result = fid_from_statistics(real.mu, real.sigma, mu, sigma, n_real=real.count or None,
                                     n_fake=len(fake.features))
    else:
        result = UNPAIRED_METRICS[name](real.features, fake.features, real.logits, fake.logits, seed=seed)
    result.name += suffix
    return result


def matched_pairs(targets, outputs) -> list[tuple[Path, Path]]:
    """(target, output) by relative path without extension; unmatched names are an error listing a few."""
    def index(folder):
        folder = Path(folder)
        return {p.relative_to(folder).with_suffix("").as_posix(): p for p in list_images(folder)}

    left, right = index(targets), index(outputs)
    if not left or not right:
        raise ValueError(f"{targets if not left else outputs}: no images")
    missing = sorted(set(left) ^ set(right))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"--paired: {len(missing)} names are in only one of the folders ({shown})")
    return [(left[key], right[key]) for key in sorted(left)]


def paired(targets, outputs, metrics: list[str], y_channel: bool = False, crop_border: int = 0) -> list[MetricResult]:
    """Mean PSNR (dB), SSIM and L1 (0-1 scale) of each output against the target of the same name.

    y_channel or crop_border: the super-resolution protocol of BasicSR (metrics/sr_protocol.py): every metric on
    the BT.601 Y channel (RGB images; gray ones as they are) and/or without crop_border pixels on each side, PSNR
    and SSIM by BasicSR's formulas.
    """
    unknown = [m for m in metrics if m not in PAIRED_METRICS]
    if unknown:
        raise ValueError(f"--paired metrics are {', '.join(PAIRED_METRICS)}; not {', '.join(unknown)}")
    protocol = y_channel or crop_border
    if protocol:
        functions = {"psnr": sr_protocol.psnr, "ssim": sr_protocol.ssim, "l1": sr_protocol.l1}
        options = {"y_channel": y_channel, "crop_border": crop_border}
    else:
        functions, options = {"psnr": psnr, "ssim": ssim, "l1": lambda a, b: float(np.abs(a - b).mean())}, {}
    scores = {name: [] for name in metrics}
    for target_path, output_path in matched_pairs(targets, outputs):
        target, output = read_image(target_path), read_image(output_path)
        if target.shape != output.shape:
            raise ValueError(f"{output_path}: {output.shape[1]}x{output.shape[0]}x{output.shape[2]}, but its "
                             f"target {target_path} is {target.shape[1]}x{target.shape[0]}x{target.shape[2]}")
        for name in metrics:
            try:
                scores[name].append(functions[name](output, target, **options))
            except ValueError as error:
                raise ValueError(f"{output_path}: {error}") from None
    ideal = {"psnr": "higher", "ssim": "1", "l1": "0"}
    details = {"channel": "Y (BT.601)" if y_channel else "all", "crop_border": crop_border} if protocol else {}
    # identical images give PSNR inf (as BasicSR), and then a mean of inf and no spread
    return [MetricResult(name, float(np.mean(v)), float(np.std(v)) if np.isfinite(v).all() else None, ideal[name],
                         {"images": len(v), **details}) for name, v in scores.items()]
