"""`translation prepare ...` on tiny generated folders, including the bad cases."""
from __future__ import annotations

import argparse
import hashlib

import numpy as np
import pytest
from PIL import Image

from translation.commands import prepare as prepare_command
from translation.data.io import list_images, read_image, write_image
from translation.data.prepare import fit_square
from translation.data.splits import split_for

SIZE = 32


def cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="translation")
    prepare_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["prepare", *argv, "--no-progress"])
    return args.func(args)


def blocks(seed: int, h: int = 40, w: int = 48) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.kron(rng.random((4, 4, 3)), np.ones((h // 4, w // 4, 1))).astype(np.float32)


def make_photos(root, n=12):
    for i in range(n):
        write_image(root / f"p{i:02d}.png", blocks(i))
    write_image(root / "sub" / "p00.png", blocks(99))  # same name in a sub-folder: no clash
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    (root / ".hidden.png").write_bytes(b"x")
    return root


def digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def aligned_halves(path):
    both = read_image(path)
    w = both.shape[1] // 2
    return both[:, :w], both[:, w:]


def splits_of(out):
    return {p.stem: p.parent.name for p in list_images(out)}


# --------------------------------------------------------------------------- splits


def test_split_is_stable_and_follows_fractions():
    names = [f"img_{i}" for i in range(4000)]
    splits = [split_for(n, 0.1, 0.2) for n in names]
    assert abs(splits.count("test") / 4000 - 0.2) < 0.03 and abs(splits.count("val") / 4000 - 0.1) < 0.03
    assert splits == [split_for(n, 0.1, 0.2) for n in names]  # no hidden state
    assert split_for("anything", 0.0, 0.0) == "train"
    with pytest.raises(ValueError):
        split_for("x", 0.6, 0.5)


def test_fit_square_resizes_shorter_side_and_centre_crops():
    img = np.zeros((40, 80, 3), np.float32)
    img[:, 20:60] = 1.0  # the centre square
    out = fit_square(img, 20)
    assert out.shape == (20, 20, 3) and out.min() > 0.99
    assert fit_square(img, 0) is img


# --------------------------------------------------------------------------- paired tasks


def test_edges_writes_aligned_pairs_and_reports(tmp_path, capsys):
    photos = make_photos(tmp_path / "photos")
    before = digest(photos)
    out = tmp_path / "data" / "edges2photos"
    assert cli("edges", str(photos), str(out), "--size", str(SIZE)) == 0
    report = capsys.readouterr().out
    files = list_images(out)
    assert len(files) == 13  # 12 + sub/p00, not broken.jpg or the hidden file
    assert f"wrote 13 pairs to {out}" in report and "broken.jpg: not an image file" in report
    counts = {s: sum(1 for f in files if f.parent.name == s) for s in ("train", "val", "test")}
    assert ", ".join(f"{s} {n}" for s, n in counts.items() if n) in report
    assert {f.parent.name for f in files} <= {"train", "val", "test"}
    a, b = aligned_halves(out / splits_of(out)["p03"] / "p03.png")
    assert a.shape == b.shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(b, fit_square(blocks(3), SIZE), atol=1 / 255)
    assert np.array_equal(a[..., 0], a[..., 2])  # gray edges replicated to RGB
    assert set(np.unique(a)) == {0.0, 1.0} and a.mean() > 0.7  # black lines on white
    assert "sub_p00" in splits_of(out)
    assert digest(photos) == before  # inputs untouched


def test_split_stays_put_when_files_are_added(tmp_path):
    photos = make_photos(tmp_path / "photos", n=10)
    assert cli("colorize", str(photos), str(tmp_path / "one"), "--size", "16") == 0
    for i in range(10, 30):
        write_image(photos / f"p{i:02d}.png", blocks(i))
    assert cli("colorize", str(photos), str(tmp_path / "two"), "--size", "16") == 0
    first, second = splits_of(tmp_path / "one"), splits_of(tmp_path / "two")
    assert all(second[name] == split for name, split in first.items())
    assert set(second.values()) == {"train", "val", "test"}


def test_hed_like_with_folders_layout(tmp_path):
    photos = make_photos(tmp_path / "photos", n=4)
    out = tmp_path / "hed"
    assert cli("edges", str(photos), str(out), "--size", str(SIZE), "--method", "hed-like", "--layout", "both") == 0
    name = next(iter(list_images(out / "A")))
    split = name.parent.name
    a = read_image(name)
    assert a.shape == (SIZE, SIZE, 1) and set(np.unique(a)) <= {0.0, 1.0} and (a == 0).any()
    assert read_image(out / "B" / split / name.name).shape == (SIZE, SIZE, 3)
    left, _ = aligned_halves(out / split / name.name)
    np.testing.assert_array_equal(left[..., :1], a)


@pytest.mark.parametrize("task,extra", [("colorize", []), ("superres", ["--scale", "4"]),
                                        ("denoise", ["--sigma", "25"]), ("inpaint", ["--holes", "1"])])
def test_degradations(tmp_path, task, extra):
    photos = make_photos(tmp_path / "photos", n=3)
    out = tmp_path / task
    assert cli(task, str(photos), str(out), "--size", str(SIZE), "--val-fraction", "0", "--test-fraction", "0",
               *extra) == 0
    a, b = aligned_halves(out / "train" / "p01.png")
    if task == "colorize":
        lum = b @ np.array([0.299, 0.587, 0.114], np.float32)
        np.testing.assert_allclose(a[..., 0], lum, atol=1.5 / 255)
    elif task == "superres":
        assert np.abs(a - b).mean() > 0.01  # detail is gone ...
        small = lambda x: x.reshape(8, 4, 8, 4, 3).mean((1, 3))  # noqa: E731
        assert np.abs(small(a) - small(b)).mean() < 0.05  # ... but the coarse image is the same
    elif task == "denoise":
        assert abs(np.std(a - b) - 25 / 255) < 0.02
        assert cli(task, str(photos), str(tmp_path / "again"), "--size", str(SIZE), "--val-fraction", "0",
                   "--test-fraction", "0", *extra) == 0
        assert (tmp_path / "again" / "train" / "p01.png").read_bytes() == (out / "train" / "p01.png").read_bytes()
    else:
        changed = np.abs(a - b).max(axis=2) > 1e-6
        ys, xs = np.nonzero(changed)
        assert np.all(a[changed] == 1.0)
        assert ys.max() - ys.min() + 1 <= SIZE // 4 and xs.max() - xs.min() + 1 <= SIZE // 4


def test_refuses_unsafe_outputs(tmp_path, capsys):
    photos = make_photos(tmp_path / "photos", n=2)
    assert cli("edges", str(photos), str(photos / "out")) == 1
    assert "overlaps input" in capsys.readouterr().err
    assert cli("edges", str(photos), str(tmp_path / "out"), "--size", "16") == 0
    assert cli("edges", str(photos), str(tmp_path / "out"), "--size", "16") == 1
    assert "--overwrite" in capsys.readouterr().err
    assert cli("edges", str(photos), str(tmp_path / "out"), "--size", "16", "--overwrite") == 0
    assert cli("edges", str(tmp_path / "missing"), str(tmp_path / "o2")) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


# --------------------------------------------------------------------------- combine / split


def make_ab(root, names_a, names_b, split="train", size_b=None):
    for i, name in enumerate(names_a):
        write_image(root / "A" / split / f"{name}.png", blocks(i, 16, 16))
    for i, name in enumerate(names_b):
        write_image(root / "B" / split / f"{name}.jpg", blocks(i + 50, *(size_b or (16, 16))), quality=100)


def test_combine_keeps_splits_and_matches_across_extensions(tmp_path, capsys):
    make_ab(tmp_path / "in", ["a", "b"], ["a", "b"], "train")
    make_ab(tmp_path / "in", ["c"], ["c"], "test")
    out = tmp_path / "out"
    assert cli("combine", "--a", str(tmp_path / "in" / "A"), "--b", str(tmp_path / "in" / "B"), str(out)) == 0
    assert "wrote 3 pairs" in capsys.readouterr().out
    assert sorted(p.relative_to(out).as_posix() for p in list_images(out)) == ["test/c.png", "train/a.png",
                                                                            "train/b.png"]
    a, b = aligned_halves(out / "train" / "b.png")
    np.testing.assert_allclose(a, read_image(tmp_path / "in" / "A" / "train" / "b.png"), atol=1e-6)
    np.testing.assert_allclose(b, read_image(tmp_path / "in" / "B" / "train" / "b.jpg"), atol=1 / 255)


def test_combine_reports_every_problem_and_writes_nothing(tmp_path, capsys):
    make_ab(tmp_path / "in", ["a", "b", "only_a"], ["a", "b", "only_b"], size_b=(16, 20))
    out = tmp_path / "out"
    args = ["combine", "--a", str(tmp_path / "in" / "A"), "--b", str(tmp_path / "in" / "B"), str(out)]
    assert cli(*args) == 1
    err = capsys.readouterr().err
    assert "train/only_a" in err and "train/only_b" in err
    assert "A a.png is 16x16, B a.jpg is 20x16" in err and "--resize" in err
    assert not out.exists()
    assert cli(*args, "--resize") == 1  # names still unmatched
    assert not out.exists()
    assert cli(*args, "--resize", "--skip-unmatched") == 0
    report = capsys.readouterr().out
    assert "wrote 2 pairs" in report and "only_a" in report
    assert read_image(out / "train" / "a.png").shape == (16, 32, 3)


def test_combine_flat_folders_uses_hash_split(tmp_path):
    for i in range(12):
        write_image(tmp_path / "A" / f"{i}.png", blocks(i, 8, 8))
        write_image(tmp_path / "B" / f"{i}.png", blocks(i + 1, 8, 8))
    out = tmp_path / "out"
    assert cli("combine", "--a", str(tmp_path / "A"), "--b", str(tmp_path / "B"), str(out),
               "--val-fraction", "0.2", "--test-fraction", "0.2") == 0
    assert {p.stem: p.parent.name for p in list_images(out)} == {str(i): split_for(str(i), 0.2, 0.2)
                                                                 for i in range(12)}


def test_split_is_the_inverse_of_combine(tmp_path, capsys):
    make_ab(tmp_path / "in", ["a", "b"], ["a", "b"])
    assert cli("combine", "--a", str(tmp_path / "in" / "A"), "--b", str(tmp_path / "in" / "B"),
               str(tmp_path / "ab")) == 0
    write_image(tmp_path / "ab" / "train" / "odd.png", np.zeros((4, 7, 3), np.float32))
    assert cli("split", str(tmp_path / "ab" / "train"), str(tmp_path / "back")) == 0
    report = capsys.readouterr().out
    assert "odd.png: width 7 is odd" in report and "wrote 2 A/B pairs" in report
    for side, ext in (("A", "png"), ("B", "jpg")):
        for name in ("a", "b"):
            original = read_image(tmp_path / "in" / side / "train" / f"{name}.{ext}")
            np.testing.assert_allclose(read_image(tmp_path / "back" / side / "train" / f"{name}.png"), original,
                                       atol=1e-6)


# --------------------------------------------------------------------------- unpaired / domains


def test_unpaired(tmp_path, capsys):
    for i in range(20):
        write_image(tmp_path / "horses" / f"h{i}.png", blocks(i, 24, 40))
    for i in range(7):
        write_image(tmp_path / "zebras" / f"z{i}.jpg", blocks(i, 40, 24))
    out = tmp_path / "h2z"
    assert cli("unpaired", "--a", str(tmp_path / "horses"), "--b", str(tmp_path / "zebras"), str(out),
               "--test-fraction", "0.3", "--size", "16") == 0
    report = capsys.readouterr().out
    folders = {d.name: len(list_images(d)) for d in out.iterdir()}
    assert set(folders) <= {"trainA", "testA", "trainB", "testB"}
    assert folders["trainA"] + folders.get("testA", 0) == 20 and folders["trainB"] + folders.get("testB", 0) == 7
    assert folders.get("testA", 0) == sum(split_for(f"h{i}", 0, 0.3) == "test" for i in range(20))
    assert f"trainA {folders['trainA']}" in report
    assert read_image(next(iter(list_images(out / "trainB")))).shape == (16, 16, 3)


def test_domains_from_folders(tmp_path):
    for d in ("smile", "neutral", "angry"):
        for i in range(4):
            write_image(tmp_path / "faces" / d / f"{d}{i}.png", blocks(i, 20, 20))
    out = tmp_path / "out"
    assert cli("domains", str(out), "--folders", str(tmp_path / "faces"), "--size", "16",
               "--test-fraction", "0") == 0
    assert sorted(d.name for d in (out / "train").iterdir()) == ["angry", "neutral", "smile"]
    assert len(list_images(out / "train" / "smile")) == 4
    out2 = tmp_path / "out2"
    assert cli("domains", str(out2), "--domain", f"happy={tmp_path / 'faces' / 'smile'}",
               "--domain", f"calm={tmp_path / 'faces' / 'neutral'}", "--size", "16") == 0
    assert {p.parent.name for p in list_images(out2)} == {"happy", "calm"}
    assert cli("domains", str(tmp_path / "o3"), "--domain", f"x={tmp_path}") == 1  # one domain only


def test_domains_from_celeba_attributes(tmp_path, capsys):
    images = tmp_path / "img_align_celeba"
    names = ["Bald", "Black_Hair", "Blond_Hair", "Male"]
    rows = [(f"{i:06d}.jpg", v) for i, v in enumerate([
        [-1, 1, -1, 1], [-1, -1, 1, -1], [-1, -1, -1, 1], [-1, 1, -1, -1], [-1, -1, 1, 1], [1, 1, 1, 1]], 1)]
    for filename, _ in rows[:-1]:
        write_image(images / filename, blocks(1, 218 // 4 * 4, 178 // 4 * 4))
    attr = tmp_path / "list_attr_celeba.txt"
    attr.write_text(f"{len(rows)}\n" + " ".join(names) + "\n"
                    + "\n".join(f"{f} " + " ".join(f"{x:2d}" for x in v) for f, v in rows) + "\n")
    out = tmp_path / "celeba"
    assert cli("domains", str(out), "--celeba-attrs", str(attr), "--images", str(images),
               "--attrs", "Black_Hair,Blond_Hair", "--test-count", "2", "--size", "16") == 0
    report = capsys.readouterr().out
    placed = sorted(p.relative_to(out).as_posix() for p in list_images(out))
    # the official split: lines shuffled with seed 1234, the first --test-count of them for test (here the
    # lines of 000002 and 000003, which has neither attribute)
    assert placed == ["test/Blond_Hair/000002.png", "train/Black_Hair/000001.png",
                      "train/Black_Hair/000004.png", "train/Blond_Hair/000005.png"]
    assert "000006.jpg: file not found" in report and "1 image(s) have none of Black_Hair, Blond_Hair" in report
    listing = (out / "list_attr.txt").read_text().splitlines()
    assert listing[:2] == ["4", "Black_Hair Blond_Hair"] and listing[2].split() == ["train/Black_Hair/000001.png",
                                                                                   "1", "-1"]
    assert read_image(out / placed[0]).shape == (16, 16, 3)
    assert cli("domains", str(tmp_path / "x"), "--celeba-attrs", str(attr), "--images", str(images),
               "--attrs", "Red_Hair") == 1
    assert "unknown attribute(s) Red_Hair; the file has: Bald, Black_Hair" in capsys.readouterr().err
    attr.write_text(attr.read_text().replace(" 1  1  1  1", " 1  1  0  1"))
    assert cli("domains", str(tmp_path / "y"), "--celeba-attrs", str(attr), "--images", str(images),
               "--attrs", "Black_Hair") == 1
    assert "list_attr_celeba.txt:8: '0' for Blond_Hair; values must be 1 or -1" in capsys.readouterr().err


# --------------------------------------------------------------------------- every input file accounted for


def test_paired_and_unpaired_name_files_that_are_not_images_and_read_gifs(tmp_path, capsys):
    photos = tmp_path / "photos"
    for i in range(3):
        write_image(photos / f"p{i}.png", blocks(i))
    frames = [Image.new("RGB", (48, 40), c) for c in ("red", "green")]
    frames[0].save(photos / "anim.gif", save_all=True, append_images=frames[1:])
    (photos / "notes.txt").write_text("x")
    (photos / "deep").mkdir()
    (photos / "deep" / "logo.svg").write_text("<svg/>")
    (photos / ".DS_Store").write_bytes(b"x")
    assert cli("colorize", str(photos), str(tmp_path / "out"), "--size", "16") == 0
    report = capsys.readouterr().out
    assert report.splitlines()[0].endswith(
        f"; skipped 2 files that are not images ({photos / 'deep' / 'logo.svg'}, {photos / 'notes.txt'})")
    assert f"warning: {photos / 'anim.gif'}: animated (2 frames), using the first" in report
    assert "wrote 4 pairs" in report and ".DS_Store" not in report
    b = aligned_halves(next(p for p in list_images(tmp_path / "out") if p.stem == "anim"))[1]
    assert np.allclose(b, (1, 0, 0), atol=1 / 255)  # the first frame

    assert cli("unpaired", "--a", str(photos), "--b", str(photos / "deep"), str(tmp_path / "u")) == 1
    err = capsys.readouterr().err
    assert f"--b folder {photos / 'deep'} has no images" in err
    assert f"skipped 1 file that is not an image ({photos / 'deep' / 'logo.svg'})" in err
    write_image(photos / "deep" / "z.png", blocks(9))
    assert cli("unpaired", "--a", str(photos), "--b", str(photos / "deep"), str(tmp_path / "u"), "--size", "16") == 0
    assert "skipped 3 files that are not images" in capsys.readouterr().out  # logo.svg counted once per input


def test_gif_is_not_an_output_format(tmp_path, capsys):
    write_image(tmp_path / "photos" / "a.png", blocks(0))
    assert cli("colorize", str(tmp_path / "photos"), str(tmp_path / "out"), "--ext", "gif") == 1
    assert "--ext .gif: use one of" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_combine_and_split_name_what_their_layout_does_not_read(tmp_path, capsys):
    make_ab(tmp_path / "in", ["a"], ["a"], "train")
    write_image(tmp_path / "in" / "A" / "stray.png", blocks(5, 16, 16))  # beside the split folders
    (tmp_path / "in" / "B" / "train" / "labels.csv").write_text("x")
    assert cli("combine", "--a", str(tmp_path / "in" / "A"), "--b", str(tmp_path / "in" / "B"),
               str(tmp_path / "ab")) == 0
    report = capsys.readouterr().out
    assert f"skipped 1 file that is not an image ({tmp_path / 'in' / 'B' / 'train' / 'labels.csv'})" in report
    assert f"{tmp_path / 'in' / 'A' / 'stray.png'}: outside the train/, val/ and test/ folders" in report

    write_image(tmp_path / "ab" / "train" / "old" / "x.png", np.zeros((4, 8, 3), np.float32))
    (tmp_path / "ab" / "README").write_text("x")
    assert cli("split", str(tmp_path / "ab"), str(tmp_path / "back")) == 0
    report = capsys.readouterr().out
    assert "wrote 1 A/B pairs" in report and f"({tmp_path / 'ab' / 'README'})" in report
    assert f"{tmp_path / 'ab' / 'train' / 'old' / 'x.png'}: not directly in {tmp_path / 'ab' / 'train'}/" in report


def test_domains_name_files_beside_the_domain_folders(tmp_path, capsys):
    for d in ("smile", "calm"):
        write_image(tmp_path / "faces" / d / "0.png", blocks(0, 20, 20))
    write_image(tmp_path / "faces" / "loose.png", blocks(1, 20, 20))
    (tmp_path / "faces" / "index.html").write_text("x")
    assert cli("domains", str(tmp_path / "out"), "--folders", str(tmp_path / "faces"), "--size", "16") == 0
    report = capsys.readouterr().out
    assert f"skipped 1 file that is not an image ({tmp_path / 'faces' / 'index.html'})" in report
    assert f"{tmp_path / 'faces' / 'loose.png'}: not in a domain folder" in report
