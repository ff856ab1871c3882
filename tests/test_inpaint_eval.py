"""`train glcic --eval-every N --eval-data SPLIT`: an inpainting run is evaluated on a split of the masks layout
(images/ and masks/): G fills each image's holes as `translate --mask` does (known pixels the image's, any size),
the images are the targets, and the paired metrics logged are `translation evaluate --paired` on the same files
(whole images: the known pixels agree exactly); a split without masks stops the run before anything is written."""
import numpy as np
import pytest
from conftest import blocky_image
from test_train_eval import evaluate_json, scalars
from tiny_configs import inpaint_photos, tiny_flags

from translation.cli import main
from translation.data.inpaint_layout import read_mask
from translation.data.io import list_images, read_image, write_image


@pytest.fixture
def inpaint_set(tmp_path):
    """train/ of 4 photos with rectangle masks, val/ of 2 others at odd sizes (not multiples of glcic's 4)."""
    data = tmp_path / "data"
    inpaint_photos(tmp_path / "photos")
    assert main(["prepare", "inpaint", str(tmp_path / "photos"), str(data), "--layout", "masks", "--size", "0",
                 "--mask-kind", "rectangles", "--val-fraction", "0", "--test-fraction", "0", "--no-progress"]) == 0
    rng = np.random.default_rng(5)
    for i, (h, w) in enumerate([(45, 51), (37, 62)]):
        write_image(data / "val" / "images" / f"v{i}.png", blocky_image(rng, 64)[:h, :w])
        mask = np.zeros((h, w, 1), np.float32)
        mask[10:25, 20 + i:40] = 1.0
        write_image(data / "val" / "masks" / f"v{i}.png", mask)
    return data


def train(data, runs, *flags) -> int:
    return main(["train", "glcic", "--data", str(data), "--checkpoints-dir", str(runs), "--name", "fill",
                 *tiny_flags("glcic"), "--no-progress", "--seed", "3", "--steps", "2", *flags])


def test_inpainting_runs_fill_the_held_out_holes_and_score_them_as_evaluate_does(inpaint_set, tmp_path):
    runs = tmp_path / "runs"
    val = inpaint_set / "val"
    assert train(inpaint_set, runs, "--eval-every", "1", "--eval-data", str(val),
                 "--eval-metrics", "psnr,ssim,l1") == 0
    run = runs / "fill"
    latest, real = run / "eval" / "latest", run / "eval" / "real"
    assert sorted(p.name for p in list_images(latest)) == ["v0.png", "v1.png"]
    for name in ("v0.png", "v1.png"):
        image, out = read_image(val / "images" / name), read_image(latest / name)
        known = read_mask(val / "masks" / name)[..., 0] == 0
        assert out.shape == image.shape and np.array_equal(out[known], image[known])  # 8-bit samples exact
        assert not np.array_equal(out[~known], image[~known])
        assert np.array_equal(read_image(real / name), image)  # the targets are the images themselves
    logged = {metric: scalars(run, f"eval/{metric}")[2] for metric in ("psnr", "ssim", "l1")}
    assert logged == pytest.approx(evaluate_json(str(real), str(latest), "--paired", "--metrics", "psnr,ssim,l1"),
                                   rel=1e-6)
    assert (run / "best.pt").is_file()


def test_a_split_without_masks_stops_the_run_before_anything_is_written(inpaint_set, tmp_path, capsys):
    import shutil

    shutil.rmtree(inpaint_set / "val" / "masks")
    runs = tmp_path / "runs"
    assert train(inpaint_set, runs, "--eval-every", "1", "--eval-data", str(inpaint_set / "val"),
                 "--eval-metrics", "psnr") == 1
    err = capsys.readouterr().err.strip()
    assert f"--eval-data {inpaint_set / 'val'}: " in err and "masks" in err and len(err.splitlines()) == 1, err
    assert not runs.exists()
