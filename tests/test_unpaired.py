import numpy as np
import pytest
import torch

from translation.data.datasets import DataSetError
from translation.data.io import read_image, write_image
from translation.data.transforms import PairTransform
from translation.data.unpaired import UnpairedDataset, find_domains

from conftest import blocky_image


def make_unpaired_set(root, n_a=5, n_b=3, size=32, phase="train", b_size=None, seed=0):
    """trainA/ and trainB/ with different counts (and optionally sizes); B images are inverted blocks."""
    rng = np.random.default_rng(seed)
    for i in range(n_a):
        write_image(root / f"{phase}A" / f"a{i}.png", blocky_image(rng, size))
    for i in range(n_b):
        write_image(root / f"{phase}B" / f"b{i}.png", 1.0 - blocky_image(rng, b_size or size))
    return root


def test_official_layout_with_unequal_domains_and_sizes(tmp_path):
    make_unpaired_set(tmp_path, n_a=5, n_b=3, size=32, b_size=48)
    ds = UnpairedDataset(tmp_path, transform=PairTransform("resize_and_crop", load_size=36, crop_size=32))
    assert len(ds) == 5  # the larger domain, as the official UnalignedDataset
    item = ds[(4, 123)]
    assert item["A"].shape == item["B"].shape == (3, 32, 32)
    assert item["A_path"].endswith("a4.png") and "trainB" in item["B_path"]
    # values are the files' own colours mapped from [0, 1] to [-1, 1]: a crop of a4.png keeps its mean colour
    source = read_image(tmp_path / "trainA" / "a4.png")
    mapped = torch.from_numpy(source.mean(axis=(0, 1)) * 2 - 1)
    assert torch.allclose(item["A"].mean(dim=(1, 2)), mapped, atol=0.15) and item["A"].std() > 0.2
    assert item["A"].min() >= source.min() * 2 - 1 - 0.05 and item["A"].max() <= source.max() * 2 - 1 + 0.05


def test_seed_picks_the_partner_and_the_crops_reproducibly(tmp_path):
    make_unpaired_set(tmp_path, n_a=2, n_b=6)
    ds = UnpairedDataset(tmp_path, transform=PairTransform("resize_and_crop", load_size=40, crop_size=24))
    first, again = ds[(0, 7)], ds[(0, 7)]
    assert first["B_path"] == again["B_path"] and torch.equal(first["B"], again["B"])
    assert torch.equal(first["A"], again["A"])
    partners = {ds[(0, seed)]["B_path"] for seed in range(30)}
    assert len(partners) >= 4  # a random B, not always the same
    crops = {ds[(0, seed)]["A"].sum().item() for seed in range(8)}
    assert len(crops) > 1


def test_serial_batches_pair_a_i_with_b_i_mod_len_b(tmp_path):
    make_unpaired_set(tmp_path, n_a=5, n_b=3)
    ds = UnpairedDataset(tmp_path, serial=True)
    assert [ds[(i, 99)]["B_path"].rsplit("/", 1)[1] for i in range(5)] == ["b0.png", "b1.png", "b2.png",
                                                                         "b0.png", "b1.png"]


def test_other_layouts_and_test_phase(tmp_path):
    rng = np.random.default_rng(0)
    for domain in "AB":
        write_image(tmp_path / "x" / "train" / domain / "p.png", blocky_image(rng, 16))
        write_image(tmp_path / "y" / domain / "q.png", blocky_image(rng, 16))
    make_unpaired_set(tmp_path / "z", n_a=2, n_b=2, phase="test")
    assert [p.name for p in find_domains(tmp_path / "x")[1]] == ["p.png"]
    assert [p.name for p in find_domains(tmp_path / "y")[0]] == ["q.png"]
    assert len(UnpairedDataset(tmp_path / "z", phase="test")) == 2


def test_grayscale_domain_a(tmp_path):
    make_unpaired_set(tmp_path, n_a=2, n_b=2)
    item = UnpairedDataset(tmp_path, input_nc=1, output_nc=3)[0]
    assert item["A"].shape == (1, 32, 32) and item["B"].shape == (3, 32, 32)


def test_missing_domain_and_wrong_layout_say_what_was_expected(tmp_path):
    make_unpaired_set(tmp_path / "only_a", n_a=2, n_b=0)
    with pytest.raises(DataSetError, match=r"domain B has no images \(looked in .*trainB/\)"):
        find_domains(tmp_path / "only_a")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSetError, match=r"Expected folders .*trainA/ and .*trainB/"):
        find_domains(tmp_path / "empty")
