"""`translation train dcgan --data digits` then `translation sample`: reproducible images, labels, grids, walks."""
import numpy as np
import pytest
import torch

from translation.cli import main
from translation.data.io import list_images, read_image
from translation.inference.sampling import load_sampler, slerp

from tiny_configs import tiny_flags

TINY = ["--data", "digits", *tiny_flags("dcgan", batch_size=8), "--steps", "2", "--no-progress"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["train", "dcgan", *TINY, "--checkpoints-dir", str(runs), "--name", "plain", "--ema-decay", "0.9"]) == 0
    assert main(["train", "cgan", *TINY, "--arch", "dcgan", "--checkpoints-dir", str(runs), "--name", "cond"]) == 0
    return runs


def test_samples_are_reproducible_by_seed_and_use_the_ema(runs, tmp_path, capsys):
    assert main(["sample", str(runs / "plain"), str(tmp_path / "a"), "-n", "5", "--seed", "7"]) == 0
    assert "ema weights, seed 7" in capsys.readouterr().err
    assert main(["sample", str(runs / "plain"), str(tmp_path / "b"), "-n", "5", "--seed", "7"]) == 0
    assert main(["sample", str(runs / "plain"), str(tmp_path / "c"), "-n", "5", "--seed", "8"]) == 0
    a, b, c = ([read_image(p) for p in list_images(tmp_path / x)] for x in "abc")
    assert len(a) == 5 and a[0].shape == (16, 16, 1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and not np.array_equal(a[0], c[0])
    assert main(["sample", str(runs / "plain"), str(tmp_path / "a"), "-n", "5"]) == 1  # nothing overwritten
    assert "exists" in capsys.readouterr().err


def test_labels_grids_and_walks(runs, tmp_path, capsys):
    assert main(["sample", str(runs / "cond"), str(tmp_path / "three"), "-n", "4", "--label", "3"]) == 0
    assert main(["sample", str(runs / "cond"), str(tmp_path / "grid"), "-n", "20", "--grid"]) == 0
    grid = read_image(tmp_path / "grid" / "grid.png")
    assert grid.shape[:2] == (2 * 16 + 2, 10 * 16 + 9 * 2)  # one column per class, two rows
    assert main(["sample", str(runs / "cond"), str(tmp_path / "x"), "--label", "ten"]) == 1
    assert "--label ten: this model's classes are 0, 1, 2" in capsys.readouterr().err
    assert main(["sample", str(runs / "plain"), str(tmp_path / "x"), "--label", "3"]) == 1
    assert "not conditional" in capsys.readouterr().err
    assert main(["sample", str(runs / "plain"), str(tmp_path / "walk"), "-n", "12", "--interpolate", "4"]) == 0
    assert read_image(tmp_path / "walk" / "grid.png").shape[:2] == (3 * 16 + 2 * 2, 4 * 16 + 3 * 2)


def test_truncation_keeps_z_inside_and_slerp_ends_at_its_ends(runs):
    sampler = load_sampler(runs / "plain")
    z = sampler.noise(200, seed=0, truncation=0.5)
    assert z.abs().max() <= 0.5 and torch.equal(z, sampler.noise(200, seed=0, truncation=0.5))
    a, b = torch.randn(8), torch.randn(8)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)


def test_html_page_shows_the_samples_or_the_grid(runs, tmp_path, capsys):
    from test_html_page import read_page, targets

    out = tmp_path / "files"
    assert main(["sample", str(runs / "plain"), str(out), "-n", "3", "--html"]) == 0
    assert f"page: {out / 'index.html'}" in capsys.readouterr().err
    _, links = read_page(out)
    assert targets(out, links.images) == [(out / f"sample_{i:04d}.png").resolve() for i in range(3)]
    assert main(["sample", str(runs / "cond"), str(tmp_path / "grid"), "-n", "20", "--grid", "--html"]) == 0
    text, links = read_page(tmp_path / "grid")
    assert targets(tmp_path / "grid", links.anchors) == [(tmp_path / "grid" / "grid.png").resolve()]
    assert "wrote 20 images" in text
