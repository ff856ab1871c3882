import functools
import hashlib
import io

import numpy as np
import pytest
from PIL import Image
from tqdm import tqdm


from translation.cli import main
from translation.data.io import read_image, write_image
from translation.inference import folders
from translation.inference.folders import TranslateError, translate_folder
from translation.inference.translator import load_translator
from translation.models.pix2pix import Pix2PixModel
from translation.training.trainer import Trainer

from conftest import blocky_image, make_paired_set, tiny_pix2pix_config


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    data = make_paired_set(root / "data", n=4, size=64)
    # unet_64 is the smallest U-Net with dropout layers (unet_32 has none), so paper mode is exercised
    config = tiny_pix2pix_config(data, root / "runs", steps=3, netG="unet_64", load_size=64, crop_size=64)
    return Trainer(Pix2PixModel, config, progress=False).fit()


def digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def messy_folder(tmp_path):
    """What people have: odd sizes, gray, RGBA, 16-bit, GIF, nested folders, other files, and broken files."""
    rng = np.random.default_rng(1)
    src = tmp_path / "in"
    write_image(src / "odd.png", rng.random((37, 53, 3)))
    write_image(src / "nested" / "deep" / "gray.jpg", rng.random((20, 90, 1)))
    write_image(src / "alpha.png", rng.random((33, 33, 4)))
    write_image(src / "sixteen.tif", rng.random((40, 24, 3)), bit_depth=16)
    Image.fromarray((rng.random((30, 31, 3)) * 255).astype(np.uint8)).save(src / "photo.webp")
    (src / "empty.png").write_bytes(b"")
    (src / "notes.jpg").write_text("not an image")
    good_png = (src / "odd.png").read_bytes()
    (src / "truncated.png").write_bytes(good_png[: len(good_png) // 2])
    frames = [Image.new("RGB", (21, 19), c) for c in ("red", "blue")]
    frames[0].save(src / "anim.gif", save_all=True, append_images=frames[1:])
    (src / "readme.txt").write_text("not an image, named in the summary")
    (src / "nested" / "logo.svg").write_text("<svg/>")
    (src / ".DS_Store").write_bytes(b"hidden: left alone")
    (src / ".git").mkdir()
    (src / ".git" / "x.png").write_bytes(good_png)
    return src


def test_translates_every_readable_image_at_its_own_size(checkpoint, messy_folder, tmp_path, capsys):
    before = digest(messy_folder)
    out = tmp_path / "out"
    code = main(["translate", str(checkpoint), str(messy_folder), str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1  # some files failed
    assert digest(messy_folder) == before  # the input tree is untouched
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert written == ["alpha.png", "anim.png", "nested", "nested/deep", "nested/deep/gray.png", "odd.png",
                       "photo.png", "sixteen.png"]
    for name, size in {"odd.png": (37, 53), "nested/deep/gray.png": (20, 90), "sixteen.png": (40, 24),
                       "anim.png": (19, 21)}.items():
        assert read_image(out / name).shape[:2] == size
    for bad in ("empty.png", "notes.jpg", "truncated.png"):
        assert bad in err
    assert "anim.gif: animated (2 frames), using the first" in err
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("translated 6, skipped 2 files that are not images (nested/logo.svg, readme.txt), "
                              "failed 3 ")
    assert ".DS_Store" not in err and ".git" not in err and "Traceback" not in err


def test_a_folder_without_images_names_what_it_holds(checkpoint, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("x")
    with pytest.raises(TranslateError, match=r"no images found .*; skipped 1 file that is not an image \(a.txt\)"):
        translate_folder(load_translator(checkpoint), src, tmp_path / "out", progress=False)


def test_progress_bar_finishes_once(checkpoint, tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    src = tmp_path / "in"
    for i in range(3):
        write_image(src / f"{i}.png", np.zeros((16, 16, 3)))
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    # mininterval=0: the bar redraws on every update, so what it draws does not depend on timing
    monkeypatch.setattr(folders, "tqdm", functools.partial(tqdm, mininterval=0))
    summary = translate_folder(load_translator(checkpoint), src, tmp_path / "out", num_workers=0)
    assert summary.translated == 3
    assert terminal.getvalue().count("3/3") == 1


def test_same_input_same_bytes_and_batch_independence(checkpoint, tmp_path):
    rng = np.random.default_rng(2)
    src = tmp_path / "in"
    for i in range(5):
        write_image(src / f"{i}.png", blocky_image(rng, 64))
    for mode in ("paper", "eval"):
        t = load_translator(checkpoint, test_mode=mode)
        translate_folder(t, src, tmp_path / f"{mode}_b1", batch_size=1, progress=False, num_workers=0)
        translate_folder(t, src, tmp_path / f"{mode}_b4", batch_size=4, progress=False, num_workers=0)
        translate_folder(t, src / "3.png", tmp_path / f"{mode}_alone", progress=False, num_workers=0)
        b1, b4 = digest(tmp_path / f"{mode}_b1"), digest(tmp_path / f"{mode}_b4")
        assert b1 == b4, mode
        assert digest(tmp_path / f"{mode}_alone")["3.png"] == b1["3.png"], mode
    # test-time dropout is on in paper mode: different seeds give different outputs
    t = load_translator(checkpoint, test_mode="paper")
    translate_folder(t, src, tmp_path / "seed1", seed=1, progress=False, num_workers=0)
    assert digest(tmp_path / "seed1") != digest(tmp_path / "paper_b1")


def test_existing_outputs_are_kept_unless_overwrite(checkpoint, tmp_path):
    src = tmp_path / "in"
    write_image(src / "a.png", np.zeros((40, 40, 3)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"precious")
    t = load_translator(checkpoint)
    summary = translate_folder(t, src, out, progress=False)
    assert summary.skipped_existing == 1 and (out / "a.png").read_bytes() == b"precious"
    translate_folder(t, src, out, overwrite=True, progress=False)
    assert read_image(out / "a.png").shape == (40, 40, 3)


def test_refuses_output_inside_input(checkpoint, tmp_path):
    src = tmp_path / "in"
    write_image(src / "a.png", np.zeros((8, 8, 3)))
    with pytest.raises(TranslateError, match="overlap"):
        translate_folder(load_translator(checkpoint), src, src / "out", progress=False)
    assert not (src / "out").exists()


def test_one_input_file_can_be_written_to_a_folder_beside_it_but_not_into_its_own(checkpoint, tmp_path):
    photo = tmp_path / "a.png"
    write_image(photo, np.zeros((8, 8, 3)))
    before = photo.read_bytes()
    translator = load_translator(checkpoint)
    summary = translate_folder(translator, photo, tmp_path / "out", progress=False)  # as README's `photo.jpg out/`
    assert summary.translated == 1 and (tmp_path / "out" / "a.png").is_file() and photo.read_bytes() == before
    with pytest.raises(TranslateError, match="overlap"):  # its own folder: a.png would be replaced
        translate_folder(translator, photo, tmp_path, overwrite=True, progress=False)
    assert photo.read_bytes() == before


def test_resize_and_formats(checkpoint, tmp_path):
    src = tmp_path / "in"
    write_image(src / "a.png", np.zeros((50, 70, 3)))
    t = load_translator(checkpoint, test_mode="eval")
    translate_folder(t, src, tmp_path / "o", size=64, fmt="jpg", progress=False)
    assert read_image(tmp_path / "o" / "a.jpg").shape == (64, 64, 3)


def test_tiny_and_large_odd_images_pad_correctly(checkpoint):
    from translation.nets import create_generator
    from translation.inference.translator import Translator

    resnet = create_generator("resnet_6blocks", ngf=4, norm="instance")
    spec = {"kwargs": {"in_channels": 3, "out_channels": 3}}
    for t in (load_translator(checkpoint, test_mode="eval"), Translator(resnet, spec, "AtoB", "eval", "cpu")):
        for shape in ((1, 1, 3), (5, 300, 3), (33, 65, 3)):
            assert t.translate(np.full(shape, 0.5, np.float32)).shape == shape
