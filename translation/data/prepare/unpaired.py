"""Unpaired sets in the CycleGAN layout: trainA/ trainB/ testA/ testB/."""
from __future__ import annotations

import pathlib

from tqdm import tqdm

from translation.data.io import write_image
from translation.data.prepare.common import Report, check_output_folder, fit_square, list_inputs, output_stems
from translation.data.splits import check_fractions, split_for


def copy_resized(files, root: pathlib.Path, out_for_split, report: Report, size: int, channels, ext: str,
                 split_of, desc: str, progress: bool, label: str = "") -> None:
    """Read, fit to ``size``, write to ``out_for_split(split) / stem+ext``; count per ``label+split``."""
    stems = output_stems(files, root)
    for path in tqdm(files, desc=desc, unit="img", disable=not progress or None, leave=False):
        image = report.read(path, channels=channels)
        if image is None:
            continue
        image = fit_square(image, size)
        split = split_of(stems[path], path)
        write_image(out_for_split(split) / (stems[path] + ext), image)
        report.counts[f"{split}{label}"] += 1


def prepare_unpaired(a_dir, b_dir, out, size: int = 256, test_fraction: float = 0.1, channels=3,
                     ext: str = ".png", overwrite: bool = False, progress: bool = True) -> Report:
    """Two folders of unrelated images → ``out/{train,test}{A,B}/``, test picked by name hash."""
    a_dir, b_dir, out = pathlib.Path(a_dir), pathlib.Path(b_dir), pathlib.Path(out)
    check_fractions(0.0, test_fraction)
    inputs = {"A": list_inputs(a_dir, "--a"), "B": list_inputs(b_dir, "--b")}
    check_output_folder(out, [a_dir, b_dir], overwrite)
    report = Report(not_images=inputs["A"][1] + inputs["B"][1])
    for domain, folder in (("A", a_dir), ("B", b_dir)):
        copy_resized(inputs[domain][0], folder, lambda split, d=domain: out / f"{split}{d}", report, size, channels,
                     ext, lambda stem, path: split_for(stem, 0.0, test_fraction), f"unpaired {domain}",
                     progress, label=domain)
    return report
