"""Multi-domain sets (StarGAN): ``out/{train,test}/<domain>/``, from folders or a CelebA attribute file."""
from __future__ import annotations

import pathlib
from typing import Dict, List, Sequence, Tuple

from tqdm import tqdm

from translation.data.io import write_image
from translation.data.labelled import DataSetError, official_celeba_split, read_attr_file
from translation.data.prepare.common import PrepareError, Report, check_output_folder, fit_square, list_inputs
from translation.data.prepare.unpaired import copy_resized
from translation.data.splits import check_fractions, split_for
from translation.names import STARGAN_TEST_COUNT
from translation.utils.files import atomic_write_bytes


def prepare_domain_folders(domains: Dict[str, pathlib.Path], out, size: int = 128, test_fraction: float = 0.1,
                           channels=3, ext: str = ".png", overwrite: bool = False, progress: bool = True,
                           root=None) -> Report:
    """One input folder per domain → ``out/{train,test}/<domain>/`` with a name-hash test split.

    ``root``: the folder the domains are the sub-folders of (``--folders``); its other files are named.
    """
    out = pathlib.Path(out)
    if len(domains) < 2:
        raise PrepareError(f"need at least two domains, got {len(domains)}: {', '.join(domains) or 'none'}")
    check_fractions(0.0, test_fraction)
    inputs = {name: list_inputs(folder, f"domain {name}") for name, folder in domains.items()}
    check_output_folder(out, domains.values(), overwrite)
    report = Report(not_images=[p for _, others in inputs.values() for p in others])
    if root is not None:
        report.account_for(root, (), "not in a domain folder (each sub-folder of --folders is a domain)",
                           recursive=False)
    for name, folder in domains.items():
        copy_resized(inputs[name][0], pathlib.Path(folder), lambda split, n=name: out / split / n, report, size,
                     channels, ext, lambda stem, path: split_for(stem, 0.0, test_fraction), f"domain {name}",
                     progress, label=f"/{name}")
    return report


def domains_from_root(root) -> Dict[str, pathlib.Path]:
    """Every sub-folder of ``root`` that holds images is a domain."""
    root = pathlib.Path(root)
    if not root.is_dir():
        raise PrepareError(f"{root} is not a folder")
    return {d.name: d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")}


def prepare_celeba(attr_file, images, out, attrs: Sequence[str], size: int = 128,
                   test_count: int = STARGAN_TEST_COUNT, ext: str = ".png", overwrite: bool = False,
                   progress: bool = True) -> Report:
    """A domain folder per selected attribute; an image goes to every selected attribute it has. The test
    split is the official StarGAN one (official_celeba_split), `test_count` images.

    Also writes ``out/list_attr.txt`` (CelebA format, selected attributes only, one line per written
    image) so multi-label training keeps images that have several attributes.
    """
    images, out = pathlib.Path(images), pathlib.Path(out)
    if not images.is_dir():
        raise PrepareError(f"--images folder {images} does not exist")
    try:
        names, rows, _ = read_attr_file(pathlib.Path(attr_file))
    except DataSetError as error:
        raise PrepareError(str(error)) from None
    test_rows, train_rows = official_celeba_split(rows, test_count)
    split_of = {number: "test" for number, _ in test_rows}
    unknown = [a for a in attrs if a not in names]
    if unknown or not attrs:
        raise PrepareError(f"unknown attribute(s) {', '.join(unknown) or '(none given)'}; "
                           f"the file has: {', '.join(names)}")
    check_output_folder(out, [images, pathlib.Path(attr_file)], overwrite)
    columns = [names.index(a) for a in attrs]
    report = Report()
    listing = []
    without = 0
    for number, fields in tqdm(rows, desc="celeba", unit="img", disable=not progress or None, leave=False):
        filename, selected = fields[0], [int(fields[c + 1]) for c in columns]
        if not any(v == 1 for v in selected):
            without += 1
            continue
        image = report.read(images / filename, channels=3)
        if image is None:
            continue
        image = fit_square(image, size)
        split = split_of.get(number, "train")
        stem = pathlib.Path(filename).stem
        first = None
        for attr, value in zip(attrs, selected):
            if value == 1:
                target = out / split / attr / (stem + ext)
                write_image(target, image)
                first = first or target.relative_to(out).as_posix()
                report.counts[f"{split}/{attr}"] += 1
        listing.append(f"{first} " + " ".join(f"{v:2d}" for v in selected))
    if without:
        report.notes.append(f"{without} image(s) have none of {', '.join(attrs)} and were left out")
    text = "\n".join([str(len(listing)), " ".join(attrs)] + listing) + "\n"
    atomic_write_bytes(out / "list_attr.txt", text.encode())
    return report
