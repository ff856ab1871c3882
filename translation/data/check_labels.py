"""`data check --label-nc N --instance`: pix2pixHD's inputs, checked as its training reads them.

Training pairs the files with datasets.find_pairs (the official folders in sorted order) and stops at the
first label map whose ids fall outside 0..N-1; a check reads every label map and lists every bad one. Without
--label-nc, label maps in the official ROOT/<split>_label/ folders are still read, to say which --label-nc
their ids need.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from tqdm import tqdm

from translation.data.datasets import DataSetError, Pair, find_pairs
from translation.data.io import ImageReadError
from translation.data.label_maps import read_id_map
from translation.data.splits import SPLITS


def _splits_present(result) -> list[str]:
    """The splits the layout has files for; a flat layout (ROOT/A/, ROOT/*.png) trains as "train"."""
    present = []
    for split in SPLITS:
        for name in result.groups:
            parts = name.replace("_", "/").split("/")
            if split in parts or (split == "train" and name in (".", "A", "B")):
                present.append(split)
                break
    return present


def _id_range(path) -> tuple[int, int] | str:
    """(lowest, highest) id of a label map, or why it is not one."""
    try:
        ids = read_id_map(path)
    except ImageReadError as error:
        return error.reason
    return int(ids.min()), int(ids.max())


def check_label_inputs(result, label_nc: int, instance: bool, progress: bool = False) -> list[tuple]:
    """What would stop pix2pixHD's training on `result`'s data (a CheckResult): folders that do not pair,
    missing instance maps, label maps that are not maps of ids or hold ids outside 0..label_nc-1. Returns
    (kind, message, listed lines) with kind "error" or "note", for check.py to report in its format."""
    found: list[tuple] = []
    pairs: list[Pair] = []
    for split in _splits_present(result):
        try:
            pairs += find_pairs(result.root, split, instance)
        except DataSetError as error:
            found.append(("error", f"{split}: {error}", []))
    reads_labels = label_nc > 0 or any(name.endswith("_label") for name in result.groups)
    if not pairs or not reads_labels:
        return found
    if any(pair.b is None for pair in pairs):
        if label_nc:
            found.append(("error", f"--label-nc {label_nc} reads label maps from a folder of their own; aligned "
                                   "A|B files hold images (use --label-nc 0, or the folders of README 'pix2pixHD')",
                          []))
        return found
    maps = sorted({pair.a for pair in pairs})
    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:  # decoders release the GIL
        ranges = list(tqdm(pool.map(_id_range, maps), total=len(maps), desc="label maps", unit="img",
                           disable=not progress or None, leave=False))
    not_ids = [f"{path}: {found}" for path, found in zip(maps, ranges) if isinstance(found, str)]
    bounds = [(path, found) for path, found in zip(maps, ranges) if not isinstance(found, str)]
    if not_ids:
        found.append(("error", f"{len(not_ids)} label map(s) that are not maps of integer ids", not_ids))
    if not bounds:
        return found
    highest = max(high for _, (_, high) in bounds)
    if not label_nc:
        found.append(("note", f"label maps hold ids up to {highest}: train pix2pixhd with --label-nc "
                              f"{highest + 1} (or more), and check them with it", []))
        return found
    outside = [f"{path}: label value {low if low < 0 else high} is outside 0..{label_nc - 1}"
               for path, (low, high) in bounds if low < 0 or high >= label_nc]
    if outside:
        found.append(("error", f"{len(outside)} label map(s) with ids outside 0..{label_nc - 1} (--label-nc "
                               f"{label_nc}; the highest id is {highest}, so --label-nc {highest + 1} would "
                               "take them)", outside))
    return found
