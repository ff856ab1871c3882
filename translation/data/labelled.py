"""Labelled data sets for StarGAN: images with domain labels, read as the official StarGAN reads them.

Layouts (see describe_layout):
  celeba   ROOT/list_attr_celeba.txt with ROOT/images/ (the official README) or ROOT/img_align_celeba/ (the
           CelebA download). Multi-label: `attrs` choose the columns (default StarGAN's five), 1 for "1" and
           0 for "-1". The split is the official one: the data lines shuffled by random.seed(1234), the
           first 1,999 of them test, the rest train.
           ROOT/list_attr.txt, written by `translation prepare domains --celeba-attrs`, is read the same way:
           it lists every written image once, with its path relative to ROOT (train/<attr>/x.png) and the
           values of the chosen attributes. It is read instead of the train/<attr>/ folders beside it, which
           hold an image once per attribute it has, so training sees the same multi-label data; the split is
           the path's first folder (prepare decided it) and `attrs` default to all of the file's columns.
  folders  ROOT/train/<domain>/ (the official RaFD layout, and what `prepare domains` writes), or
           ROOT/<domain>/ when there is no train/. Single-label: domains sorted by name as torchvision's
           ImageFolder sorts them, a one-hot label and the class index for the cross-entropy loss.

Geometry, as the official loader: a centre crop of `crop_size`, resized to `image_size`, flipped at random
in training. Unset, crop_size is the official default (CelebA 178, folders 256) or the image's shorter
side where that is smaller, so small images are used whole rather than padded; list_attr.txt images are
used whole, since prepare already cut them to the centre square. A crop_size set and larger than an
image is an error naming the file.
"""
from __future__ import annotations

import itertools
import operator
import random
from pathlib import Path

import albumentations as A
import numpy as np
import torch
from torch.utils.data import Dataset

from translation.data.arrays import read_channels, resize, to_tensor
from translation.data.datasets import DataSetError
from translation.data.io import scan_images, skipped_not_images
from translation.data.splits import SPLITS
from translation.names import STARGAN_CELEBA_ATTRS, STARGAN_TEST_COUNT

CELEBA_ATTR_FILE = "list_attr_celeba.txt"
PREPARED_ATTR_FILE = "list_attr.txt"  # what `prepare domains --celeba-attrs` writes
CELEBA_IMAGE_DIRS = ("images", "img_align_celeba")
DEFAULT_CROP = {"celeba": 178, "folders": 256}  # the official celeba_crop_size and rafd_crop_size
CELEBA_SEED = 1234


def describe_layout(root) -> str:
    """"celeba" or "folders"; a DataSetError (a ValueError) saying what was expected otherwise."""
    root = Path(root)
    if not root.is_dir():
        raise DataSetError(f"{root}: no such data set folder")
    if (root / CELEBA_ATTR_FILE).is_file() or (root / PREPARED_ATTR_FILE).is_file():
        return "celeba"
    if (root / "train").is_dir() or any(d.is_dir() and not d.name.startswith(".") for d in root.iterdir()):
        return "folders"
    raise DataSetError(f"{root}: not a labelled data set. {_expected(root)}")


def _expected(root: Path) -> str:
    return (f"Expected {CELEBA_ATTR_FILE} with an images/ or img_align_celeba/ folder (CelebA), "
            f"{PREPARED_ATTR_FILE} (written by `translation prepare domains --celeba-attrs`), or one sub-folder "
            f"of images per domain, two or more, in {root / 'train'}/ or {root}/")


