"""`translation data check`: layouts recognised, and every problem that breaks training reported."""
from __future__ import annotations

import argparse

import numpy as np
import pytest

from translation.commands import data as data_command
from translation.data.check import check_dataset, detect_layout
from translation.data.io import write_image


def cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="translation")
    data_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["data", "check", *argv, "--no-progress"])
    return args.func(args)


def img(seed, h=16, w=16, c=3):
    return np.random.default_rng(seed).random((h, w, c), dtype=np.float32)


def aligned_set(root, n=3, h=16):
    for split in ("train", "test"):
        for i in range(n):
            write_image(root / split / f"{i}.png", img(i + (100 if split == "test" else 0), h, 2 * h))
    return root


def test_good_aligned_set(tmp_path, capsys):
    root = aligned_set(tmp_path / "facades")
    assert cli(str(root), "--crop-size", "16") == 0
    out = capsys.readouterr().out
    assert "aligned layout" in out and "train" in out and "3 images" in out and "32x16" in out
    assert out.strip().endswith("OK, 0 warning(s)")


def test_aligned_problems_are_errors(tmp_path, capsys):
    root = aligned_set(tmp_path / "facades")
    (root / "train" / "empty.png").write_bytes(b"")
    (root / "train" / "fake.jpg").write_text("hello")
    write_image(root / "train" / "odd.png", img(7, 16, 33))
    (root / "train" / "notes.txt").write_text("ignored")
    assert cli(str(root)) == 1
    out = capsys.readouterr().out
    assert "2 unreadable file(s)" in out and "empty.png: empty file (0 bytes)" in out
    assert "fake.jpg: not an image file" in out and "odd.png: 33 px wide" in out
    assert "ignored non-image files: 1 .txt" in out


def test_crop_size_larger_than_images(tmp_path, capsys):
    root = aligned_set(tmp_path / "s", h=16)
    write_image(root / "train" / "big.png", img(9, 40, 80))
    assert cli(str(root), "--crop-size", "32") == 1
    out = capsys.readouterr().out
    assert "6 half-images smaller than --crop-size 32" in out and "0.png: 16x16" in out and "big.png" not in out
    assert cli(str(root), "--crop-size", "32", "--load-size", "40") == 0  # resized first: fine
    assert cli(str(root), "--crop-size", "32", "--load-size", "30") == 1


def test_paired_folders_mismatches(tmp_path, capsys):
    root = tmp_path / "ab"
    for name in ("a", "b", "c"):
        write_image(root / "A" / "train" / f"{name}.png", img(1))
    for name, size in (("a", 16), ("b", 20), ("d", 16)):
        write_image(root / "B" / "train" / f"{name}.jpg", img(2, size, size))
    assert detect_layout(root) == "folders"
    assert cli(str(root)) == 1
    out = capsys.readouterr().out
    assert "A/B mismatch: 3 in A/train/, 3 in B/train/, 2 without a partner" in out
    assert "A/train/c: no B" in out and "B/train/d: no A" in out
    assert "b: A 16x16, B 20x20" in out


def test_unpaired_missing_domain_duplicates_and_mixed_channels(tmp_path, capsys):
    root = tmp_path / "h2z"
    write_image(root / "trainA" / "0.png", img(1))
    write_image(root / "trainA" / "1.png", img(2, c=1))  # gray among colour
    write_image(root / "testA" / "copy.png", img(1))  # the same file as trainA/0.png
    result = check_dataset(root, progress=False)
    assert result.layout == "unpaired"
    assert any("trainB/ is missing" in e for e in result.errors)
    assert any("mixed channel counts in A: 1 file(s) with 1, 2 file(s) with 3" in w for w in result.warnings)
    assert any("identical files" in w for w in result.warnings)
    assert any("both train and val/test" in w for w in result.warnings)
    write_image(root / "trainB" / "z.png", img(5))
    write_image(root / "testB" / "z.png", img(6))
    assert cli(str(root)) == 0  # warnings only
    assert cli(str(root), "--strict") == 1
    assert "3 warning(s)" in capsys.readouterr().out


def test_domain_folders(tmp_path):
    for d in ("smile", "neutral"):
        for i in range(2):
            write_image(tmp_path / "faces" / "train" / d / f"{i}.png", img(i))
    result = check_dataset(tmp_path / "faces", progress=False)
    assert result.layout == "domains" and result.ok
    assert sorted(result.groups) == ["train/neutral", "train/smile"]
    write_image(tmp_path / "one" / "smile" / "0.png", img(0))
    lonely = check_dataset(tmp_path / "one", progress=False)
    assert lonely.layout == "domains" and any("only 1 domain" in e for e in lonely.errors)


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_missing_or_empty(tmp_path, capsys, make):
    root = tmp_path / "nothing"
    if make == "empty":
        root.mkdir()
    assert cli(str(root)) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert ("no such data set folder" in text) if make == "missing" else ("no images found" in text)
    assert "Traceback" not in text
