"""Unpaired data sets for CycleGAN-style training: two folders of unrelated images.

Layouts understood (the first that matches wins):
  ROOT/trainA/, ROOT/trainB/       the official CycleGAN layout (testA/, testB/ for phase "test")
  ROOT/train/A/, ROOT/train/B/     the layout of our paired folders
  ROOT/A/, ROOT/B/                 two flat folders (used as the training split)
The two domains may hold different numbers of images and images of different sizes; each domain is
resized and cropped on its own.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from translation.data.arrays import read_channels
from translation.data.datasets import DataSetError
from translation.data.io import list_images
from translation.data.transforms import PairTransform


def find_domains(root, phase: str = "train") -> tuple[list[Path], list[Path]]:
    """The image files of domain A and domain B for `phase`."""
    root = Path(root)
    if not root.is_dir():
        raise DataSetError(f"{root}: no such data set folder")
    candidates = [(root / f"{phase}A", root / f"{phase}B"), (root / phase / "A", root / phase / "B")]
    if phase == "train":
        candidates.append((root / "A", root / "B"))
    for a_dir, b_dir in candidates:
        if a_dir.is_dir() or b_dir.is_dir():
            files = {}
            for label, folder in (("A", a_dir), ("B", b_dir)):
                files[label] = list_images(folder) if folder.is_dir() else []
                if not files[label]:
                    raise DataSetError(f"{root}: domain {label} has no images (looked in {folder}/)")
            return files["A"], files["B"]
    raise DataSetError(
        f"{root}: found no unpaired {phase} data. Expected folders {root / (phase + 'A')}/ and "
        f"{root / (phase + 'B')}/ (the official CycleGAN layout), or {root / phase / 'A'}/ and "
        f"{root / phase / 'B'}/")


class UnpairedDataset(Dataset):
    """Yields {"A", "B"} tensors in [-1, 1] and their paths; A[index] meets a random B.

    Indexed by (index, seed), as PairedDataset: the seed picks the B partner (unless `serial`) and drives
    the crop/flip of both images, so a sample is the same whichever worker loads it and after a resume.
    The length is that of the larger domain; the smaller one wraps around, as in the official code.
    """

    def __init__(self, root, phase: str = "train", input_nc: int = 3, output_nc: int = 3,
                 transform: PairTransform | None = None, max_size: int = 0, serial: bool = False):
        self.a_files, self.b_files = find_domains(root, phase)
        if max_size:
            self.a_files, self.b_files = self.a_files[:max_size], self.b_files[:max_size]
        self.input_nc, self.output_nc, self.serial = input_nc, output_nc, serial
        self.shuffle = not serial  # --serial-batches: A in file order
        transform = transform or PairTransform("none", flip=False)
        # The two domains get independent geometry (their images are unrelated and may differ in size).
        self.transform_a = PairTransform(transform.mode, transform.load_size, transform.crop_size,
                                         transform.flip, targets=("A",))
        self.transform_b = PairTransform(transform.mode, transform.load_size, transform.crop_size,
                                         transform.flip, targets=("B",))

    def __len__(self) -> int:
        return max(len(self.a_files), len(self.b_files))

    def partner(self, index: int, seed: int) -> tuple[int, int, int]:
        """(B index, A augmentation seed, B augmentation seed) for sample `index` drawn with `seed`."""
        rng = np.random.default_rng(seed)
        b_index = int(rng.integers(len(self.b_files)))
        seed_a, seed_b = (int(s) for s in rng.integers(0, 2**32, size=2, dtype=np.uint64))
        if self.serial:
            b_index = index % len(self.b_files)
        return b_index, seed_a, seed_b

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, 0)
        a_path = self.a_files[index % len(self.a_files)]
        b_index, seed_a, seed_b = self.partner(index, seed)
        b_path = self.b_files[b_index]
        a, b = read_channels(a_path, self.input_nc), read_channels(b_path, self.output_nc)
        out_a = self.transform_a({"A": a}, seed=seed_a, source=str(a_path))
        out_b = self.transform_b({"B": b}, seed=seed_b, source=str(b_path))
        return {"A": out_a["A"], "B": out_b["B"], "A_path": str(a_path), "B_path": str(b_path)}
