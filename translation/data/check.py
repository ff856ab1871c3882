"""`data check`: what is in a data set, and what will break training before it starts.

Layouts: aligned A|B files (ROOT/<split>/ or ROOT/), A/B folders (ROOT/A/<split>/ or ROOT/<split>/A/),
unpaired (ROOT/trainA/ ...), domain folders (ROOT/<split>/<domain>/ or ROOT/<domain>/), and the official
pix2pixHD folders (ROOT/<split>_label/, <split>_img/, <split>_inst/, or <split>_A/, <split>_B/). With
--label-nc N every label map is read as ids and checked against 0..N-1; with --instance every input must have
its instance map (check_labels.py).
Image sizes are judged with training's own geometry (geometry.py): an image is too small only if
training with the same --preprocess, --load-size and --crop-size would stop on it. Every file under
ROOT is accounted for: checked, named as not an image, or named as outside the layout (hidden files
and folders are left alone).
"""
from __future__ import annotations

import hashlib
import os
import pathlib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from PIL import Image
from tqdm import tqdm

from translation.data.geometry import (
    DEFAULT_CROP_SIZE, DEFAULT_LOAD_SIZE, DEFAULT_PREPROCESS, crop_error, flags_error,
)
from translation.data.io import (
    ImageReadError, list_images, read_image, read_warnings, scan_images, skipped_not_images,
)
from translation.data.check_labels import check_label_inputs
from translation.data.splits import SPLITS
from translation.names import CHECK_LAYOUTS

LAYOUTS = CHECK_LAYOUTS
UNPAIRED_FOLDERS = tuple(f"{s}{d}" for s in SPLITS for d in "AB")
HD_FOLDER_KINDS = ("label", "img", "inst", "A", "B")  # ROOT/<split>_<kind>/: the official pix2pixHD folders
MAX_LISTED = 20
# Written by `download` and `prepare domains`; not worth a note.
METADATA_FILES = frozenset({"SOURCE.json", "list_attr.txt"})


@dataclass
class FileInfo:
    path: pathlib.Path
    width: int = 0
    height: int = 0
    channels: int = 0
    mode: str = ""
    sha256: str = ""
    error: str = ""


@dataclass
class CheckResult:
    root: pathlib.Path
    layout: str
    groups: Dict[str, List[FileInfo]]
    geometry: str = ""  # the training flags sizes were judged by
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------- layout


def _has_images(folder: pathlib.Path) -> bool:
    return folder.is_dir() and bool(list_images(folder, recursive=False))


