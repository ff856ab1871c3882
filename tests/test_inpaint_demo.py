"""`translation demo inpaint`: held-out still-life photos are objects not trained on, each with a fixed rectangular
hole; glcic, Telea and the mean fill are scored inside the holes only, and the sheet shows masked input | mean fill |
Telea | glcic | original. A tiny net for three steps here; the real figures are in README."""
import numpy as np
import pytest

from translation.cli import main
from translation.data.inpaint_layout import inpaint_folders, read_mask
from translation.data.io import list_images, read_image, write_image
from translation.demo.inpaint_demo import (CROP, build_inpaint_set, held_out_name, hole_scores, mean_fill_folder,
                                           run_demo, telea_folder)
from translation.visualize import HEADER_HEIGHT

TINY = {"steps": 3, "steps_c": 1, "steps_d": 1, "ngf": 4, "ndf": 4, "batch_size": 2, "train_count": 6,
        "test_count": 4}


def test_the_split_keeps_held_out_objects_out_of_training_with_fixed_holes(tmp_path):
    counts = build_inpaint_set(tmp_path, train_count=12, test_count=14)
    train = list_images(tmp_path / "train" / "images")
    images, masks = inpaint_folders(tmp_path, "test")
    test = [p.stem for p in list_images(images)]
    assert counts == {"train": 12, "test": 14} and len(train) == 12
    assert test == sorted(held_out_name(i) for i in range(14))
    assert {n.split("_")[0] for n in test} == {"apple", "orange", "lemon", "pear", "vase", "bottle"}  # kinds take turns
    trained = [read_image(p) for p in train]
    for name in test:  # another random stream: no held-out photo is one trained on
        photo = read_image(images / f"{name}.png")
        assert photo.shape == (CROP, CROP, 3) and min(np.abs(photo - t).max() for t in trained) > 0.1
    assert not (tmp_path / "train" / "masks").exists()  # training draws its masks per sample
    holes = [read_mask(masks / f"{n}.png") for n in test]
    for hole in holes:  # one rectangle of 19-32 px (0.3-0.6 of 64, inside the 32 px local area)
        rows, cols = np.nonzero(hole[:, :, 0])
        assert hole.shape == (CROP, CROP, 1) and 19 <= np.ptp(rows) + 1 <= 32 and 19 <= np.ptp(cols) + 1 <= 32
        assert hole.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
    assert len({h.tobytes() for h in holes}) > 10  # not one hole everywhere
    build_inpaint_set(tmp_path / "again", train_count=1, test_count=14)  # the same photos and holes on every run
    again = tmp_path / "again" / "test"
    assert all((read_mask(again / "masks" / f"{n}.png") == h).all() for n, h in zip(test, holes))
    assert all((read_image(again / "images" / f"{n}.png") == read_image(images / f"{n}.png")).all() for n in test)


def test_hole_scores_count_only_the_hole():
    original = np.zeros((4, 4, 3), np.float32)
    mask = np.zeros((4, 4, 1), np.float32)
    mask[1:3, 1:3] = 1
    filled = np.ones((4, 4, 3), np.float32)  # wrong everywhere outside the hole: must not count
    filled[1:3, 1:3] = 0.5
    filled[1, 1, 0] = 0.0  # one exact sample of 12
    l1, psnr = hole_scores(filled, original, mask)
    assert l1 == pytest.approx(11 * 0.5 / 12)
    assert psnr == pytest.approx(10 * np.log10(1 / (11 * 0.25 / 12)))
    assert hole_scores(original, original, mask)[1] == float("inf")
    with pytest.raises(ValueError, match="without a hole"):
        hole_scores(filled, original, np.zeros_like(mask))


