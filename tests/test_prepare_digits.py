"""`translation prepare digits`: the built-in digits as the PNG files evaluation and folder training read."""
from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import pytest
from sklearn.datasets import load_digits

from translation.cli import main
from translation.data.image_sets import open_image_set
from translation.data.io import list_images, read_image

SIZE = 32


@pytest.fixture(scope="module")
def no_fsync():
    """Each write_image fsyncs twice (1,797 files: tens of seconds on a busy disk); durability is
    atomic_path's own tests' business, the files' content is this file's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)
        yield


def prepared(root, *extra):
    """The folder written, and what the command printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["prepare", "digits", str(root), "--image-size", str(SIZE), "--no-progress", *extra]) == 0
    return root, printed.getvalue()


@pytest.fixture(scope="module")
def flat(tmp_path_factory, no_fsync):
    return prepared(tmp_path_factory.mktemp("digits") / "real_digits")


@pytest.fixture(scope="module")
def by_class(tmp_path_factory, no_fsync):
    return prepared(tmp_path_factory.mktemp("digits") / "classes", "--by-class")


def test_every_digit_is_written_as_training_sees_it(flat):
    flat, printed = flat
    assert printed == f"wrote 1,797 digits ({SIZE}x{SIZE}, 10 classes) to {flat}\n"
    files = sorted(flat.iterdir())
    assert [f.name for f in files] == [f"{i:04d}.png" for i in range(1797)]
    data = open_image_set("digits", SIZE)
    for index in (0, 1, 500, 1796):
        image = read_image(files[index])
        assert image.shape == (SIZE, SIZE, 1)  # gray, as the data set
        expected = (data[index]["image"].numpy().transpose(1, 2, 0) + 1) / 2
        assert np.abs(image - expected).max() <= 1 / 255
    every = np.stack([read_image(f) for f in files])
    assert every.shape == (1797, SIZE, SIZE, 1) and every.max() == 1.0 and every.min() == 0.0


def test_by_class_puts_each_digit_in_its_class_folder_as_conditional_training_reads(by_class):
    root, printed = by_class
    assert printed.startswith("wrote 1,797 digits") and "one sub-folder per class" in printed
    target = load_digits().target
    assert sorted(p.name for p in root.iterdir()) == [str(d) for d in range(10)]
    for digit in range(10):
        names = sorted(p.name for p in (root / str(digit)).iterdir())
        assert names == [f"{i:04d}.png" for i in np.flatnonzero(target == digit)]
    # `train --data OUT --conditional` opens the folder so: the same labels as the built-in set's
    folder = open_image_set(root, SIZE, labels=True)
    assert folder.classes == [str(d) for d in range(10)] and not folder.notes
    indices = [int(os.path.basename(p)[:4]) for p in folder.paths]
    assert np.array_equal(folder.labels, target[indices])
    assert np.bincount(folder.labels).tolist() == np.bincount(target).tolist()


def test_a_folder_with_images_is_kept_unless_overwrite(flat, capsys):
    flat, _ = flat
    before = {p: p.stat().st_mtime_ns for p in list_images(flat)}
    assert main(["prepare", "digits", str(flat), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "already holds images" in err and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert {p: p.stat().st_mtime_ns for p in list_images(flat)} == before
