"""Super-resolution pairs (srresnet, srgan, esrgan): an LR input at exactly 1/scale of its HR target.

Folders: sr_layout.py (what `prepare superres --layout sr` writes, or DIV2K's own). Training (gt_size > 0) follows
BasicSR's PairedImageDataset: a random gt_size x gt_size HR crop and the LR crop at the same place / scale, then
horizontal flip, vertical flip and transpose ("rot90"), each with p 0.5 and the same for both images. gt_size 0
reads whole images (validation, test). Every pair's sizes are checked from the file headers when the data set is
made, so a bad file stops the run before its first step, not hours in.

Items are {"A": LR, "B": HR, "path": the LR file} as tensors in [-1, 1], like every data set here; BasicSR's nets
work in [0, 1] (nets/superres.py VALUE_RANGE), so the model maps x -> (x + 1) / 2 on the way in and back out.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from translation.data.arrays import read_channels, to_channels, to_tensor
from translation.data.datasets import DataSetError, problem_lines, Pair, match_folders
from translation.data.io import image_size
from translation.data.sr_layout import div2k_folders, sr_folders

DEFAULT_GT_SIZE = 128  # BasicSR's HR patch for SRResNet/ESRGAN training (x4: 32 px LR patches)


def find_sr_pairs(root, phase: str = "train", scale: int = 4) -> list[Pair]:
    """Pair(a=LR, b=HR) for `phase`, from the layout prepare writes or DIV2K's folders; names must match."""
    root = Path(root)
    if not root.is_dir():
        raise DataSetError(f"{root}: no such data set folder")
    hr_dir, lr_dir = sr_folders(root, phase, scale)
    candidates = [(hr_dir, lr_dir, "")]
    div2k = div2k_folders(root, phase, scale)
    if div2k:
        candidates.append((*div2k, f"x{scale}"))  # DIV2K names its LR files 0001x4.png
    for hr, lr, suffix in candidates:
        if hr.is_dir() and lr.is_dir():
            pairs = match_folders(lr, hr, a_suffix=suffix)
            if pairs:
                return pairs
    if hr_dir.is_dir():
        others = sorted(p.name for p in lr_dir.parent.glob("X*")) if lr_dir.parent.is_dir() else []
        found = f" (it has {', '.join(others)})" if others else ""
        raise DataSetError(f"{root}: no ×{scale} LR images in {lr_dir}{found}; write a ×{scale} set with "
                           f"`translation prepare superres PHOTOS OUT --layout sr --scale {scale}`")
    div2k_hint = f", or DIV2K's {div2k[0].name}/ and {div2k[1].parent.name}/{div2k[1].name}/" if div2k else ""
    raise DataSetError(f"{root}: found no {phase} super-resolution pairs: expected {hr_dir}/ and {lr_dir}/ "
                       f"(`translation prepare superres --layout sr` writes them){div2k_hint}")


def size_problem(lr: Path, hr: Path, lr_size: tuple[int, int], hr_size: tuple[int, int], scale: int,
                 gt_size: int) -> str | None:
    """Why this pair cannot be used (sizes as (width, height)), or None."""
    if (lr_size[0] * scale, lr_size[1] * scale) != tuple(hr_size):
        return (f"{lr} is {lr_size[0]}x{lr_size[1]}, and ×{scale} that is not {hr}'s {hr_size[0]}x{hr_size[1]}: an LR "
                f"image must be exactly 1/{scale} of its HR (crop HR to multiples of {scale} first)")
    if gt_size and min(hr_size) < gt_size:
        return (f"{hr} is {hr_size[0]}x{hr_size[1]}, smaller than the {gt_size} px HR patches training crops "
                "(--gt-size): remove it or lower --gt-size")
    return None


def check_gt_size(gt_size: int, scale: int) -> None:
    if gt_size < 0:
        raise ValueError(f"--gt-size must be 0 (whole images) or a positive multiple of --scale, got {gt_size}")
    if gt_size % scale:
        low, high = gt_size // scale * scale, (gt_size // scale + 1) * scale
        raise ValueError(f"--gt-size {gt_size} must be a multiple of --scale {scale} (the LR patch is gt_size / "
                         f"scale): e.g. {low} or {high}")


def paired_crop(lr: np.ndarray, hr: np.ndarray, gt_size: int, scale: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A gt_size HR patch and its LR patch: the corner is drawn on the LR grid, so both cover the same area."""
    patch = gt_size // scale
    top = int(rng.integers(0, lr.shape[0] - patch + 1))
    left = int(rng.integers(0, lr.shape[1] - patch + 1))
    return (lr[top: top + patch, left: left + patch],
            hr[top * scale: top * scale + gt_size, left * scale: left * scale + gt_size])


def flip_and_rotate(images: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """BasicSR's augment(hflip=True, rotation=True): the 8 flips/rotations of the square, drawn as three coins."""
    hflip, vflip, transpose = (rng.random(3) < 0.5).tolist()
    out = []
    for image in images:
        if hflip:
            image = image[:, ::-1]
        if vflip:
            image = image[::-1]
        if transpose:
            image = image.transpose(1, 0, 2)
        out.append(image)
    return out


class SuperResDataset(Dataset):
    """LR/HR pairs for super-resolution; indexed by (index, seed) as PairedDataset (a plain index: seed 0).

    `gt_size`: HR patch side for training (a multiple of `scale`); 0 reads whole images, for evaluation (a batch
    then needs images of one size, or batch size 1). `augment`: the flips and rotations (training).
    """

    def __init__(self, root, phase: str = "train", scale: int = 4, gt_size: int = DEFAULT_GT_SIZE,
                 augment: bool = True, channels: int = 3, max_size: int = 0):
        if scale < 1:
            raise ValueError(f"--scale must be at least 1, got {scale}")
        check_gt_size(gt_size, scale)
        self.scale, self.gt_size, self.augment, self.channels = scale, gt_size, augment, channels
        self.pairs = find_sr_pairs(root, phase, scale)
        if max_size:
            self.pairs = self.pairs[:max_size]
        self._check_sizes()
        self.shuffle = True  # the trainer draws a fresh order every epoch

    def _check_sizes(self) -> None:
        problems = [size_problem(p.a, p.b, image_size(p.a), image_size(p.b), self.scale, self.gt_size)
                    for p in self.pairs]
        problems = [line for line in problems if line]
        if problems:
            raise DataSetError(f"{len(problems)} of {len(self.pairs)} super-resolution pairs cannot be used:"
                               + problem_lines(problems))

    def __len__(self) -> int:
        return len(self.pairs)

    def _read(self, path: Path) -> np.ndarray:
        return to_channels(read_channels(path, self.channels), self.channels, str(path))

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, 0)
        pair = self.pairs[index]
        lr, hr = self._read(pair.a), self._read(pair.b)
        # the headers were checked when the set was made; the pixels must agree (a file replaced since)
        problem = size_problem(pair.a, pair.b, lr.shape[1::-1], hr.shape[1::-1], self.scale, self.gt_size)
        if problem:
            raise DataSetError(problem)
        rng = np.random.default_rng(seed)
        if self.gt_size:
            lr, hr = paired_crop(lr, hr, self.gt_size, self.scale, rng)
        if self.augment:
            lr, hr = flip_and_rotate([lr, hr], rng)
        return {"A": to_tensor(lr), "B": to_tensor(hr), "path": str(pair.a)}
