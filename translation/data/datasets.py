"""Paired data sets for pix2pix-style training.

Layouts understood (the first that matches wins):
  ROOT/PHASE/*.png                 aligned files, A on the left half and B on the right (official format)
  ROOT/PHASE/A/, ROOT/PHASE/B/     two folders with matching file names
  ROOT/A/PHASE/, ROOT/B/PHASE/     the layout the official combine script reads
  ROOT/A/, ROOT/B/                 two flat folders (used as the training split)
  ROOT/*.png                       aligned files directly in ROOT (used as the training split)
  ROOT/PHASE_A/, ROOT/PHASE_B/     the official pix2pixHD folders (--label-nc 0), and
  ROOT/PHASE_label/, ROOT/PHASE_img/  its label maps and images (--label-nc N)
Pairs in two folders are matched by relative path without extension; an unmatched name is an error that
lists the names, never a silent skip. Only the official pix2pixHD folders, whose names differ by a suffix
(Cityscapes' *_gtFine_labelIds.png and *_leftImg8bit.png), pair in sorted order when the names differ, as
the official code pairs them, and then only when the counts are equal.

Instance maps (--instance) lie beside the A folder: ROOT/PHASE_inst/ (official), ROOT/PHASE/inst/,
ROOT/inst/PHASE/ or ROOT/inst/, one per A image, matched the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from translation.checkpoint import DIRECTIONS
from translation.data.arrays import read_channels, to_channels
from translation.data.io import ImageReadError, list_images, read_image
from translation.data.label_maps import boundaries, check_label_range, one_hot, read_id_map, scan_label_maps
from translation.data.transforms import PairTransform


class DataSetError(ValueError):
    """A data set that cannot be used as given (missing folders, unmatched pairs, ...)."""


def problem_lines(problems: list[str], shown: int = 10) -> str:
    """The first `shown` problems, one indented line each, and how many more there are."""
    more = f"\n  ... ({len(problems) - shown} more)" if len(problems) > shown else ""
    return "\n  " + "\n  ".join(problems[:shown]) + more


@dataclass(frozen=True)
class Pair:
    a: Path
    b: Path | None  # None: `a` is an aligned A|B file
    inst: Path | None = None  # its instance map (--instance)


def _key(path: Path, root: Path, suffix: str = "") -> str:
    key = str(path.relative_to(root).with_suffix(""))
    return key[: -len(suffix)] if suffix and key.endswith(suffix) else key


def match_folders(a_dir: Path, b_dir: Path, by_order: bool = False, a_suffix: str = "") -> list[Pair]:
    """Pairs of the two folders' images by name; `by_order`: in sorted order where the names differ but the
    counts agree (the official pix2pixHD folders); `a_suffix`: A's names end with it where B's do not (DIV2K's
    LR files, 0001x4.png beside the HR 0001.png)."""
    a_files = {_key(p, a_dir, a_suffix): p for p in list_images(a_dir)}
    b_files = {_key(p, b_dir): p for p in list_images(b_dir)}
    only_a, only_b = sorted(set(a_files) - set(b_files)), sorted(set(b_files) - set(a_files))
    if (only_a or only_b) and by_order and len(a_files) == len(b_files):
        return [Pair(a_files[ka], b_files[kb]) for ka, kb in zip(sorted(a_files), sorted(b_files))]
    if only_a or only_b:
        lines = [f"{a_dir} and {b_dir} do not pair up by file name:"]
        for label, names in ((f"only in {a_dir}", only_a), (f"only in {b_dir}", only_b)):
            if names:
                shown = ", ".join(names[:10]) + (f" ... ({len(names) - 10} more)" if len(names) > 10 else "")
                lines.append(f"  {len(names)} {label}: {shown}")
        raise DataSetError("\n".join(lines))
    return [Pair(a_files[k], b_files[k]) for k in sorted(a_files)]


def find_pairs(root, phase: str = "train", instance: bool = False) -> list[Pair]:
    """The pairs of the first layout that matches (see the module's docstring); `instance`: each with its
    instance map."""
    pairs, a_dir, official = _locate(Path(root), phase)
    return _with_instance_maps(pairs, Path(root), phase, a_dir, official) if instance else pairs


def _locate(root: Path, phase: str) -> tuple[list[Pair], Path, bool]:
    """(pairs, the folder their A files are named relative to, whether it is an official pix2pixHD layout)."""
    if not root.is_dir():
        raise DataSetError(f"{root}: no such data set folder")
    candidates = [
        (root / phase / "A", root / phase / "B", False),
        (root / "A" / phase, root / "B" / phase, False),
        (root / f"{phase}_A", root / f"{phase}_B", True),
        (root / f"{phase}_label", root / f"{phase}_img", True),
    ]
    if phase == "train":
        candidates.append((root / "A", root / "B", False))
    for a_dir, b_dir, official in candidates:
        if a_dir.is_dir() and b_dir.is_dir():
            pairs = match_folders(a_dir, b_dir, by_order=official)
            if pairs:
                return pairs, a_dir, official
    for folder in ([root / phase] if (root / phase).is_dir() else []) + ([root] if phase == "train" else []):
        files = list_images(folder, recursive=False)
        if files:
            return [Pair(p, None) for p in files], folder, False
    raise DataSetError(
        f"{root}: found no {phase} images. Expected aligned A|B files in {root / phase}/, or matching "
        f"folders {root / phase / 'A'}/ and {root / phase / 'B'}/ (see README 'Data layouts')")


def _with_instance_maps(pairs: list[Pair], root: Path, phase: str, a_dir: Path, official: bool) -> list[Pair]:
    folders = [root / f"{phase}_inst", root / phase / "inst", root / "inst" / phase]
    folders += [root / "inst"] if phase == "train" else []
    inst_dir = next((folder for folder in folders if folder.is_dir()), None)
    if inst_dir is None:
        raise DataSetError(f"--instance: no instance maps for {root}; put one per input image in "
                           f"{folders[0]}/ or {folders[1]}/ (see README 'pix2pixHD')")
    by_name = {_key(p, inst_dir): p for p in list_images(inst_dir)}
    keys = [_key(pair.a, a_dir) for pair in pairs]
    missing = [key for key in keys if key not in by_name]
    if missing and official and len(by_name) == len(pairs):  # Cityscapes' *_instanceIds.png: sorted order
        return [Pair(pair.a, pair.b, path) for pair, path in zip(pairs, sorted(by_name.values()))]
    if missing:
        shown = ", ".join(missing[:10]) + (f" ... ({len(missing) - 10} more)" if len(missing) > 10 else "")
        counts = (f" ({len(pairs)} inputs, {len(by_name)} instance maps: the official folders pair in sorted "
                  "order only when the counts agree)" if official else "")
        raise DataSetError(f"--instance: {len(missing)} input images have no instance map of the same name in "
                           f"{inst_dir}{counts}: {shown}")
    return [Pair(pair.a, pair.b, by_name[key]) for pair, key in zip(pairs, keys)]


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

    pix2pixHD's inputs (label_maps.py): `label_nc` N > 0 reads the input side as a label map and gives "A" one-hot
    (N channels of 0 and 1); `instance` appends the boundaries of the pair's instance map as one more channel.
    The transform must then name "inst" among its targets, and the label map and "inst" among its ids. Every
    label map is checked against N when the data set is made, before any training step.
    """

    def __init__(self, root, phase: str = "train", direction: str = "AtoB", input_nc: int = 3,
                 output_nc: int = 3, transform: PairTransform | None = None, max_size: int = 0,
                 label_nc: int = 0, instance: bool = False):
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be {' or '.join(DIRECTIONS)}, got {direction!r}")
        self.pairs = find_pairs(root, phase, instance)
        if max_size:
            self.pairs = self.pairs[:max_size]
        self.direction, self.input_nc, self.output_nc = direction, input_nc, output_nc
        self.label_nc, self.instance = label_nc, instance
        ids = (("A",) if label_nc else ()) + (("inst",) if instance else ())
        targets = ("A", "B", "inst") if instance else ("A", "B")
        self.transform = transform or PairTransform("none", flip=False, targets=targets, ids=ids)
        if not set(ids) <= set(self.transform.ids) or instance and "inst" not in self.transform.targets:
            raise ValueError(f"the transform must resize {sorted(ids)} as maps of ids (PairTransform ids=...)")
        if label_nc:
            if self.pairs[0].b is None:
                raise DataSetError(f"{root}: --label-nc {label_nc} reads label maps from a folder of their own; "
                                   "aligned A|B files hold images (use --label-nc 0, or the folders of README "
                                   "'pix2pixHD')")
            scan_label_maps([self._source(pair) for pair in self.pairs], label_nc)
        self.shuffle = True  # the trainer draws a fresh order every epoch

    def _source(self, pair: Pair) -> Path:
        return pair.a if self.direction == "AtoB" else pair.b

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, 0)
        pair = self.pairs[index]
        if self.label_nc or self.instance:
            return self._encoded_item(pair, seed)
        # read in file order, then assign roles: with BtoA the right/B image is the input
        first_nc, second_nc = ((self.input_nc, self.output_nc) if self.direction == "AtoB"
                               else (self.output_nc, self.input_nc))
        a, b = load_pair(pair, first_nc, second_nc)
        source, target = (a, b) if self.direction == "AtoB" else (b, a)
        out = self.transform({"A": source, "B": target}, seed=seed, source=str(pair.a))
        return {"A": out["A"], "B": out["B"], "path": str(pair.a)}

    def _encoded_item(self, pair: Pair, seed: int) -> dict:
        """pix2pixHD's sample: the input label map one-hot (or the input image), its instance boundaries."""
        source_path = self._source(pair)
        target_path = pair.b if self.direction == "AtoB" else pair.a
        if self.label_nc:
            source = read_id_map(source_path)
            check_label_range(source, self.label_nc, source_path)
            target = read_channels(target_path, self.output_nc)
            target = to_channels(target, self.output_nc, str(target_path))
        else:
            first_nc, second_nc = ((self.input_nc, self.output_nc) if self.direction == "AtoB"
                                   else (self.output_nc, self.input_nc))
            a, b = load_pair(pair, first_nc, second_nc)
            source, target = (a, b) if self.direction == "AtoB" else (b, a)
        images = {"A": source, "B": target}
        if self.instance:
            images["inst"] = read_id_map(pair.inst)
        for name, image in images.items():
            if image.shape[:2] != source.shape[:2]:
                path = {"B": target_path, "inst": pair.inst}[name]
                raise DataSetError(f"{path} is {image.shape[1]}x{image.shape[0]} but {source_path} is "
                                   f"{source.shape[1]}x{source.shape[0]}: a pair's maps and images must have "
                                   "the same size")
        out = self.transform(images, seed=seed, source=str(source_path))
        encoded = one_hot(out["A"], self.label_nc) if self.label_nc else out["A"]
        if self.instance:
            encoded = torch.cat([encoded, boundaries(out["inst"]).float()])
        return {"A": encoded, "B": out["B"], "path": str(pair.a)}