def read_attr_file(path: Path) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    """(attribute names, [(line number, [file, v1, ...])], count line), every data line checked."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataSetError(f"cannot read {path}: {error}") from None
    if len(lines) < 2 or not lines[1].split():
        raise DataSetError(f"{path}: not an attribute file (line 1: the image count, line 2: the attribute names)")
    names = lines[1].split()
    rows = []
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(names) + 1:
            raise DataSetError(f"{path}:{number}: {len(fields) - 1} values for the {len(names)} attributes "
                               "of line 2")
        if not set(fields[1:]) <= {"1", "-1"}:  # a set test first: CelebA has 8 million values
            name, value = next((n, v) for n, v in zip(names, fields[1:]) if v not in ("1", "-1"))
            raise DataSetError(f"{path}:{number}: {value!r} for {name}; values must be 1 or -1")
        rows.append((number, fields))
    if not rows:
        raise DataSetError(f"{path}: lists no images (nothing after the attribute names on line 2)")
    return names, rows, lines[0].strip()


def official_celeba_split(rows: list, test_count: int = STARGAN_TEST_COUNT) -> tuple[list, list]:
    """(test, train) rows of an attribute file as the official StarGAN splits them: its lines shuffled with
    random.seed(1234), then the first 1,999 for test (its rule is (i + 1) < 2000; the project GUIDE's "first
    2,000 lines" is not what the code does). random.shuffle depends only on the list's length, so shuffling
    any rows, one per line, gives the official order."""
    rows = list(rows)
    random.Random(CELEBA_SEED).shuffle(rows)
    return rows[:test_count], rows[test_count:]


def _celeba_entries(root: Path, split: str, attrs, max_size: int):
    """(files, multi-hot labels, attribute names, notes) of one split of an attribute file."""
    official = (root / CELEBA_ATTR_FILE).is_file()
    attr_file = root / (CELEBA_ATTR_FILE if official else PREPARED_ATTR_FILE)
    names, rows, count = read_attr_file(attr_file)
    notes = [] if count == str(len(rows)) else [f"{attr_file}: line 1 says {count!r} images, it lists {len(rows)}"]
    if attrs is None:
        attrs = STARGAN_CELEBA_ATTRS if official else names
    attrs = attrs.split(",") if isinstance(attrs, str) else list(attrs)  # "Male,Young" as on a command line
    unknown = [a for a in attrs if a not in names]
    if unknown or not attrs:
        raise DataSetError(f"{attr_file}:2: no attribute {', '.join(unknown) or '(none chosen)'}; "
                           f"the file has: {', '.join(names)}")
    repeated = sorted({a for a in attrs if attrs.count(a) > 1})
    if repeated:
        raise DataSetError(f"attrs name {', '.join(repeated)} more than once")
    if official:
        folders = [root / d for d in CELEBA_IMAGE_DIRS if (root / d).is_dir()]
        if not folders:
            raise DataSetError(f"{root}: {CELEBA_ATTR_FILE} is there but no image folder: expected "
                               f"{' or '.join(str(root / d) + '/' for d in CELEBA_IMAGE_DIRS)}")
        if split not in ("train", "test"):
            raise DataSetError(f"{attr_file}: the CelebA split is train or test, not {split!r}")
        image_dir = folders[0]
        test, train = official_celeba_split(rows)
        rows = test if split == "test" else train
    else:
        image_dir = root
        rows = [row for row in rows if Path(row[1][0]).parts[0] == split]
    if not rows:
        raise DataSetError(f"{attr_file}: lists no {split} images")
    rows = rows[:max_size] if max_size else rows
    files = [image_dir / fields[0] for _, fields in rows]
    missing = [(number, path) for (number, _), path in zip(rows, files) if not path.is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more listed images are missing)" if len(missing) > 1 else ""
        raise DataSetError(f"{attr_file}:{missing[0][0]}: {missing[0][1]} does not exist{more}")
    pick = operator.itemgetter(*[names.index(a) + 1 for a in attrs])
    values = np.array([pick(fields) for _, fields in rows]).reshape(len(rows), len(attrs))
    return files, (values == "1").astype(np.float32), attrs, notes


def _folder_entries(root: Path, split: str, max_size: int):
    """(files, class indices, domain names, notes) of ROOT/<split>/<domain>/ or ROOT/<domain>/."""
    parent = root / split
    if not parent.is_dir():
        if split != "train":
            raise DataSetError(f"{root}: no {split}/ folder (expected {parent}/<domain>/ image folders)")
        parent = root
    domains = sorted(d.name for d in parent.iterdir() if d.is_dir() and not d.name.startswith("."))
    if parent == root and set(domains) & set(SPLITS):
        raise DataSetError(f"{root}: has {', '.join(sorted(set(domains) & set(SPLITS)))}/ but no train/: put the "
                           f"training domains in {root / 'train'}/<domain>/")
    if len(domains) < 2:
        raise DataSetError(f"{parent}: {len(domains)} domain folder(s) ({', '.join(domains) or 'none'}). "
                           + _expected(root))
    images, others = scan_images(parent)
    by_domain, loose = {d: [] for d in domains}, []
    for path in images:
        parts = path.relative_to(parent).parts
        (by_domain[parts[0]] if len(parts) > 1 else loose).append(path)
    empty = [d for d in domains if not by_domain[d]]
    if empty:
        raise DataSetError(f"{parent}: domain folder(s) without images: {', '.join(empty)}")
    notes = [skipped_not_images([p.relative_to(parent).as_posix() for p in others])] if others else []
    if loose:
        notes.append(f"{len(loose)} image(s) in {parent}/ itself, not in a domain folder, are not used: "
                     + ", ".join(p.name for p in loose[:5]) + (" and more" if len(loose) > 5 else ""))
    groups = [[(path, k) for path in by_domain[d]] for k, d in enumerate(domains)]
    if max_size:
        # the first images of every domain in turn: a prefix of the sorted list would be one domain
        entries = [e for row in itertools.zip_longest(*groups) for e in row if e is not None][:max_size]
    else:
        entries = [e for group in groups for e in group]
    return [path for path, _ in entries], [k for _, k in entries], domains, notes


class LabelledDataset(Dataset):
    """Yields {"A": C×H×W in [-1, 1], "label": float (n_domains,), "label_index": int64, "path": str}.

    label_kind "multi_label" (CelebA attributes; label_index -1) or "single_label" (one folder per domain;
    a one-hot label and its class index). Indexed by (index, seed) as the other data sets: the seed drives
    the flip, so a sample is the same in whichever worker and after a resume; a plain index means seed 0.
    `notes` name what the layout leaves out (files that are not images, images outside domain folders).
    """

    def __init__(self, root, split: str = "train", attrs=None, crop_size: int | None = None,
                 image_size: int = 128, flip: bool = True, input_nc: int = 3, max_dataset_size: int = 0):
        for name, value in (("image_size", image_size), ("input_nc", input_nc), ("crop_size", crop_size)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        root = Path(root)
        self.layout = describe_layout(root)
        if self.layout == "celeba":
            self.files, self.labels, self.domains, self.notes = _celeba_entries(root, split, attrs,
                                                                               max_dataset_size)
            self.label_kind, self.indices = "multi_label", [-1] * len(self.files)
            self.default_crop = DEFAULT_CROP["celeba"] if (root / CELEBA_ATTR_FILE).is_file() else None
        else:
            if attrs is not None:
                raise DataSetError(f"{root}: attrs choose columns of a CelebA attribute file; in a folder-per-"
                                   "domain set the sub-folders are the domains (leave attrs unset)")
            self.files, self.indices, self.domains, self.notes = _folder_entries(root, split, max_dataset_size)
            self.label_kind = "single_label"
            self.labels = np.eye(len(self.domains), dtype=np.float32)[self.indices]
            self.default_crop = DEFAULT_CROP["folders"]
        self.split, self.crop_size, self.image_size, self.input_nc = split, crop_size, image_size, input_nc
        # flips in training only, as the official loader; drawn from albumentations seeded per sample, as
        # PairTransform draws its crops and flips
        self.flipper = A.Compose([A.HorizontalFlip(p=0.5)]) if flip and split == "train" else None
        self.shuffle = True  # the trainer draws a fresh order every epoch

    def __len__(self) -> int:
        return len(self.files)

    def centre_crop(self, image: np.ndarray, path: Path) -> np.ndarray:
        """The official CenterCrop (offsets rounded as torchvision rounds them), never beyond the image."""
        h, w = image.shape[:2]
        if self.crop_size is None:
            size = min(h, w, self.default_crop or min(h, w))
        elif self.crop_size > min(h, w):
            raise DataSetError(f"{path} ({w}x{h}): smaller than crop_size {self.crop_size}; lower it, or leave "
                               "it unset to crop small images to their shorter side")
        else:
            size = self.crop_size
        top, left = round((h - size) / 2.0), round((w - size) / 2.0)
        return image[top:top + size, left:left + size]

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, 0)
        path = self.files[index]
        image = resize(self.centre_crop(read_channels(path, self.input_nc), path), self.image_size,
                       self.image_size)
        if self.flipper is not None:
            self.flipper.set_random_seed(seed)
            image = self.flipper(image=image)["image"]
        return {"A": to_tensor(image), "label": torch.from_numpy(self.labels[index].copy()),
                "label_index": torch.tensor(self.indices[index], dtype=torch.int64), "path": str(path)}


def open_labelled_set(root, split: str = "train", attrs=None, crop_size: int | None = None, image_size: int = 128,
                      flip: bool = True, input_nc: int = 3, max_dataset_size: int = 0) -> LabelledDataset:
    """The StarGAN data set at `root` (layouts and defaults: see the module docstring)."""
    return LabelledDataset(root, split, attrs, crop_size, image_size, flip, input_nc, max_dataset_size)