def _subdirs(folder: pathlib.Path) -> List[pathlib.Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")) if folder.is_dir() else []


def _official_hd_folders(root: pathlib.Path) -> List[str]:
    """The official pix2pixHD folder names present in ROOT: train_label, train_img, train_inst, test_A, ..."""
    return [f"{s}_{kind}" for s in SPLITS for kind in HD_FOLDER_KINDS if (root / f"{s}_{kind}").is_dir()]


def detect_layout(root: pathlib.Path) -> str:
    if _official_hd_folders(root):
        return "pix2pixhd"
    if any((root / name).is_dir() for name in UNPAIRED_FOLDERS):
        return "unpaired"
    if ((root / "A").is_dir() and (root / "B").is_dir()) or any(
            (root / s / "A").is_dir() and (root / s / "B").is_dir() for s in SPLITS):
        return "folders"
    split_dirs = [root / s for s in SPLITS if (root / s).is_dir()]
    if split_dirs and any(_has_images(s) for s in split_dirs):
        return "aligned"
    domain_parents = split_dirs or [root]
    if any(sum(_has_images(d) for d in _subdirs(parent)) >= 1 for parent in domain_parents):
        return "domains"
    return "aligned"


def find_groups(root: pathlib.Path, layout: str) -> Dict[str, List[pathlib.Path]]:
    """Files per group name: a split ("train"), a side ("A/train"), a domain ("train/smile")."""
    groups: Dict[str, List[pathlib.Path]] = {}
    if layout == "aligned":
        splits = [s for s in SPLITS if (root / s).is_dir()]
        for s in splits:
            groups[s] = list_images(root / s, recursive=False)
        if not splits:
            groups["."] = list_images(root, recursive=False)
    elif layout == "folders":
        for side in "AB":
            if (root / side).is_dir():
                splits = [s for s in SPLITS if (root / side / s).is_dir()]
                for s in splits:
                    groups[f"{side}/{s}"] = list_images(root / side / s)
                if not splits:
                    groups[side] = list_images(root / side)
        for s in SPLITS:
            for side in "AB":
                if (root / s / side).is_dir():
                    groups[f"{s}/{side}"] = list_images(root / s / side)
    elif layout == "unpaired":
        for name in UNPAIRED_FOLDERS:
            if (root / name).is_dir():
                groups[name] = list_images(root / name)
    elif layout == "pix2pixhd":
        for name in _official_hd_folders(root):
            groups[name] = list_images(root / name)
    elif layout == "domains":
        parents = [root / s for s in SPLITS if (root / s).is_dir()] or [root]
        for parent in parents:
            for domain in _subdirs(parent):
                prefix = "" if parent == root else f"{parent.name}/"
                groups[f"{prefix}{domain.name}"] = list_images(domain)
    else:
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    return groups


# --------------------------------------------------------------------------- per file


def describe(path: pathlib.Path) -> FileInfo:
    """Decode fully (truncation shows only then), note the header mode, hash the bytes."""
    info = FileInfo(path)
    try:
        info.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        image = read_image(path, alpha="keep")
    except ImageReadError as error:
        info.error = error.reason
        return info
    except OSError as error:
        info.error = error.strerror or str(error)
        return info
    info.height, info.width, info.channels = image.shape
    try:
        with Image.open(path) as im:
            info.mode = im.mode
    except Exception:  # formats only OpenCV/tifffile read
        info.mode = f"{info.channels}-channel"
    return info


def _describe_all(files: List[pathlib.Path], progress: bool) -> Tuple[Dict[pathlib.Path, FileInfo], List[str]]:
    """FileInfo per file, and the caveats of reading them (an animated GIF's first frame)."""
    workers = min(8, os.cpu_count() or 1)
    # Collected here, around the pool: the warnings machinery is process-wide, so the threads report into it.
    with read_warnings() as caveats, ThreadPoolExecutor(workers) as pool:  # decoders release the GIL
        infos = list(tqdm(pool.map(describe, files), total=len(files), desc="check", unit="img",
                          disable=not progress or None, leave=False))
    return {info.path: info for info in infos}, sorted(caveats)


# --------------------------------------------------------------------------- checks


def _listed(lines: List[str]) -> str:
    shown = lines[:MAX_LISTED] + ([f"... and {len(lines) - MAX_LISTED} more"] if len(lines) > MAX_LISTED else [])
    return "\n".join("    " + line for line in shown)


def _key(path: pathlib.Path, base: pathlib.Path) -> str:
    return path.relative_to(base).with_suffix("").as_posix()


def _effective_size(info: FileInfo, layout: str) -> Tuple[int, int]:
    """(width, height) of one training image: half the file for aligned A|B files."""
    return (info.width // 2, info.height) if layout == "aligned" else (info.width, info.height)


def _pair_groups(result: CheckResult) -> List[Tuple[str, str]]:
    names = result.groups
    pairs = []
    for name in names:
        if name.startswith("A"):
            other = "B" + name[1:]
        elif name.endswith("/A"):
            other = name[:-1] + "B"
        else:
            continue
        pairs.append((name, other))
    return pairs


def check_dataset(root, crop_size: int = DEFAULT_CROP_SIZE, load_size: int = DEFAULT_LOAD_SIZE,
                  layout: Optional[str] = None, progress: bool = True,
                  preprocess: str = DEFAULT_PREPROCESS, label_nc: int = 0, instance: bool = False) -> CheckResult:
    """Check ``root`` for training with ``--preprocess preprocess --load-size load_size --crop-size crop_size``
    (and pix2pixHD's ``--label-nc label_nc`` and ``--instance``)."""
    root = pathlib.Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such data set folder")
    layout = layout or detect_layout(root)
    paths = find_groups(root, layout)
    every = sorted({p for files in paths.values() for p in files})
    infos, caveats = _describe_all(every, progress)
    geometry = f"--preprocess {preprocess} --load-size {load_size} --crop-size {crop_size}"
    result = CheckResult(root, layout, {g: [infos[p] for p in files] for g, files in paths.items()}, geometry)

    _account_for_files(result, root, set(every))
    if not every:
        result.errors.append(f"no images found (layout {layout}); see `translation prepare --help` for layouts")
        return result
    if caveats:
        result.warnings.append(f"{len(caveats)} file(s) read with a caveat:\n{_listed(caveats)}")
    _check_groups(result)
    _check_files(result, preprocess, load_size, crop_size)
    _check_pairs(result, root)
    _check_duplicates(result)
    if label_nc or instance or layout == "pix2pixhd":
        for kind, message, lines in check_label_inputs(result, label_nc, instance, progress):
            text = f"{message}:\n{_listed(lines)}" if lines else message
            (result.errors if kind == "error" else result.notes).append(text)
    return result


def _check_groups(result: CheckResult) -> None:
    groups = result.groups
    for name, files in groups.items():
        if not files:
            result.errors.append(f"{name}/ has no images")
    if result.layout == "unpaired":
        for needed in ("trainA", "trainB"):
            if needed not in groups:
                result.errors.append(f"{needed}/ is missing: CycleGAN training needs trainA/ and trainB/")
        for optional in ("testA", "testB"):
            if optional not in groups:
                result.warnings.append(f"{optional}/ is missing: nothing to test or evaluate on")
    if result.layout == "aligned" and "." not in groups and "train" not in groups:
        result.errors.append("train/ is missing")
    if result.layout == "domains":
        by_split = defaultdict(list)
        for name in groups:
            by_split[name.rsplit("/", 1)[0] if "/" in name else "."].append(name)
        for split, names in by_split.items():
            if len(names) < 2:
                result.errors.append(f"{split}: only {len(names)} domain folder(s); multi-domain training needs 2 or more")


def _check_files(result: CheckResult, preprocess: str, load_size: int, crop_size: int) -> None:
    unreadable, odd = [], []
    too_small = defaultdict(list)  # crop_error's reason -> "path: WxH"
    flags_problem = flags_error(preprocess, load_size, crop_size)
    for files in result.groups.values():
        for info in files:
            if info.error:
                unreadable.append(f"{info.path}: {info.error}")
                continue
            if result.layout == "aligned" and info.width % 2:
                odd.append(f"{info.path}: {info.width} px wide")
            w, h = _effective_size(info, result.layout)
            reason = None if flags_problem else crop_error(h, w, preprocess, load_size, crop_size)
            if reason:
                too_small[reason].append(f"{info.path}: {w}x{h}")
    if unreadable:
        result.errors.append(f"{len(unreadable)} unreadable file(s):\n{_listed(unreadable)}")
    if odd:
        result.errors.append(f"{len(odd)} aligned file(s) with an odd width (A and B halves differ):\n{_listed(odd)}")
    if flags_problem:  # every image would fail: say it once
        result.errors.append(flags_problem)
    what = "half-images" if result.layout == "aligned" else "images"
    for reason, lines in too_small.items():
        result.errors.append(f"{len(lines)} {what} {reason} (training would stop at the first):\n{_listed(lines)}")

    # Channel counts per side: a gray A with colour B is normal, gray and colour mixed in one side is not.
    sides = defaultdict(Counter)
    for name, files in result.groups.items():
        side = _side(name, result.layout)
        sides[side].update(i.channels for i in files if not i.error)
    for side, counts in sides.items():
        if len(counts) > 1:
            where = f" in {side}" if side else ""
            detail = ", ".join(f"{n} file(s) with {c}" for c, n in sorted(counts.items()))
            result.warnings.append(f"mixed channel counts{where}: {detail}; training converts every file to the "
                                   "--input-nc/--output-nc of the model (gray is replicated, alpha composited)")


def _side(group: str, layout: str) -> str:
    if layout == "pix2pixhd":
        return group.split("_", 1)[1]
    if layout == "folders":
        return "A" if group.startswith("A") or group.endswith("/A") else "B"
    if layout == "unpaired":
        return group[-1]
    return ""


def _check_pairs(result: CheckResult, root: pathlib.Path) -> None:
    if result.layout != "folders":
        return
    for a_name, b_name in _pair_groups(result):
        a_files, b_files = result.groups.get(a_name, []), result.groups.get(b_name, [])
        a_base, b_base = root / a_name, root / b_name
        a_keyed = {_key(i.path, a_base): i for i in a_files}
        b_keyed = {_key(i.path, b_base): i for i in b_files}
        only_a = sorted(set(a_keyed) - set(b_keyed))
        only_b = sorted(set(b_keyed) - set(a_keyed))
        if only_a or only_b:
            lines = [f"{a_name}/{k}: no B" for k in only_a] + [f"{b_name}/{k}: no A" for k in only_b]
            result.errors.append(f"A/B mismatch: {len(a_files)} in {a_name}/, {len(b_files)} in {b_name}/, "
                                 f"{len(lines)} without a partner:\n{_listed(lines)}")
        sizes = [f"{k}: A {a_keyed[k].width}x{a_keyed[k].height}, B {b_keyed[k].width}x{b_keyed[k].height}"
                 for k in sorted(set(a_keyed) & set(b_keyed))
                 if not a_keyed[k].error and not b_keyed[k].error
                 and (a_keyed[k].width, a_keyed[k].height) != (b_keyed[k].width, b_keyed[k].height)]
        if sizes:
            result.errors.append(f"{len(sizes)} pair(s) in {a_name}/{b_name} whose sizes differ "
                                 f"(`translation prepare combine --resize` fixes them):\n{_listed(sizes)}")


def _check_duplicates(result: CheckResult) -> None:
    by_hash = defaultdict(list)
    for name, files in result.groups.items():
        for info in files:
            if info.sha256:
                by_hash[info.sha256].append((name, info.path))
    # In A/B folders A and B of one pair may legitimately be identical files; compare within a side.
    duplicates, leaks = [], []
    for entries in by_hash.values():
        sides = defaultdict(list)
        for name, path in entries:
            sides[_side(name, result.layout)].append((name, path))
        for same_side in sides.values():
            if len(same_side) > 1:
                duplicates.append(", ".join(str(p) for _, p in same_side))
                groups = {_split_of(n) for n, _ in same_side}
                if "train" in groups and ({"test", "val"} & groups):
                    leaks.append(", ".join(str(p) for _, p in same_side))
    if duplicates:
        result.warnings.append(f"{len(duplicates)} set(s) of identical files:\n{_listed(duplicates)}")
    if leaks:
        result.warnings.append(f"{len(leaks)} file(s) in both train and val/test (inflates test scores):\n"
                               f"{_listed(leaks)}")


def _split_of(group: str) -> str:
    for s in SPLITS:
        if s in group.split("/") or group in (f"{s}A", f"{s}B"):
            return s
    return group


def _account_for_files(result: CheckResult, root: pathlib.Path, checked: set) -> None:
    """Name what was not checked: files that are not images, and images outside the layout's folders."""
    images, others = scan_images(root)
    others = [p.relative_to(root).as_posix() for p in others if p.name not in METADATA_FILES]
    if others:
        result.notes.append(skipped_not_images(others))
    outside = [p.relative_to(root).as_posix() for p in images if p not in checked]
    if outside:
        result.notes.append(f"{len(outside)} image(s) outside the folders of the {result.layout} layout, not checked "
                            f"and not read by training:\n{_listed(outside)}")


# --------------------------------------------------------------------------- report


def _sizes(files: List[FileInfo]) -> str:
    sizes = Counter((i.width, i.height) for i in files if not i.error)
    if not sizes:
        return "-"
    if len(sizes) == 1:
        (w, h), _ = sizes.most_common(1)[0]
        return f"{w}x{h}"
    widths = [w for w, _ in sizes.elements()]
    heights = [h for _, h in sizes.elements()]
    common = ", ".join(f"{w}x{h} ({n})" for (w, h), n in sizes.most_common(2))
    return f"{min(widths)}-{max(widths)} x {min(heights)}-{max(heights)}, most {common}"


def format_report(result: CheckResult) -> str:
    judged = f", sizes judged for {result.geometry}" if result.geometry else ""
    lines = [f"{result.root}: {result.layout} layout{judged}"]
    width = max((len(n) for n in result.groups), default=5)
    for name, files in result.groups.items():
        modes = Counter(i.mode for i in files if not i.error)
        mode_text = ", ".join(f"{m} {n}" if len(modes) > 1 else m for m, n in modes.most_common()) or "-"
        bad = sum(1 for i in files if i.error)
        lines.append(f"  {name:<{width}}  {len(files):6d} images  {_sizes(files)}  {mode_text}"
                     + (f"  ({bad} unreadable)" if bad else ""))
    lines += [f"note: {n}" for n in result.notes]
    lines += [f"warning: {w}" for w in result.warnings]
    lines += [f"error: {e}" for e in result.errors]
    verdict = "OK" if result.ok else f"{len(result.errors)} error(s)"
    lines.append(f"{verdict}, {len(result.warnings)} warning(s)")
    return "\n".join(lines)
