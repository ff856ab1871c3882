"""`combine` (A and B folders → aligned A|B files) and its inverse `split`."""
from __future__ import annotations

import pathlib
from typing import Dict, List, Tuple

from tqdm import tqdm

from translation.data.io import ImageReadError, image_size, list_images, write_image
from translation.data.prepare.common import (
    PrepareError, Report, check_output_folder, fit_square, write_pair,
)
from translation.data.splits import SPLITS, check_fractions, split_for
from translation.data.arrays import resize as resize_image

MAX_LISTED = 50  # problems listed one per line; beyond this, a count


def _split_folders(root: pathlib.Path) -> List[str]:
    return [s for s in SPLITS if (root / s).is_dir()]


def _keyed(folder: pathlib.Path) -> Dict[str, pathlib.Path]:
    """Files by relative path without extension: a.png in A matches a.jpg in B."""
    keyed: Dict[str, pathlib.Path] = {}
    for path in list_images(folder):
        key = path.relative_to(folder).with_suffix("").as_posix()
        if key in keyed:
            raise PrepareError(f"{folder}: {keyed[key].name} and {path.name} have the same name; keep one")
        keyed[key] = path
    return keyed


def _groups(a_dir: pathlib.Path, b_dir: pathlib.Path) -> List[Tuple[str, Dict, Dict]]:
    """(split or "" for flat folders, A files by key, B files by key)."""
    a_splits, b_splits = _split_folders(a_dir), _split_folders(b_dir)
    if bool(a_splits) != bool(b_splits):
        with_splits, flat = (a_dir, b_dir) if a_splits else (b_dir, a_dir)
        raise PrepareError(f"{with_splits} has train/val/test folders but {flat} does not; "
                           "give both folders the same layout")
    if a_splits:
        return [(s, _keyed(a_dir / s) if (a_dir / s).is_dir() else {},
                 _keyed(b_dir / s) if (b_dir / s).is_dir() else {}) for s in sorted(set(a_splits) | set(b_splits),
                                                                                     key=SPLITS.index)]
    return [("", _keyed(a_dir), _keyed(b_dir))]


def _listing(title: str, lines: List[str]) -> List[str]:
    if not lines:
        return []
    shown = lines[:MAX_LISTED] + ([f"... and {len(lines) - MAX_LISTED} more"] if len(lines) > MAX_LISTED else [])
    return [f"{title} ({len(lines)}):"] + [f"  {line}" for line in shown]


