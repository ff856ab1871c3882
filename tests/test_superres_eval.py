"""`train srresnet --eval-every N --eval-data SPLIT`: a super-resolution run is evaluated on a split of the SR layout
(LR in, HR as the targets) with BasicSR's validation protocol, Y channel and a border of the scale, the numbers
`translation evaluate --paired --y-channel --crop-border 4` gives on the same images; bad folders stop the run."""
import shutil

import pytest
from test_train_eval import evaluate_json, scalars
from tiny_configs import superres_data, tiny_flags

from translation.cli import main
from translation.data.io import list_images, read_image

SRRESNET = [*tiny_flags("srresnet"), "--no-progress", "--seed", "3"]


@pytest.fixture
def sr_set(tmp_path):
    """train/ of 3 images, and val/ of 2 others (96 px HR, 24 px LR)."""
    data = tmp_path / "data"
    superres_data(data, n=3)
    superres_data(tmp_path / "other", size=96, n=2)
    shutil.move(tmp_path / "other" / "train", data / "val")
    return data


def train(data, runs, *flags) -> int:
    return main(["train", "srresnet", "--data", str(data), "--checkpoints-dir", str(runs), "--name", "sr",
                 *SRRESNET, "--steps", "2", *flags])


def test_sr_runs_are_scored_on_y_with_the_scale_as_border_as_evaluate_does(sr_set, tmp_path):
    runs = tmp_path / "runs"
    assert train(sr_set, runs, "--eval-every", "1", "--eval-data", str(sr_set / "val"),
                 "--eval-metrics", "psnr,ssim") == 0
    run = runs / "sr"
    latest = run / "eval" / "latest"
    names = sorted(p.name for p in list_images(latest))
    assert names == ["0.png", "1.png"]
    assert read_image(latest / "0.png").shape == (96, 96, 3)  # x4 of the 24 px LR
    for name in names:  # the targets kept are the HR images themselves
        assert (read_image(run / "eval" / "real" / name) == read_image(sr_set / "val" / "HR" / name)).all()

    logged = {metric: scalars(run, f"eval/{metric}")[2] for metric in ("psnr", "ssim")}
    protocol = evaluate_json(str(sr_set / "val" / "HR"), str(latest), "--paired", "--metrics", "psnr,ssim",
                             "--y-channel", "--crop-border", "4")
    assert logged == pytest.approx(protocol, rel=1e-6)
    # and not the plain RGB scores of the whole image, which differ on these images
    plain = evaluate_json(str(sr_set / "val" / "HR"), str(latest), "--paired", "--metrics", "psnr,ssim")
    assert abs(plain["psnr"] - logged["psnr"]) > 1e-3
    assert (run / "best.pt").is_file()


@pytest.mark.parametrize("which, message", [
    ("root", "--eval-data {data}: give the split to evaluate on itself"),
    ("no_lr", "--eval-data {data}/val: {data}: no ×4 LR images in {data}/val/LR_bicubic/X4"),
], ids=["data-set-root", "no-x4-lr"])
def test_a_folder_that_is_not_an_sr_split_stops_the_run_before_anything_is_written(sr_set, tmp_path, capsys, which,
                                                                                  message):
    if which == "no_lr":
        shutil.rmtree(sr_set / "val" / "LR_bicubic")
        (sr_set / "val" / "LR_bicubic").mkdir()
    folder = sr_set if which == "root" else sr_set / "val"
    runs = tmp_path / "runs"
    assert train(sr_set, runs, "--eval-every", "1", "--eval-data", str(folder), "--eval-metrics", "psnr") == 1
    err = capsys.readouterr().err.strip()
    assert message.format(data=sr_set) in err and len(err.splitlines()) == 1, err
    assert not runs.exists()
