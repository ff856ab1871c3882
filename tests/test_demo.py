import numpy as np
import pytest

from translation.data.io import list_images, read_image
from translation.demo.edges2photo import MIN_EDGE_FRACTION, build_edges2photo
from translation.demo.pix2pix_demo import run_demo
from translation.metrics.image_quality import psnr, ssim


def test_edges2photo_set_is_aligned_black_on_white_and_held_out(tmp_path):
    n_train, n_test = build_edges2photo(tmp_path, size=32, train_per_photo=2, test_per_photo=1)
    assert (n_train, n_test) == (14, 7)
    aligned = read_image(list_images(tmp_path / "train")[0])
    assert aligned.shape == (32, 64, 3)
    edges = aligned[:, :32]
    assert set(np.unique(edges)) <= {0.0, 1.0}  # binary line drawing
    assert MIN_EDGE_FRACTION <= 1 - edges.mean() < 0.5  # black lines on a mostly white page
    assert [p.name for p in list_images(tmp_path / "test" / "A")] == \
        [p.name for p in list_images(tmp_path / "test" / "B")]


def test_demo_runs_end_to_end_and_reports(tmp_path):
    result = run_demo(tmp_path, steps=2, sheet_rows=3)
    sheet = read_image(result["sheet"])
    assert sheet.shape[1] >= 3 * 64 and len(list_images(tmp_path / "translated")) == 28
    # the scores it reports are those of the files it wrote against the held-out photos
    outputs = [read_image(p) for p in list_images(tmp_path / "translated")]
    photos = [read_image(p) for p in list_images(tmp_path / "edges2photo" / "test" / "B")]
    assert result["psnr"] == pytest.approx(np.mean([psnr(o, t) for o, t in zip(outputs, photos)]))
    assert result["ssim"] == pytest.approx(np.mean([ssim(o, t) for o, t in zip(outputs, photos)]))


def test_an_interrupted_demo_says_so_and_does_not_score(tmp_path, monkeypatch, capsys):
    from translation.training.trainer import Trainer

    real_fit = Trainer.fit
    monkeypatch.setattr(Trainer, "fit", lambda self: real_fit(self, until_step=3))  # as a signal would stop it
    result = run_demo(tmp_path, steps=10)
    assert result == {"interrupted": True, "step": 3}
    assert "interrupted at step 3 of 10" in capsys.readouterr().err
    assert not (tmp_path / "translated").exists() and not (tmp_path / "sheet.png").exists()
