"""Paired data sets for pix2pix-style training.

Layouts understood (the first that matches wins):
  ROOT/PHASE/*.png                 aligned files, A on the left half and B on the right (official format)
  ROOT/PHASE/A/, ROOT/PHASE/B/     two folders with matching file names
  ROOT/A/PHASE/, ROOT/B/PHASE/     the layout the official combine script reads
  ROOT/A/, ROOT/B/                 two flat folders (used as the training split)
  ROOT/*.png                       aligned files directly in ROOT (used as the training split)
Pairs in two folders are matched by relative path without extension; an unmatched name is an error that
lists the names, never a silent skip.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from translation.checkpoint import DIRECTIONS
from translation.data.arrays import read_channels, to_channels
from translation.data.io import ImageReadError, list_images, read_image
from translation.data.transforms import PairTransform


class DataSetError(ValueError):
    """A data set that cannot be used as given (missing folders, unmatched pairs, ...)."""


@dataclass(frozen=True)
class Pair:
    a: Path
    b: Path | None  # None: `a` is an aligned A|B file


def _key(path: Path, root: Path) -> str:
    return str(path.relative_to(root).with_suffix(""))


def match_folders(a_dir: Path, b_dir: Path) -> list[Pair]:
    a_files = {_key(p, a_dir): p for p in list_images(a_dir)}
    b_files = {_key(p, b_dir): p for p in list_images(b_dir)}
    only_a, only_b = sorted(set(a_files) - set(b_files)), sorted(set(b_files) - set(a_files))
    if only_a or only_b:
        lines = [f"{a_dir} and {b_dir} do not pair up by file name:"]
        for label, names in ((f"only in {a_dir}", only_a), (f"only in {b_dir}", only_b)):
            if names:
                shown = ", ".join(names[:10]) + (f" ... ({len(names) - 10} more)" if len(names) > 10 else "")
                lines.append(f"  {len(names)} {label}: {shown}")
        raise DataSetError("\n".join(lines))
    return [Pair(a_files[k], b_files[k]) for k in sorted(a_files)]


def find_pairs(root, phase: str = "train") -> list[Pair]:
    root = Path(root)
    if not root.is_dir():
        raise DataSetError(f"{root}: no such data set folder")
    candidates = [
        (root / phase / "A", root / phase / "B"),
        (root / "A" / phase, root / "B" / phase),
    ]
    if phase == "train":
        candidates.append((root / "A", root / "B"))
    for a_dir, b_dir in candidates:
        if a_dir.is_dir() and b_dir.is_dir():
            pairs = match_folders(a_dir, b_dir)
            if pairs:
                return pairs
    for folder in ([root / phase] if (root / phase).is_dir() else []) + ([root] if phase == "train" else []):
        files = list_images(folder, recursive=False)
        if files:
            return [Pair(p, None) for p in files]
    raise DataSetError(
        f"{root}: found no {phase} images. Expected aligned A|B files in {root / phase}/, or matching "
        f"folders {root / phase / 'A'}/ and {root / phase / 'B'}/ (see README 'Data layouts')")


def load_pair(pair: Pair, input_nc: int, output_nc: int) -> tuple[np.ndarray, np.ndarray]:
    """Read one pair as float arrays (A, B) with the requested channel counts."""
    if pair.b is None:
        plain = input_nc in (1, 3) and output_nc in (1, 3)
        both = read_image(pair.a) if plain else read_image(pair.a, alpha="keep")
        h, w = both.shape[:2]
        if w < 2:
            raise ImageReadError(pair.a, f"{w} px wide, too narrow to hold an A|B pair")
        a, b = both[:, : w // 2], both[:, w // 2: (w // 2) * 2]
    else:
        a, b = read_channels(pair.a, input_nc), read_channels(pair.b, output_nc)
        if a.shape[:2] != b.shape[:2]:
            raise DataSetError(f"{pair.a} is {a.shape[1]}x{a.shape[0]} but {pair.b} is "
                               f"{b.shape[1]}x{b.shape[0]}: the two images of a pair must have the same size "
                               "(resize them, e.g. with `translation prepare combine --resize`)")
    return to_channels(a, input_nc, str(pair.a)), to_channels(b, output_nc, str(pair.b or pair.a))


class PairedDataset(Dataset):
    """Yields {"A", "B"} tensors in [-1, 1] and "path"; BtoA swaps the roles of the two halves.

    Indexed by (index, seed): the seed drives the random crop/flip of that sample (see transforms.py).
    A plain integer index means seed 0 (deterministic), handy for looking at samples.
    """

    def __init__(self, root, phase: str = "train", direction: str = "AtoB", input_nc: int = 3,
                 output_nc: int = 3, transform: PairTransform | None = None, max_size: int = 0):
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be {' or '.join(DIRECTIONS)}, got {direction!r}")
        self.pairs = find_pairs(root, phase)
        if max_size:
            self.pairs = self.pairs[:max_size]
        self.direction, self.input_nc, self.output_nc = direction, input_nc, output_nc
        self.transform = transform or PairTransform("none", flip=False)
        self.shuffle = True  # the trainer draws a fresh order every epoch

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, 0)
        pair = self.pairs[index]
        # read in file order, then assign roles: with BtoA the right/B image is the input
        first_nc, second_nc = ((self.input_nc, self.output_nc) if self.direction == "AtoB"
                               else (self.output_nc, self.input_nc))
        a, b = load_pair(pair, first_nc, second_nc)
        source, target = (a, b) if self.direction == "AtoB" else (b, a)
        out = self.transform({"A": source, "B": target}, seed=seed, source=str(pair.a))
        return {"A": out["A"], "B": out["B"], "path": str(pair.a)}
