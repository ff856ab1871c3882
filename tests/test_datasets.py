import re

import numpy as np
import pytest
import torch

from translation.data.datasets import DataSetError, PairedDataset, find_pairs
from translation.data.geometry import crop_error, preprocess_size
from translation.data.io import ImageReadError, write_image
from translation.data.transforms import PairTransform
from translation.names import PREPROCESS_MODES

from conftest import blocky_image, make_paired_set


def test_aligned_halves_and_direction(paired_set):
    ab = PairedDataset(paired_set, direction="AtoB")
    ba = PairedDataset(paired_set, direction="BtoA")
    assert len(ab) == 8
    x = ab[0]
    assert x["A"].shape == (3, 32, 32) and x["A"].min() >= -1 and x["A"].max() <= 1
    assert torch.allclose(x["A"], -x["B"], atol=1e-6)  # B = 1 - A in [0,1] is -A in [-1,1]
    assert torch.equal(ba[0]["A"], x["B"]) and torch.equal(ba[0]["B"], x["A"])


def test_crop_and_flip_are_shared_by_both_halves_and_seeded(paired_set):
    t = PairTransform("resize_and_crop", load_size=40, crop_size=24, flip=True)
    ds = PairedDataset(paired_set, transform=t)
    crops = [ds[(0, seed)] for seed in range(6)]
    for c in crops:
        assert c["A"].shape == (3, 24, 24)
        assert torch.allclose(c["A"], -c["B"], atol=1e-5)  # same geometry on A and B
    assert torch.equal(ds[(0, 4)]["A"], ds[(0, 4)]["A"])  # same seed, same crop
    assert len({c["A"].sum().item() for c in crops}) > 1  # different seeds, different crops


def test_two_folders_with_mismatched_names_list_them(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("x", "y"):
        write_image(tmp_path / "train" / "A" / f"{name}.png", blocky_image(rng, 16))
    for name in ("x", "z"):
        write_image(tmp_path / "train" / "B" / f"{name}.jpg", blocky_image(rng, 16))
    with pytest.raises(DataSetError, match=r"only in .*A: y(.|\n)*only in .*B: z"):
        find_pairs(tmp_path)


def test_two_folders_pair_by_stem_and_grayscale_input(tmp_path):
    rng = np.random.default_rng(0)
    write_image(tmp_path / "A" / "p.png", blocky_image(rng, 16, 1))
    write_image(tmp_path / "B" / "p.jpg", blocky_image(rng, 16))
    ds = PairedDataset(tmp_path, input_nc=1, output_nc=3)
    item = ds[0]
    assert item["A"].shape == (1, 16, 16) and item["B"].shape == (3, 16, 16)


def test_pair_of_different_sizes_names_both_files(tmp_path):
    rng = np.random.default_rng(0)
    write_image(tmp_path / "A" / "p.png", blocky_image(rng, 16))
    write_image(tmp_path / "B" / "p.png", blocky_image(rng, 32))
    with pytest.raises(DataSetError, match=r"A/p.png is 16x16 but .*B/p.png is 32x32"):
        PairedDataset(tmp_path)[0]


def test_unreadable_file_is_named(paired_set):
    (paired_set / "train" / "003.png").write_bytes(b"")
    ds = PairedDataset(paired_set)
    with pytest.raises(ImageReadError, match="003.png"):
        ds[3]


def test_missing_folder_and_empty_set_are_explained(tmp_path):
    with pytest.raises(DataSetError, match="no such data set folder"):
        find_pairs(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSetError, match="found no train images"):
        find_pairs(tmp_path / "empty")


def test_crop_larger_than_image_is_a_clear_error(tmp_path):
    make_paired_set(tmp_path, n=1, size=16)
    ds = PairedDataset(tmp_path, transform=PairTransform("crop", crop_size=32))
    with pytest.raises(ValueError) as error:
        ds[0]
    # nothing is resized under --preprocess crop: the message says so and names the flags to change
    assert str(error.value) == (f"{tmp_path / 'train' / '000.png'} (16x16): smaller than --crop-size 32, and "
                                "--preprocess crop does not resize: lower --crop-size or use --preprocess "
                                "resize_and_crop")
    ds = PairedDataset(tmp_path, transform=PairTransform("resize_and_crop", load_size=24, crop_size=32))
    with pytest.raises(ValueError, match="--crop-size 32 is larger than --load-size 24: --preprocess "
                                         "resize_and_crop crops images resized to --load-size; raise --load-size"):
        ds[0]


@pytest.mark.parametrize("mode", PREPROCESS_MODES)
def test_training_fails_exactly_where_the_shared_geometry_says(mode):
    """data check asks crop_error; the transform must agree with it, size by size."""
    crop = 32
    for load in (24, 40):
        for h, w in ((16, 16), (40, 24), (24, 64), (48, 48)):
            image = np.zeros((h, w, 3), np.float32)
            transform = PairTransform(mode, load_size=load, crop_size=crop, flip=False)
            problem = crop_error(h, w, mode, load, crop)
            if problem:
                with pytest.raises(ValueError, match=re.escape(problem)):
                    transform({"A": image, "B": image}, seed=0)
                continue
            out = transform({"A": image, "B": image}, seed=0)["A"]
            expected = (crop, crop) if "crop" in mode else preprocess_size(h, w, mode, load, crop)
            assert tuple(out.shape[1:]) == expected, (mode, load, h, w)
