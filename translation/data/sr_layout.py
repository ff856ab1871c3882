"""The super-resolution data layout: an HR folder and an LR folder per split, files of the same name.

    ROOT/<split>/HR/<name>.png                 the high-resolution image, sides multiples of the scale
    ROOT/<split>/LR_bicubic/X<scale>/<name>.png its MATLAB-bicubic reduction, exactly 1/scale of HR's size

The names follow DIV2K's DIV2K_train_HR/ and DIV2K_train_LR_bicubic/X4/ with the split as a folder, as the other
layouts here have it; several scales share one ROOT when HR's sides are multiples of each (e.g. of 12 for 2, 3
and 4). DIV2K's own folders (ROOT/DIV2K_<train|valid>_HR/, LR files named 0001x4.png) are read as they are.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

HR_FOLDER = "HR"
LR_FOLDER = "LR_bicubic"
DIV2K_PHASES = {"train": "train", "val": "valid"}  # DIV2K ships train and valid, no test


def lr_folder(split_root: Path, scale: int) -> Path:
    return Path(split_root) / LR_FOLDER / f"X{scale}"


def sr_folders(root, phase: str, scale: int) -> tuple[Path, Path]:
    """(HR folder, LR folder) of `phase` in the layout prepare writes."""
    split_root = Path(root) / phase
    return split_root / HR_FOLDER, lr_folder(split_root, scale)


def div2k_folders(root, phase: str, scale: int) -> tuple[Path, Path] | None:
    """DIV2K's own (HR, LR) folders for `phase`, or None where DIV2K has no such split."""
    name = DIV2K_PHASES.get(phase)
    if name is None:
        return None
    root = Path(root)
    return root / f"DIV2K_{name}_HR", root / f"DIV2K_{name}_LR_bicubic" / f"X{scale}"


def mod_crop(image: np.ndarray, scale: int) -> np.ndarray:
    """Drop the last rows and columns so both sides are multiples of `scale` (BasicSR's mod_crop)."""
    h, w = image.shape[:2]
    return image[: h - h % scale, : w - w % scale]
