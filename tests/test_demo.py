import numpy as np
import pytest

from translation.data.edges import hed_like_edges
from translation.data.io import list_images, read_image
from translation.demo.edges2photo import build_edges2photo
from translation.demo.pix2pix_demo import run_demo
from translation.demo.shading import BACKGROUND, shade
from translation.demo.still_life import KINDS, Pose, round_part
from translation.metrics.image_quality import psnr, ssim

SIZE = 64


def foreground(photo: np.ndarray) -> np.ndarray:
    """Where the photo is not the paper backdrop (its soft shadow stays below this contrast)."""
    return np.abs(photo - BACKGROUND).max(axis=2) > 0.3


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("edges2photo")
    assert build_edges2photo(root, size=SIZE, train_count=18, test_count=6, seed=3) == (18, 6)
    return root


def halves(path):
    aligned = read_image(path)
    return aligned[:, :SIZE], aligned[:, SIZE:]


def test_training_files_are_aligned_edges_and_photo(data):
    paths = list_images(data / "train")
    assert len(paths) == 18 and read_image(paths[0]).shape == (SIZE, 2 * SIZE, 3)
    for path in paths:
        edges, photo = halves(path)
        assert set(np.unique(edges)) <= {0.0, 1.0}  # binary line drawing
        assert 0.01 < 1 - edges.mean() < 0.2  # black lines on a mostly white page
        # the left half is the edge map of the right half, pixel for pixel (the PNG's 8 bits aside)
        lines, again = edges[..., 0] == 0, hed_like_edges(photo)[..., 0] == 0
        assert (lines & again).sum() >= 0.9 * lines.sum()


def test_every_photo_shows_one_whole_object_outlined_by_its_edges(data):
    for path in list_images(data / "train"):
        edges, photo = halves(path)
        inside = foreground(photo)
        assert 0.04 < inside.mean() < 0.6, path.name
        border = np.concatenate([inside[0], inside[-1], inside[:, 0], inside[:, -1]])
        assert not border.any(), f"{path.name}: the object is cut by the frame"
        # nearly every line lies on the object or its outline, none out on the empty paper
        rows, cols = np.nonzero(edges[..., 0] == 0)
        near = np.zeros_like(inside)
        for dy in (-2, -1, 0, 1, 2):
            for dx in (-2, -1, 0, 1, 2):
                near |= np.roll(inside, (dy, dx), axis=(0, 1))
        assert near[rows, cols].mean() > 0.95, path.name


def test_each_kind_is_drawn_equally_often_and_has_its_own_colour(data):
    names = [p.stem for p in list_images(data / "train")]
    assert sorted(n.split("_")[0] for n in names) == sorted(list(KINDS) * 3)
    colour = {n: halves(data / "train" / f"{n}.png")[1][foreground(halves(data / "train" / f"{n}.png")[1])].mean(0)
              for n in names}
    centres = {k: np.mean([c for n, c in colour.items() if n.startswith(k)], axis=0) for k in KINDS}
    for name, c in colour.items():  # the outline's kind tells the colour: nearest kind colour is its own
        nearest = min(KINDS, key=lambda k: np.abs(centres[k] - c).sum())
        assert name.startswith(nearest), name


def test_light_comes_from_the_upper_left_as_the_demo_assumes_when_it_does_not_flip():
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) + 0.5
    ball = round_part((x, y), Pose(SIZE / 2, SIZE / 2, SIZE / 3, 0.0), np.ones_like, (0.5, 0.5, 0.5))
    lit = shade(ball).mean(axis=2) * ball.mask
    half = SIZE // 2
    assert lit[:, :half].sum() > 1.5 * lit[:, half:].sum() and lit[:half].sum() > 1.5 * lit[half:].sum()
    brightest = np.unravel_index(np.argmax(lit), lit.shape)  # the highlight
    assert brightest[0] < half and brightest[1] < half


def test_held_out_pairs_are_matched_and_never_trained_on(data):
    a, b = list_images(data / "test" / "A"), list_images(data / "test" / "B")
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 6
    train_photos = [halves(p)[1] for p in list_images(data / "train")]
    for path in b:
        photo = read_image(path)
        assert min(np.abs(photo - t).mean() for t in train_photos) > 0.01, path.name
    edges = read_image(a[0])
    assert edges.shape == (SIZE, SIZE, 3) and set(np.unique(edges)) <= {0.0, 1.0}


def test_the_set_is_determined_by_its_seed(data, tmp_path):
    build_edges2photo(tmp_path / "same", size=SIZE, train_count=18, test_count=6, seed=3)
    build_edges2photo(tmp_path / "other", size=SIZE, train_count=18, test_count=6, seed=4)
    for path in list_images(data):
        relative = path.relative_to(data)
        assert (tmp_path / "same" / relative).read_bytes() == path.read_bytes(), relative
    assert not np.array_equal(read_image(data / "test" / "B" / "apple_0000.png"),
                              read_image(tmp_path / "other" / "test" / "B" / "apple_0000.png"))


def test_demo_runs_end_to_end_and_reports(tmp_path):
    result = run_demo(tmp_path, steps=2, per_kind=1, train_count=12, test_count=12)
    sheet = read_image(result["sheet"])
    assert sheet.shape[1] >= 3 * 128 and sheet.shape[0] >= len(KINDS) * 128  # one row per kind
    assert len(list_images(tmp_path / "translated")) == 12
    # the scores it reports are those of the files it wrote against the held-out photos
    outputs = [read_image(p) for p in list_images(tmp_path / "translated")]
    photos = [read_image(p) for p in list_images(tmp_path / "edges2photo" / "test" / "B")]
    assert result["psnr"] == pytest.approx(np.mean([psnr(o, t) for o, t in zip(outputs, photos)]))
    assert result["ssim"] == pytest.approx(np.mean([ssim(o, t) for o, t in zip(outputs, photos)]))
    # the baseline is the average training photo, scored the same way
    average = np.mean([read_image(p)[:, SIZE:] for p in list_images(tmp_path / "edges2photo" / "train")], axis=0)
    assert result["baseline_psnr"] == pytest.approx(np.mean([psnr(average, t) for t in photos]), abs=1e-4)


def test_an_interrupted_demo_says_so_and_does_not_score(tmp_path, monkeypatch, capsys):
    from translation.training.trainer import Trainer

    real_fit = Trainer.fit
    monkeypatch.setattr(Trainer, "fit", lambda self: real_fit(self, until_step=3))  # as a signal would stop it
    result = run_demo(tmp_path, steps=10, train_count=12, test_count=6)
    assert result == {"interrupted": True, "step": 3}
    assert "interrupted at step 3 of 10" in capsys.readouterr().err
    assert not (tmp_path / "translated").exists() and not (tmp_path / "sheet.png").exists()
