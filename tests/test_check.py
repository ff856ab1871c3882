"""`translation data check`: layouts recognised, and every problem that breaks training reported."""
from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest
from PIL import Image

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
    assert "note: skipped 1 file that is not an image (train/notes.txt)" in out


def test_sizes_are_judged_with_the_training_geometry(tmp_path, capsys):
    root = aligned_set(tmp_path / "s", h=16)
    write_image(root / "train" / "big.png", img(9, 40, 80))
    # training's default --preprocess resize_and_crop --load-size 286 scales 16 px up first: fine
    assert cli(str(root), "--crop-size", "32") == 0
    assert "sizes judged for --preprocess resize_and_crop --load-size 286 --crop-size 32" in capsys.readouterr().out
    assert cli(str(root), "--crop-size", "32", "--preprocess", "scale_width_and_crop", "--load-size", "32") == 0
    assert cli(str(root), "--crop-size", "32", "--preprocess", "none") == 0  # nothing is cropped
    capsys.readouterr()

    assert cli(str(root), "--crop-size", "32", "--preprocess", "crop") == 1  # crop does not resize
    out = capsys.readouterr().out
    assert ("6 half-images smaller than --crop-size 32, and --preprocess crop does not resize: lower --crop-size "
            "or use --preprocess resize_and_crop (training would stop at the first)") in out
    assert "0.png: 16x16" in out and "big.png" not in out

    assert cli(str(root), "--crop-size", "32", "--load-size", "30") == 1  # no image can give the crop
    out = capsys.readouterr().out
    assert out.count("error:") == 1 and "--crop-size 32 is larger than --load-size 30" in out
    assert "raise --load-size or lower --crop-size" in out and "0.png" not in out


def test_small_images_that_train_fine_pass_with_the_defaults(tmp_path, capsys):
    """The issue's case: 96 px images, `--crop-size 256`; training scales them to 286 first."""
    for split in ("trainA", "trainB", "testA", "testB"):
        for i in range(3):
            write_image(tmp_path / "h2z" / split / f"{i}.png", img(i + len(split), 96, 96))
    assert cli(str(tmp_path / "h2z"), "--crop-size", "256") == 0
    assert cli(str(tmp_path / "h2z")) == 0
    assert cli(str(tmp_path / "h2z"), "--preprocess", "crop") == 1
    assert "12 images smaller than --crop-size 256" in capsys.readouterr().out


def test_defaults_are_those_of_training():
    from translation.models.cyclegan import CycleGANConfig
    from translation.models.pix2pix import Pix2PixConfig

    parser = argparse.ArgumentParser()
    data_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["data", "check", "x"])
    for config in (Pix2PixConfig, CycleGANConfig):
        defaults = {f.name: f.default for f in dataclasses.fields(config)}
        assert (args.preprocess, args.load_size, args.crop_size) == \
            (defaults["preprocess"], defaults["load_size"], defaults["crop_size"])


def test_every_file_is_accounted_for(tmp_path, capsys):
    root = aligned_set(tmp_path / "s")
    frames = [Image.new("RGB", (32, 16), c) for c in ("red", "blue", "green")]
    frames[0].save(root / "train" / "anim.gif", save_all=True, append_images=frames[1:])
    write_image(root / "train" / "extra" / "x.png", img(1, 16, 32))  # aligned files are read flat
    for name in ("a.txt", "b.svg", "SOURCE.json", ".DS_Store"):
        (root / name).write_text("x")
    assert cli(str(root)) == 0  # warnings only
    out = capsys.readouterr().out
    assert "train       4 images" in out  # the GIF is checked
    assert f"warning: 1 file(s) read with a caveat:\n    {root / 'train' / 'anim.gif'}: animated (3 frames), " \
           "using the first" in out
    assert "note: skipped 2 files that are not images (a.txt, b.svg)" in out  # not metadata, not hidden
    assert "1 image(s) outside the folders of the aligned layout, not checked and not read by training:\n" \
           "    train/extra/x.png" in out
    assert cli(str(root), "--strict") == 1


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


def test_pix2pixhd_folders_label_values_and_instance_maps(tmp_path, capsys):
    """The official train_label/ train_img/ train_inst/ folders are a layout of their own; every label map out
    of range is listed with its value, the ids say which --label-nc they need, missing instance maps are named."""
    from test_label_maps import official_set, save_ids

    root = official_set(tmp_path / "city", n=4, size=16, n_labels=5, instance=True)
    for i in (1, 3):
        save_ids(root / "train_label" / f"city_{i}_gtFine_labelIds.png", np.full((16, 16), 40 + i))
    assert detect_layout(root) == "pix2pixhd"
    size = ["--crop-size", "16", "--load-size", "16"]
    assert cli(str(root), *size) == 0  # without --label-nc the ids are only described
    assert "label maps hold ids up to 43: train pix2pixhd with --label-nc 44" in capsys.readouterr().out
    assert cli(str(root), *size, "--label-nc", "5", "--instance") == 1
    out = capsys.readouterr().out
    assert "2 label map(s) with ids outside 0..4 (--label-nc 5; the highest id is 43" in out
    assert "city_1_gtFine_labelIds.png: label value 41 is outside 0..4" in out
    assert "city_3_gtFine_labelIds.png: label value 43 is outside 0..4" in out
    assert cli(str(root), *size, "--label-nc", "44", "--instance") == 0
    capsys.readouterr()
    (root / "train_inst" / "city_2_gtFine_instanceIds.png").unlink()
    write_image(root / "train_label" / "city_0_gtFine_labelIds.png", img(3))  # a photo where ids belong
    assert cli(str(root), *size, "--label-nc", "44") == 1
    out = capsys.readouterr().out
    assert "1 label map(s) that are not maps of integer ids" in out and "city_0_gtFine_labelIds.png: a colour" in out
    assert cli(str(root), *size, "--label-nc", "44", "--instance") == 1
    assert "(4 inputs, 3 instance maps" in capsys.readouterr().out


def test_label_maps_in_named_folders_and_aligned_files(tmp_path, capsys):
    from test_label_maps import save_ids

    root = tmp_path / "named"
    for i in range(2):
        save_ids(root / "train" / "A" / f"{i}.png", np.full((16, 16), 7 * i))
        write_image(root / "train" / "B" / f"{i}.png", img(i))
    assert cli(str(root), "--crop-size", "16", "--load-size", "16", "--label-nc", "7") == 1
    assert "train/A/1.png: label value 7 is outside 0..6" in capsys.readouterr().out
    assert cli(str(aligned_set(tmp_path / "aligned")), "--label-nc", "7", "--crop-size", "16",
               "--load-size", "16") == 1
    assert "aligned A|B files hold images" in capsys.readouterr().out
