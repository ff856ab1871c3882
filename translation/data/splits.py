"""Deterministic train/val/test assignment by file-name hash.

A file's split depends only on its own name, so adding or removing other files never moves it
from train to test (no leakage between runs of `prepare` on a growing folder).
"""
from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")


def name_fraction(name: str) -> float:
    """A stable pseudo-random number in [0, 1) for ``name`` (same on every machine and Python)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_for(name: str, val_fraction: float = 0.0, test_fraction: float = 0.0) -> str:
    """"test" for the first ``test_fraction`` of the hash range, then "val", else "train"."""
    check_fractions(val_fraction, test_fraction)
    u = name_fraction(name)
    if u < test_fraction:
        return "test"
    if u < test_fraction + val_fraction:
        return "val"
    return "train"


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    for label, value in (("val fraction", val_fraction), ("test fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{label} must be in [0, 1), got {value}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val + test fractions ({val_fraction} + {test_fraction}) leave nothing to train on")
