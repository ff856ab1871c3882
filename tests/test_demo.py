import numpy as np

from translation.data.io import list_images, read_image
from translation.demo.edges2photo import MIN_EDGE_FRACTION, build_edges2photo
from translation.demo.pix2pix_demo import run_demo


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
    assert {"psnr", "ssim", "baseline_psnr", "sheet"} <= set(result)
    assert 0 < result["psnr"] < 60 and -1 <= result["ssim"] <= 1
    sheet = read_image(result["sheet"])
    assert sheet.shape[1] >= 3 * 64 and len(list_images(tmp_path / "translated")) == 28
