"""Feature statistics files: ``.npz`` with ``mu`` and ``sigma`` in float64, pytorch-fid's format.

pytorch-fid reads only those two arrays, so the files written here are read by ``python -m pytorch_fid``
and the files it writes (``--save-stats``) are read here. Ours add, under other keys, what pytorch-fid has no
place for: ``protocol`` (resize, precision, weights: JSON), ``count``, and on request ``features`` (float32,
the values as computed), which KID, precision/recall and the other sample-based metrics need: mu and sigma
are enough for FID only.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field

import numpy as np

from translation.utils.files import atomic_path


@dataclass
class Stats:
    mu: np.ndarray  # D, float64
    sigma: np.ndarray  # D x D, float64
    features: np.ndarray | None = None  # N x D, when stored
    protocol: dict = field(default_factory=dict)  # empty for pytorch-fid's files: they record none
    count: int | None = None
    path: pathlib.Path | None = None


def statistics(features: np.ndarray):
    """(mean, covariance) in float64, as pytorch-fid computes them (np.cov: unbiased, N - 1)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"a covariance needs at least 2 feature rows, got an array of shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def save_stats(path, features: np.ndarray, protocol: dict | None = None, keep_features: bool = False) -> Stats:
    """Write ``mu``/``sigma`` of ``features`` (and the features themselves if asked) to ``path``, atomically."""
    path = pathlib.Path(path)
    mu, sigma = statistics(features)
    arrays = {"mu": mu, "sigma": sigma, "count": np.int64(len(features)),
              "protocol": np.array(json.dumps(protocol or {}))}
    if keep_features:
        arrays["features"] = np.asarray(features, dtype=np.float32)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:  # a handle: np.savez would append ".npz"
        np.savez(handle, **arrays)
    return Stats(mu, sigma, arrays.get("features"), dict(protocol or {}), len(features), path)


def load_stats(path) -> Stats:
    """Read a statistics file, ours or pytorch-fid's; a clear error for anything else."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such statistics file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception as error:
        raise ValueError(f"{path} is not a statistics .npz file ({type(error).__name__}: {error})") from None
    if "mu" not in arrays or "sigma" not in arrays:
        raise ValueError(f"{path} has no mu and sigma (it holds: {', '.join(sorted(arrays)) or 'nothing'}); "
                         "statistics files come from `translation evaluate DIR --save-stats` or pytorch-fid")
    mu, sigma = arrays["mu"].astype(np.float64), arrays["sigma"].astype(np.float64)
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise ValueError(f"{path}: mu has shape {mu.shape} and sigma {sigma.shape}; expected D and D x D")
    protocol = json.loads(str(arrays["protocol"])) if "protocol" in arrays else {}
    count = int(arrays["count"]) if "count" in arrays else None
    return Stats(mu, sigma, arrays.get("features"), protocol, count, path)