def combine_folders(a_dir, b_dir, out, size: int = 0, resize: bool = False, skip_unmatched: bool = False,
                    val_fraction: float = 0.1, test_fraction: float = 0.1, ext: str = ".png",
                    bit_depth: int = 8, overwrite: bool = False, progress: bool = True) -> Report:
    """Pair A and B files by name into aligned A|B files (A left), keeping their train/val/test folders.

    Flat folders are split by name hash. Every unmatched name, unreadable file and size mismatch is
    reported by name before anything is written; ``resize`` scales B to A's size, ``skip_unmatched``
    writes the pairs that match and lists the rest.
    """
    a_dir, b_dir, out = pathlib.Path(a_dir), pathlib.Path(b_dir), pathlib.Path(out)
    for label, folder in (("--a", a_dir), ("--b", b_dir)):
        if not folder.is_dir():
            raise PrepareError(f"{label} folder {folder} does not exist")
    check_fractions(val_fraction, test_fraction)
    check_output_folder(out, [a_dir, b_dir], overwrite)
    groups = _groups(a_dir, b_dir)
    report = Report()
    for folder, side in ((a_dir, 1), (b_dir, 2)):
        used = {path for group in groups for path in group[side].values()}
        report.account_for(folder, used, "outside the train/, val/ and test/ folders (combine reads those)")

    only_a, only_b, unreadable, mismatched = [], [], [], []
    jobs = []  # (split, key, a_path, b_path)
    for split, a_files, b_files in groups:
        prefix = f"{split}/" if split else ""
        only_a += [f"{prefix}{k}: {a_files[k]} has no B" for k in sorted(set(a_files) - set(b_files))]
        only_b += [f"{prefix}{k}: {b_files[k]} has no A" for k in sorted(set(b_files) - set(a_files))]
        for key in sorted(set(a_files) & set(b_files)):
            try:
                size_a, size_b = image_size(a_files[key]), image_size(b_files[key])
            except ImageReadError as error:
                unreadable.append(str(error))
                continue
            if size_a != size_b and not resize:
                mismatched.append(f"{prefix}{key}: A {a_files[key].name} is {size_a[0]}x{size_a[1]}, "
                                  f"B {b_files[key].name} is {size_b[0]}x{size_b[1]}")
                continue
            jobs.append((split or split_for(key, val_fraction, test_fraction), key, a_files[key], b_files[key]))

    problems = (_listing("A files without a B file", only_a) + _listing("B files without an A file", only_b)
                + _listing("unreadable files", unreadable)
                + _listing("pairs whose sizes differ (pass --resize to scale B to A's size)", mismatched))
    if not jobs:
        raise PrepareError("\n".join(["no pairs to write: A and B files match by name (extension ignored)"]
                                     + problems))
    if problems and not skip_unmatched:
        raise PrepareError("\n".join(problems + ["nothing written; fix these, or pass --skip-unmatched to "
                                                 f"write the {len(jobs)} good pairs"]))

    report.notes += problems
    for split, key, a_path, b_path in tqdm(jobs, desc="combine", unit="pair", disable=not progress or None,
                                           leave=False):
        a, b = report.read(a_path), report.read(b_path)
        if a is None or b is None:
            continue
        if a.shape[:2] != b.shape[:2]:
            b = resize_image(b, *a.shape[:2])
        write_pair(out, split, key.replace("/", "_"), fit_square(a, size), fit_square(b, size),
                   "aligned", ext, bit_depth)
        report.counts[split] += 1
    return report


def _aligned_groups(src: pathlib.Path) -> List[Tuple[str, pathlib.Path]]:
    if src.name in SPLITS and list_images(src, recursive=False):
        return [(src.name, src)]
    splits = _split_folders(src)
    if splits:
        return [(s, src / s) for s in splits]
    return [("", src)]


def split_aligned(src, out, ext: str = ".png", bit_depth: int = 8, overwrite: bool = False,
                  progress: bool = True) -> Report:
    """Cut aligned A|B files into ``out/A/<split>/`` and ``out/B/<split>/`` (the inverse of combine)."""
    src, out = pathlib.Path(src), pathlib.Path(out)
    if not src.is_dir():
        raise PrepareError(f"{src} is not a folder")
    check_output_folder(out, [src], overwrite)
    report, groups, used = Report(), _aligned_groups(src), set()
    for split, folder in groups:
        files = list_images(folder, recursive=False)
        used.update(files)
        for path in tqdm(files, desc=f"split {split}".strip(), unit="img", disable=not progress or None,
                         leave=False):
            both = report.read(path)
            if both is None:
                continue
            width = both.shape[1]
            if width % 2:
                report.skip(path, f"width {width} is odd: not an A|B file (A and B must be equally wide)")
                continue
            name = path.stem + ext
            write_image(out / "A" / split / name, both[:, : width // 2], bit_depth=bit_depth)
            write_image(out / "B" / split / name, both[:, width // 2 :], bit_depth=bit_depth)
            report.counts[split or "(flat)"] += 1
    read_from = ", ".join(f"{folder}/" for _, folder in groups)
    if not used:
        raise PrepareError(f"{src} has no images (looked in {read_from})")
    # As training, aligned files are read from each split folder itself: anything else is named.
    report.account_for(src, used, f"not directly in {read_from} (the folders split reads, as training does)")
    return report
