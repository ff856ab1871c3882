"""The built-in `digits` as image files: the real folder that `evaluate --features digits` and
`train --eval-data` compare samples with, or class sub-folders for conditional training from a folder."""
from __future__ import annotations

import pathlib

from tqdm import tqdm

from translation.data.arrays import to_image
from translation.data.image_sets import ImageSet, builtin_digits
from translation.data.io import write_image
from translation.data.prepare.common import Report, check_output_folder


def prepare_digits(out, image_size: int = 32, by_class: bool = False, overwrite: bool = False,
                   progress: bool = True) -> Report:
    """Write every image `--data digits` trains on, as training sees it at ``image_size`` (1 channel),
    to ``out/<index>.png``, or ``out/<class>/<index>.png`` with ``by_class``; the index is scikit-learn's.
    Counts per class are in the report."""
    out = pathlib.Path(out)
    check_output_folder(out, [], overwrite)
    # the built-in set itself: open_image_set("digits") would read a ./digits/ folder first, which may be
    # this command's own earlier output
    images, labels, classes, channels = builtin_digits()
    data = ImageSet("digits", images, [f"digits[{i}]" for i in range(len(images))], labels, classes, image_size,
                    channels)
    report = Report()
    for index in tqdm(range(len(data)), desc="prepare digits", unit="img", disable=not progress or None,
                      leave=False):
        name = data.classes[data.labels[index]]
        folder = out / name if by_class else out
        write_image(folder / f"{index:04d}.png", to_image(data[index]["image"]))
        report.counts[name] += 1
    return report
