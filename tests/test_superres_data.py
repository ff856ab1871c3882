"""Super-resolution data: MATLAB's bicubic imresize, `prepare superres --layout sr`, and SuperResDataset."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from translation.commands import prepare as prepare_command
from translation.data.datasets import DataSetError
from translation.data.imresize import bicubic_downscale, contributions, imresize
from translation.data.io import list_images, read_image, write_image
from translation.data.sr_layout import mod_crop
from translation.data.superres import SuperResDataset, find_sr_pairs


def cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="translation")
    prepare_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["prepare", *argv, "--no-progress"])
    return args.func(args)


def ramp(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.float64)


def block_centres(n: int, factor: int) -> np.ndarray:
    """Where output pixel i (1-based) of a shrink by `factor` samples the input: the centre of its block."""
    return factor * ramp(n) - (factor - 1) / 2


# --------------------------------------------------------------------------- MATLAB bicubic

# Shrinking by 2, MATLAB's antialiased kernel is 0.5 * cubic(0.5 * d) at d = ±0.5, ±1.5, ±2.5, ±3.5, worked out
# by hand: 0.43359375, 0.11328125, -0.03515625, -0.01171875 (they sum to 1). Output i samples u = 2i - 0.5: on a
# ramp the inner outputs are u itself, and at the ends the mirrored pixels (0 -> 1, -1 -> 2, ...) pull them in.
RAMP16_HALVED = [1.44921875, 3.48828125, 5.5, 7.5, 9.5, 11.5, 13.51171875, 15.55078125]


def test_halving_a_ramp_gives_the_hand_derived_values():
    weights, indices = contributions(16, 8, 0.5)
    row = weights[3][weights[3] != 0]
    np.testing.assert_allclose(row, [-0.01171875, -0.03515625, 0.11328125, 0.43359375,
                                     0.43359375, 0.11328125, -0.03515625, -0.01171875])
    np.testing.assert_array_equal(indices[0][weights[0] != 0], [2, 1, 0, 0, 1, 2, 3, 4])  # mirrored, 0-based
    out = imresize(np.tile(ramp(16), (4, 1)), size=(2, 8))
    np.testing.assert_allclose(out, np.tile(RAMP16_HALVED, (2, 1)), atol=1e-12)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_ramps_are_reproduced_inside_and_constants_everywhere(factor):
    # separable: an x ramp plus 10 x a y ramp shrinks to the same sum of the shrunk ramps; a block of `factor`
    # pixels has its centre at factor * i - (factor - 1) / 2, which a symmetric kernel reproduces on a ramp
    h, w = 8 * factor, 10 * factor
    image = ramp(w)[None, :] + 10 * ramp(h)[:, None]
    out = imresize(image[..., None], scale=1 / factor)
    assert out.shape == (8, 10, 1)
    x, y = block_centres(10, factor), block_centres(8, factor)
    inner = slice(2, -2)  # two LR pixels from the border the kernel (4 LR pixels wide) stays inside
    np.testing.assert_allclose(out[inner, inner, 0], (x[None, :] + 10 * y[:, None])[inner, inner], atol=1e-9)
    constant = np.full((h + 1, w, 3), 0.37)
    np.testing.assert_allclose(imresize(constant, size=(5, 7)), 0.37, atol=1e-12)


def test_a_kernel_wider_than_the_image_mirrors_again():
    # 4 px shrunk by 4: the 16-px kernel reaches past both mirrored copies; the ramp's mirror images are
    # symmetric about its centre 2.5, so the one output pixel is 2.5 (BasicSR's copy of MATLAB fails here)
    np.testing.assert_allclose(imresize(ramp(4)[None, :, None].repeat(4, 0), size=(1, 1)), 2.5, atol=1e-12)


def test_downscale_shape_and_symmetry():
    rng = np.random.default_rng(0)
    hr = rng.random((12, 8, 3))
    lr = bicubic_downscale(hr, 4)
    assert lr.shape == (3, 2, 3) and lr.dtype == np.float32 and 0 <= lr.min() and lr.max() <= 1
    np.testing.assert_allclose(bicubic_downscale(hr.transpose(1, 0, 2), 4), lr.transpose(1, 0, 2), atol=1e-6)
    with pytest.raises(ValueError, match="multiple of 3"):
        bicubic_downscale(hr[:, :7], 3)
    assert mod_crop(rng.random((13, 10, 3)), 4).shape == (12, 8, 3)


# --------------------------------------------------------------------------- prepare superres --layout sr


def make_photos(folder, sizes):
    rng = np.random.default_rng(1)
    for i, (h, w) in enumerate(sizes):
        write_image(folder / f"p{i}.png", rng.random((h, w, 3)))
    return folder


@pytest.mark.parametrize("scale", [3, 4])
def test_prepare_writes_mod_cropped_hr_and_its_matlab_lr(tmp_path, scale, capsys):
    photos = make_photos(tmp_path / "photos", [(40, 50), (37, 44), (2, 9)])
    out = tmp_path / "sr"
    assert cli("superres", str(photos), str(out), "--layout", "sr", "--scale", str(scale), "--size", "0",
               "--val-fraction", "0", "--test-fraction", "0") == 0
    said = capsys.readouterr().out
    assert "wrote 2 HR/LR pairs" in said and "p2.png: 9x2 is smaller than --scale" in said
    hr_files = list_images(out / "train" / "HR")
    assert [p.name for p in hr_files] == ["p0.png", "p1.png"]
    for path, (h, w) in zip(hr_files, [(40, 50), (37, 44)]):
        hr = read_image(path)
        photo = read_image(photos / path.name)
        np.testing.assert_array_equal(hr, photo[: h - h % scale, : w - w % scale])  # cropped, not resized
        lr = read_image(out / "train" / "LR_bicubic" / f"X{scale}" / path.name)
        assert lr.shape == (h // scale, w // scale, 3)
        # the LR is MATLAB's imresize of the HR file, rounded to 8 bits
        np.testing.assert_array_equal(np.round(lr * 255), np.round(bicubic_downscale(hr, scale) * 255))
    assert not (out / "train" / "A").exists() and not list_images(out / "train", recursive=False)


def test_sr_layout_only_for_superres_and_the_pix2pix_layout_stays(tmp_path):
    with pytest.raises(SystemExit):
        cli("denoise", str(tmp_path), str(tmp_path / "o"), "--layout", "sr")
    photos = make_photos(tmp_path / "photos", [(32, 32)])
    assert cli("superres", str(photos), str(tmp_path / "p2p"), "--size", "0", "--val-fraction", "0",
               "--test-fraction", "0") == 0
    assert read_image(tmp_path / "p2p" / "train" / "p0.png").shape == (32, 64, 3)  # A|B, A upsampled back


# --------------------------------------------------------------------------- SuperResDataset


def write_sr_pair(root, name, lr, scale, phase="train"):
    """HR = LR with each pixel repeated scale x scale: any crop or flip that differs between them shows."""
    write_image(root / phase / "HR" / f"{name}.png", np.kron(lr, np.ones((scale, scale, 1))))
    write_image(root / phase / "LR_bicubic" / f"X{scale}" / f"{name}.png", lr)


def blocks_set(root, scale=4, n=3, lr_size=(6, 5)):
    rng = np.random.default_rng(2)
    for i in range(n):
        write_sr_pair(root, f"im{i}", np.round(rng.random((*lr_size, 3)) * 255) / 255, scale)
    return root


def repeat(t: torch.Tensor, scale: int) -> torch.Tensor:
    return t.repeat_interleave(scale, 1).repeat_interleave(scale, 2)


def test_crops_and_flips_match_on_lr_and_hr_and_follow_the_seed(tmp_path):
    ds = SuperResDataset(blocks_set(tmp_path), scale=4, gt_size=12)
    assert len(ds) == 3 and ds.shuffle
    items = [ds[(1, seed)] for seed in range(40)]
    for item in items:
        assert item["A"].shape == (3, 3, 3) and item["B"].shape == (3, 12, 12)
        assert item["path"].endswith("LR_bicubic/X4/im1.png")
        assert -1 <= item["B"].min() and item["B"].max() <= 1
        assert torch.allclose(repeat(item["A"], 4), item["B"], rtol=0, atol=1e-6)  # same place, same flips
    assert torch.equal(ds[(1, 7)]["A"], items[7]["A"]) and torch.equal(ds[1]["B"], ds[(1, 0)]["B"])
    assert len({item["A"].numpy().tobytes() for item in items}) > 10


def test_the_eight_flips_and_rotations_of_basicsr_occur(tmp_path):
    lr = (np.arange(16, dtype=np.float32).reshape(4, 4, 1) / 15).repeat(3, axis=2)
    write_sr_pair(tmp_path, "ramp", lr, 2)
    ds = SuperResDataset(tmp_path, scale=2, gt_size=8)  # the whole image: only the augmentation varies
    seen = {ds[(0, seed)]["A"][0].numpy().tobytes() for seed in range(200)}
    square = torch.from_numpy(lr[..., 0]) * 2 - 1
    dihedral = {torch.rot90(s, k).numpy().tobytes() for s in (square, square.T) for k in range(4)}
    assert seen == dihedral


def test_whole_images_for_evaluation(tmp_path):
    root = blocks_set(tmp_path / "d", scale=3, lr_size=(5, 7))
    ds = SuperResDataset(root, scale=3, gt_size=0, augment=False)
    item = ds[(2, 123)]
    lr = read_image(root / "train" / "LR_bicubic" / "X3" / "im2.png")
    assert torch.allclose(item["A"], torch.from_numpy(lr.transpose(2, 0, 1)) * 2 - 1, rtol=0, atol=1e-6)
    assert item["B"].shape == (3, 15, 21)
    gray = SuperResDataset(root, scale=3, gt_size=0, augment=False, channels=1)[0]
    assert gray["A"].shape == (1, 5, 7) and gray["B"].shape == (1, 15, 21)


def test_bad_sets_name_the_files(tmp_path):
    root = blocks_set(tmp_path / "d", scale=4)
    write_image(root / "train" / "HR" / "im1.png", np.zeros((20, 24, 3)))  # LR is 6x5 (w x h), x4 = 20x24
    with pytest.raises(DataSetError) as error:
        SuperResDataset(root, scale=4, gt_size=8)
    message = str(error.value)
    assert "1 of 3" in message and "im1.png is 5x6" in message and "HR/im1.png's 24x20" in message
    with pytest.raises(DataSetError, match=r"HR/im0.png is 20x24, smaller than the 24 px"):
        SuperResDataset(blocks_set(tmp_path / "e"), scale=4, gt_size=24)
    with pytest.raises(ValueError, match="--gt-size 128 must be a multiple of --scale 3.*126 or 129"):
        SuperResDataset(root, scale=3)
    write_image(root / "train" / "HR" / "extra.png", np.zeros((24, 20, 3)))
    with pytest.raises(DataSetError, match=r"(?s)do not pair up.*only in .*HR: extra"):
        SuperResDataset(root, scale=4, gt_size=8)
    with pytest.raises(DataSetError, match=r"no ×2 LR images in .*X2 \(it has X4\)"):
        find_sr_pairs(root, "train", 2)
    with pytest.raises(DataSetError, match="found no test super-resolution pairs"):
        find_sr_pairs(root, "test", 4)


def test_div2k_folders_are_read_as_they_ship(tmp_path):
    rng = np.random.default_rng(3)
    for phase, name in (("train", "0001"), ("valid", "0801")):
        lr = rng.random((4, 5, 3))
        write_image(tmp_path / f"DIV2K_{phase}_HR" / f"{name}.png", np.kron(lr, np.ones((2, 2, 1))))
        write_image(tmp_path / f"DIV2K_{phase}_LR_bicubic" / "X2" / f"{name}x2.png", lr)
    train, val = find_sr_pairs(tmp_path, "train", 2), find_sr_pairs(tmp_path, "val", 2)
    assert [(p.a.name, p.b.name) for p in train + val] == [("0001x2.png", "0001.png"), ("0801x2.png", "0801.png")]
    item = SuperResDataset(tmp_path, "val", scale=2, gt_size=0, augment=False)[0]
    assert item["A"].shape == (3, 4, 5) and item["B"].shape == (3, 8, 10)
