"""What every `prepare` command shares: input listing, sizing, safe output folders, the report.

Every file under an input folder is accounted for in the report: written, skipped with a reason, or
named as not an image. Hidden files and folders (.DS_Store, .git/) are left alone, as git does.
"""
from __future__ import annotations

import pathlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Collection, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from translation.data.arrays import resize
from translation.data.io import (IMAGE_EXTENSIONS, WRITE_EXTENSIONS, ImageReadError, list_images, read_image,
                                read_warnings, scan_images, skipped_not_images, write_image)
from translation.data.splits import SPLITS
from translation.names import PREPARE_LAYOUTS

LAYOUTS = PREPARE_LAYOUTS


class PrepareError(ValueError):
    """A request `prepare` cannot carry out; the message says what to change."""


def fit_square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize the shorter side to ``size`` and centre-crop to ``size x size``; 0 keeps the image."""
    if not size:
        return image
    h, w = image.shape[:2]
    scale = size / min(h, w)
    new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
    image = resize(image, new_h, new_w)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return image[top : top + size, left : left + size]


def output_stems(paths: Sequence[pathlib.Path], root: pathlib.Path) -> Dict[pathlib.Path, str]:
    """One output name per input: the relative path with '/' → '_'; clashes keep their extension.

    photos/a.jpg and photos/a.png would both become a.png otherwise.
    """
    base = {}
    for path in paths:
        rel = path.relative_to(root) if path != root else pathlib.Path(path.name)
        base[path] = "_".join(rel.with_suffix("").parts)
    clashes = {stem for stem, n in Counter(base.values()).items() if n > 1}
    stems = {p: (f"{s}_{p.suffix.lstrip('.').lower()}" if s in clashes else s) for p, s in base.items()}
    repeated = [s for s, n in Counter(stems.values()).items() if n > 1]
    if repeated:
        raise PrepareError(f"input files map to the same output name: {', '.join(sorted(repeated)[:10])}")
    return stems


def list_inputs(folder: pathlib.Path, label: str = "input") -> Tuple[List[pathlib.Path], List[pathlib.Path]]:
    """(images, other files) under ``folder``, recursively; no images at all is an error."""
    folder = pathlib.Path(folder)
    if not folder.exists():
        raise PrepareError(f"{label} folder {folder} does not exist")
    images, others = scan_images(folder)
    if not images:
        found = f"; {skipped_not_images(others)}" if others else ""
        raise PrepareError(f"{label} folder {folder} has no images ({', '.join(sorted(IMAGE_EXTENSIONS))}){found}")
    return images, others


def _inside(child: pathlib.Path, parent: pathlib.Path) -> bool:
    try:
        child.relative_to(parent)
        return True
    except ValueError:
        return False


def check_output_folder(out: pathlib.Path, inputs: Iterable[pathlib.Path], overwrite: bool) -> None:
    """Refuse outputs that would overwrite or mix with the inputs or an existing data set."""
    out_r = pathlib.Path(out).resolve()
    for source in inputs:
        src_r = pathlib.Path(source).resolve()
        # A folder input must not contain the output (re-runs would read outputs as inputs) nor lie
        # inside it; a single file input must only stay out of the output folder.
        overlap = _inside(src_r, out_r) if src_r.is_file() else (_inside(out_r, src_r) or _inside(src_r, out_r))
        if overlap:
            raise PrepareError(f"output folder {out} overlaps input {source}: choose a folder outside it "
                               "(inputs are never overwritten)")
    if out_r.is_file():
        raise PrepareError(f"output {out} is a file, not a folder")
    if out_r.is_dir() and list_images(out_r) and not overwrite:
        raise PrepareError(f"output folder {out} already holds images; choose a new folder or pass --overwrite")


@dataclass
class Report:
    """Counts per split (or domain) and the inputs that were skipped, with reasons."""

    counts: Counter = field(default_factory=Counter)
    skipped: List[Tuple[str, str]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    not_images: List[pathlib.Path] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)  # files read with a caveat (an animated GIF)

    def skip(self, path, reason: str) -> None:
        self.skipped.append((str(path), reason))

    def skip_error(self, error: ImageReadError) -> None:
        self.skip(error.path, error.reason)

    def read(self, path, channels: Optional[int] = None) -> Optional[np.ndarray]:
        """read_image; an unreadable file is recorded as skipped (None), a caveat as a warning."""
        try:
            with read_warnings() as caveats:
                image = read_image(path, channels=channels)
        except ImageReadError as error:
            self.skip_error(error)
            return None
        self.warnings += caveats
        return image

    def account_for(self, folder: pathlib.Path, used: Collection[pathlib.Path], reason: str,
                    recursive: bool = True) -> None:
        """Name every file under ``folder`` the command did not read: other files as not images, images
        (outside the folders a layout reads) as skipped with ``reason``."""
        images, others = scan_images(folder, recursive)
        self.not_images += others
        self.skipped += [(str(path), reason) for path in images if path not in used]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self, out, what: str = "pairs") -> str:
        order = sorted(self.counts, key=_split_order)
        parts = ", ".join(f"{k} {self.counts[k]}" for k in order) or "nothing"
        first = f"wrote {self.total} {what} to {out}: {parts}"
        if self.not_images:
            first += f"; {skipped_not_images(self.not_images)}"
        lines = [first] + self.notes + [f"warning: {w}" for w in self.warnings]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} file(s):")
            lines += [f"  {path}: {reason}" for path, reason in self.skipped]
        return "\n".join(lines)


def _split_order(key: str):
    """train before val before test, whether the key is "train", "trainA" or "train/smile"."""
    for index, split in enumerate(SPLITS):
        if key.startswith(split):
            return (index, key)
    return (len(SPLITS), key)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Aligned A|B files are RGB (as the official sets): gray halves are replicated."""
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def write_pair(out: pathlib.Path, split: str, stem: str, a: np.ndarray, b: np.ndarray,
               layout: str = "aligned", ext: str = ".png", bit_depth: int = 8) -> None:
    """Write A|B side by side in ``out/split/`` and/or A and B in ``out/A/split/``, ``out/B/split/``."""
    if a.shape[:2] != b.shape[:2]:
        raise PrepareError(f"{stem}: A is {a.shape[1]}x{a.shape[0]} but B is {b.shape[1]}x{b.shape[0]}")
    name = stem + ext
    if layout in ("aligned", "both"):
        write_image(out / split / name, np.concatenate([to_rgb(a), to_rgb(b)], axis=1), bit_depth=bit_depth)
    if layout in ("folders", "both"):
        write_image(out / "A" / split / name, a, bit_depth=bit_depth)
        write_image(out / "B" / split / name, b, bit_depth=bit_depth)


def normalise_ext(ext: str) -> str:
    ext = ext if ext.startswith(".") else "." + ext
    if ext.lower() not in WRITE_EXTENSIONS:
        raise PrepareError(f"--ext {ext}: use one of {', '.join(sorted(WRITE_EXTENSIONS))}")
    return ext.lower()