def test_the_baselines_fill_only_the_hole(tmp_path):
    rng = np.random.default_rng(0)
    image = np.full((32, 32, 3), [0.2, 0.6, 0.4], np.float32)
    image[:, 28:] = rng.random((32, 4, 3))  # known texture beside the hole: must come back untouched
    image[8:20, 8:20] = 1.0  # what lies under the hole must not leak into any fill
    mask = np.zeros((32, 32, 1), np.float32)
    mask[8:20, 8:20] = 1
    write_image(tmp_path / "in" / "a.png", image)
    write_image(tmp_path / "masks" / "a.png", mask)
    image = read_image(tmp_path / "in" / "a.png")  # as 8 bits
    colour = np.array([0.5, 0.25, 0.75], np.float32)
    mean_fill_folder(tmp_path / "in", tmp_path / "masks", tmp_path / "mean", colour)
    telea_folder(tmp_path / "in", tmp_path / "masks", tmp_path / "telea")
    hole = mask[:, :, 0] == 1
    mean, telea = read_image(tmp_path / "mean" / "a.png"), read_image(tmp_path / "telea" / "a.png")
    assert (mean[~hole] == image[~hole]).all() and (telea[~hole] == image[~hole]).all()
    assert np.allclose(mean[hole], np.round(colour * 255) / 255)
    # Telea diffuses the border inward: a hole inside a flat region comes back as that flat colour
    flat = np.round(np.array([0.2, 0.6, 0.4]) * 255) / 255
    assert np.abs(telea[hole] - flat).max() <= 2 / 255 + 1e-6  # OpenCV's weights round


def test_a_tiny_run_scores_the_three_fills_in_the_holes_and_draws_the_sheet(tmp_path, capsys):
    result = run_demo(tmp_path, **TINY)
    err = capsys.readouterr().err
    images, masks = inpaint_folders(tmp_path / "inpaint_photos", "test")
    names = [p.name for p in list_images(images)]
    assert len(names) == result["counts"]["test"] == 4
    folders = {"mean fill": "filled_mean", "telea": "filled_telea", "glcic": "filled_glcic"}
    for method, folder in folders.items():  # the mean over tiles of each tile's hole-only L1 and PSNR, by hand
        l1, psnr = [], []
        for name in names:
            hole = read_mask(masks / name)[:, :, 0] == 1
            diff = read_image(tmp_path / folder / name)[hole] - read_image(images / name)[hole]
            l1.append(np.abs(diff).mean())
            psnr.append(-10 * np.log10((diff ** 2).mean()))
            if method == "glcic":  # translate --mask keeps every known pixel
                assert (read_image(tmp_path / folder / name)[~hole] == read_image(images / name)[~hole]).all()
        assert result["models"][method]["l1"] == pytest.approx(np.mean(l1), abs=1e-6)
        assert result["models"][method]["psnr"] == pytest.approx(np.mean(psnr), abs=1e-4)
        assert f"{method:9s}: in the holes L1 {result['models'][method]['l1']:.4f}" in err
    assert "mean fill by" in err and "telea by" in err

    sheet = read_image(result["sheet"])
    side = 3 * CROP  # each 64 px tile enlarged 3 times
    assert sheet.shape[:2] == (HEADER_HEIGHT + 4 * (side + 2), 5 * side + 4 * 2)  # all 4 (the sheet takes up to 6)
    first = f"{held_out_name(0)}.png"
    row = sheet[HEADER_HEIGHT + 2:HEADER_HEIGHT + 2 + side]
    hole = read_mask(masks / first)[:, :, 0].repeat(3, 0).repeat(3, 1) == 1
    original = read_image(images / first).repeat(3, 0).repeat(3, 1)
    assert (row[:, :side][hole] == 1).all()  # masked input: the hole white
    for column, folder in enumerate(("filled_mean", "filled_telea", "filled_glcic"), start=1):
        x = column * (side + 2)
        assert np.allclose(row[:, x:x + side], read_image(tmp_path / folder / first).repeat(3, 0).repeat(3, 1))
    assert np.allclose(row[:, 4 * (side + 2):], original)
    assert (tmp_path / "checkpoints" / "demo_glcic" / "latest.pt").is_file()


def test_the_command_offers_it(tmp_path, monkeypatch):
    calls = {}
    monkeypatch.setattr("translation.demo.inpaint_demo.run_demo",
                        lambda workdir, precision, **steps: calls.update(workdir=workdir, **steps) or {})
    assert main(["demo", "inpaint", "--workdir", str(tmp_path), "--steps", "3"]) == 0
    assert calls == {"workdir": str(tmp_path), "steps": 3}
