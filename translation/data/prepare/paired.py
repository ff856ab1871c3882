"""Paired sets made from a single folder of photos: A = a maker's output, B = the photo."""
from __future__ import annotations

import pathlib
from collections.abc import Callable

import numpy as np
from tqdm import tqdm

from translation.data.prepare.common import (
    Report, check_output_folder, fit_square, list_inputs, output_stems, write_pair,
)
from translation.data.prepare.tasks import Maker, rng_for
from translation.data.splits import check_fractions, split_for

# writes one photo's files its own way: (split, stem, photo, rng) -> None, or why the photo is skipped
Writer = Callable[[str, str, np.ndarray, np.random.Generator], str | None]


def prepare_paired(task: str, maker: Maker | None, photos, out, size: int = 256, val_fraction: float = 0.1,
                   test_fraction: float = 0.1, layout: str = "aligned", ext: str = ".png",
                   overwrite: bool = False, progress: bool = True, write: Writer | None = None) -> Report:
    """Write an aligned A|B set (A = ``maker(photo)``, B = photo) with a name-hash split; ``write`` replaces the
    A|B pair with files of its own (`prepare superres --layout sr`)."""
    photos, out = pathlib.Path(photos), pathlib.Path(out)
    check_fractions(val_fraction, test_fraction)
    files, others = list_inputs(photos, "photo")
    check_output_folder(out, [photos], overwrite)
    stems = output_stems(files, photos if photos.is_dir() else photos.parent)
    report = Report(not_images=others)
    for path in tqdm(files, desc=f"prepare {task}", unit="img", disable=not progress or None, leave=False):
        photo = report.read(path, channels=3)
        if photo is None:
            continue
        photo = fit_square(photo, size)
        stem = stems[path]
        split = split_for(stem, val_fraction, test_fraction)
        rng = rng_for(stem, task)
        if write is None:
            write_pair(out, split, stem, maker(photo, rng), photo, layout, ext)
        else:
            reason = write(split, stem, photo, rng)
            if reason:
                report.skip(path, reason)
                continue
        report.counts[split] += 1
    return report
