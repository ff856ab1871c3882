"""Inpainting data (issue 22, point 7): `prepare inpaint --layout masks` writes each photo with its mask file, the
old white-hole layout still writes A|B pairs; InpaintDataset crops and flips an image and its mask together, draws
masks per sample reproducibly from the sample's key, fills the holes, and names every bad mask."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from translation.cli import main
from translation.data.datasets import DataSetError
from translation.data.inpaint import InpaintDataset, mean_pixel
from translation.data.inpaint_layout import MaskError
from translation.data.io import ImageReadWarning, read_image, write_image


def photos(folder, count: int = 6, size=(40, 50)):
    for i in range(count):
        write_image(folder / f"p{i}.png", np.random.default_rng(i).random((*size, 3)).astype(np.float32))
    return folder


def write_set(root, images: dict, masks: dict, split: str = "train"):
    for name, image in images.items():
        write_image(root / split / "images" / name, image)
    for name, mask in masks.items():
        write_image(root / split / "masks" / name, mask)
    return root


def test_prepare_masks_writes_each_photo_and_its_mask_where_the_old_layout_paints_white_holes(tmp_path):
    source = photos(tmp_path / "photos")
    common = ["prepare", "inpaint", str(source), "--size", "32", "--holes", "2", "--hole-size", "0.3",
              "--no-progress"]
    assert main([*common[:3], str(tmp_path / "masks"), *common[3:], "--layout", "masks"]) == 0
    assert main([*common[:3], str(tmp_path / "aligned"), *common[3:]]) == 0
    written = 0
    for split in ("train", "val", "test"):
        for image_path in sorted((tmp_path / "masks" / split / "images").glob("*.png")):
            mask_path = tmp_path / "masks" / split / "masks" / image_path.name
            mask = read_image(mask_path)
            assert mask.shape == (32, 32, 1) and set(np.unique(mask)) <= {0.0, 1.0} and mask.any()
            image = read_image(image_path)
            pair = read_image(tmp_path / "aligned" / split / image_path.name)
            a, b = pair[:, :32], pair[:, 32:]
            np.testing.assert_array_equal(image, b)  # the photo itself, untouched
            np.testing.assert_array_equal(a, np.where(mask > 0, 1.0, b))  # the same holes, for the same name
            written += 1
    assert written == 6


def test_dataset_crops_and_flips_the_image_and_its_mask_together(tmp_path):
    # the image is white exactly where the mask is: any crop or flip that misses the mask shows up
    rng = np.random.default_rng(0)
    mask = (rng.random((30, 34, 1)) < 0.3).astype(np.float32)
    image = np.where(mask > 0, 1.0, rng.random((30, 34, 3)) * 0.5).astype(np.float32)
    root = write_set(tmp_path / "set", {"a.png": image}, {"a.png": mask})
    data = InpaintDataset(root, preprocess="crop", crop_size=16, flip=True, fill=[0.0, -1.0, 0.5])
    crops = set()
    for seed in range(12):
        item = data[(0, seed)]
        hole = item["mask"]
        assert hole.shape == (1, 16, 16) and item["B"].shape == (3, 16, 16)
        assert torch.equal(hole[0] == 1, (item["B"] == 1).all(0))
        known = hole.expand_as(item["B"]) == 0
        assert torch.equal(item["A"][known], item["B"][known])
        assert torch.equal(item["A"][:, hole[0] == 1], torch.tensor([[0.0], [-1.0], [0.5]]).expand(3, int(hole.sum())))
        crops.add(item["B"].numpy().tobytes())
    assert len(crops) > 6  # the seeds crop and flip differently


def test_drawn_masks_follow_the_key_only(tmp_path):
    root = photos(tmp_path / "flat")  # a plain folder of photos: the training split
    sizes = []

    def rectangle(height, width, rng):
        sizes.append((height, width))
        mask = np.zeros((height, width, 1), np.float32)
        top, left = rng.integers(0, height - 5), rng.integers(0, width - 5)
        mask[top:top + 5, left:left + 5] = 1
        return mask

    data = InpaintDataset(root, masks=rectangle, load_size=32, crop_size=24)
    first, again = data[(2, 7)], InpaintDataset(root, masks=rectangle, load_size=32, crop_size=24)[(2, 7)]
    assert sizes[0] == (24, 24) and first["mask"].sum() == 25
    for key in ("A", "B", "mask"):
        assert torch.equal(first[key], again[key])
    others = {data[(2, seed)]["mask"].numpy().tobytes() for seed in range(8)}
    assert len(others) > 4
    assert torch.equal(first["A"][first["mask"].expand(3, -1, -1) == 1], torch.zeros(75))


@pytest.mark.parametrize("kind", ["free_form", "rectangles", "deepfill"])
def test_the_mask_kinds_draw_at_the_crop_size_reproducibly(tmp_path, kind):
    root = photos(tmp_path / "flat", count=2, size=(48, 48))
    data = InpaintDataset(root, masks=kind, preprocess="crop", crop_size=32)
    first, again, other = data[(1, 3)], InpaintDataset(root, masks=kind, preprocess="crop", crop_size=32)[(1, 3)], \
        data[(1, 4)]
    assert first["mask"].shape == (1, 32, 32) and 0 < first["mask"].sum() < 32 * 32
    assert torch.equal(first["mask"], again["mask"]) and not torch.equal(first["mask"], other["mask"])
    with pytest.raises(ValueError, match="unknown mask kind 'strokes'"):
        InpaintDataset(root, masks="strokes")


def test_mean_pixel_is_the_mean_of_the_images_means(tmp_path):
    write_image(tmp_path / "a.png", np.full((4, 4, 3), [0.0, 1.0, 0.2], np.float32))
    write_image(tmp_path / "b.png", np.full((8, 2, 3), [1.0, 1.0, 0.6], np.float32))
    np.testing.assert_allclose(mean_pixel([tmp_path / "a.png", tmp_path / "b.png"]),
                               [0.5, 1.0, (round(0.2 * 255) + round(0.6 * 255)) / 2 / 255], atol=1e-6)


def test_a_mask_of_another_size_names_both_files(tmp_path):
    root = write_set(tmp_path / "set", {"a.png": np.zeros((20, 20, 3), np.float32)},
                     {"a.png": np.zeros((20, 22, 1), np.float32)})
    with pytest.raises(DataSetError, match=r"masks/a.png is 22x20 but its image .*images/a.png is 20x20"):
        InpaintDataset(root, crop_size=16)


def test_a_colour_mask_is_refused_and_a_grey_one_thresholded_at_128(tmp_path):
    image = np.zeros((20, 20, 3), np.float32)
    grey = np.zeros((20, 20, 1), np.uint8)
    grey[:, :10] = 127
    grey[:5, :10] = 128
    root = write_set(tmp_path / "set", {"rgb.png": image, "grey.png": image},
                     {"rgb.png": np.zeros((20, 20, 3), np.float32), "grey.png": grey})
    data = InpaintDataset(root, preprocess="none", flip=False)
    names = [item.image.name for item in data.items]
    with pytest.raises(MaskError, match=r"masks/rgb.png has 3 channels \(RGB\); a mask is a 1-channel"):
        data[names.index("rgb.png")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        item = data[names.index("grey.png")]
    assert any(issubclass(w.category, ImageReadWarning) and "from 128 up are holes" in str(w.message)
               for w in caught)
    assert item["mask"].sum() == 5 * 10 and item["mask"][0, :5, :10].all()


def test_missing_and_unmatched_masks_say_what_to_do(tmp_path):
    root = photos(tmp_path / "set" / "train" / "images", count=2).parent.parent
    with pytest.raises(DataSetError, match="--layout masks"):
        InpaintDataset(root)
    write_image(root / "train" / "masks" / "p0.png", np.zeros((40, 50, 1), np.float32))
    with pytest.raises(DataSetError, match=r"1 only in .*images: p1"):
        InpaintDataset(root)


def test_prepare_draws_the_mask_kinds_from_the_name(tmp_path, capsys):
    source = photos(tmp_path / "photos", count=3, size=(48, 48))
    for out in ("one", "two"):
        assert main(["prepare", "inpaint", str(source), str(tmp_path / out), "--layout", "masks", "--mask-kind",
                     "free_form", "--size", "0", "--val-fraction", "0", "--test-fraction", "0", "--no-progress"]) == 0
    for name in ("p0.png", "p1.png", "p2.png"):
        one, two = (read_image(tmp_path / out / "train" / "masks" / name) for out in ("one", "two"))
        np.testing.assert_array_equal(one, two)
        assert one.shape == (48, 48, 1) and 0 < one.mean() < 1 and set(np.unique(one)) <= {0.0, 1.0}
    assert main(["prepare", "inpaint", str(source), str(tmp_path / "three"), "--mask-kind", "free_form",
                 "--no-progress"]) == 1
    assert "--mask-kind free_form writes mask files: use it with --layout masks" in capsys.readouterr().err
