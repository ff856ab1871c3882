"""`translation demo superres`: held-out tiles come from photos not trained on, the bicubic baseline is MATLAB's
x4 of the LR scored on Y with a 4 px border, and the sheet shows LR (nearest) | bicubic | model | HR zoomed.
A tiny net for two steps here; the real figures are in README."""
import numpy as np
import pytest

from translation.cli import main
from translation.data.imresize import imresize
from translation.data.io import list_images, read_image
from translation.demo.superres_demo import ZOOM, build_superres_set, run_demo
from translation.metrics import sr_protocol
from translation.visualize import HEADER_HEIGHT

TINY = {"steps": 2, "ngf": 4, "n_blocks": 1, "gt_size": 16, "batch_size": 2, "train_photos": ("astronaut",),
        "held_out": ("chelsea",)}


def test_the_split_keeps_held_out_photos_out_of_training(tmp_path):
    counts = build_superres_set(tmp_path, ("astronaut", "rocket"), ("chelsea",), size=128)
    train = [p.stem for p in list_images(tmp_path / "train" / "HR")]
    test = [p.stem for p in list_images(tmp_path / "test" / "HR")]
    assert counts == {"train": 16 + 3 * 5, "test": 2 * 3}  # 512x512 and 427x640; 300x451
    assert {n.split("_r")[0] for n in train} == {"astronaut", "rocket"} and {n.split("_r")[0] for n in test} == {
        "chelsea"}
    lr = read_image(tmp_path / "test" / "LR_bicubic" / "X4" / "chelsea_r1_c2.png")
    hr = read_image(tmp_path / "test" / "HR" / "chelsea_r1_c2.png")
    assert hr.shape == (128, 128, 3) and lr.shape == (32, 32, 3)
    with pytest.raises(ValueError, match="both trained on and held out"):
        build_superres_set(tmp_path / "bad", ("astronaut", "chelsea"), ("chelsea",))


def test_a_tiny_run_scores_model_and_bicubic_by_the_protocol_and_draws_the_sheet(tmp_path, capsys):
    result = run_demo(tmp_path, **TINY)
    err = capsys.readouterr().err
    data = tmp_path / "superres_x4" / "test"
    names = [p.name for p in list_images(data / "HR")]
    assert len(names) == result["counts"]["test"] == 2 * 3  # 128 px tiles of the 300x451 cat
    # the baseline by hand: MATLAB bicubic x4 of each LR, PSNR/SSIM on Y without 4 px, the mean over tiles
    hr = [read_image(data / "HR" / n) for n in names]
    up = [np.clip(imresize(read_image(data / "LR_bicubic" / "X4" / n), scale=4), 0, 1) for n in names]
    up = [np.round(u * 255) / 255 for u in up]  # as the 8-bit files scored
    expected = np.mean([sr_protocol.psnr(u, h, crop_border=4, y_channel=True) for u, h in zip(up, hr)])
    assert result["models"]["bicubic"]["psnr"] == pytest.approx(expected, abs=1e-4)
    expected = np.mean([sr_protocol.ssim(u, h, crop_border=4, y_channel=True) for u, h in zip(up, hr)])
    assert result["models"]["bicubic"]["ssim"] == pytest.approx(expected, abs=1e-6)
    for name in ("bicubic", "srresnet"):
        assert f"{name:9s}: held-out PSNR {result['models'][name]['psnr']:.2f} dB" in err
    assert "bicubic by" in err

    sheet = read_image(result["sheet"])
    side = 4 * ZOOM  # each 48 px region enlarged 4 times
    assert 4 * side <= sheet.shape[1] < 5 * side  # LR | bicubic | model | HR
    assert 2 * side <= sheet.shape[0] - HEADER_HEIGHT < 3 * side  # chelsea's two tiles of the sheet's four
    # LR shown nearest-upsampled: every LR pixel a 16 x 16 block (x4 to HR size, x4 zoom)
    lr = sheet[HEADER_HEIGHT + 2:HEADER_HEIGHT + 2 + side, :side].reshape(12, 16, 12, 16, 3)
    assert (lr == lr[:, :1, :, :1]).all() and len(np.unique(lr.reshape(-1, 3), axis=0)) > 10
    assert (tmp_path / "checkpoints" / "demo_srresnet_x4" / "latest.pt").is_file()


def test_the_command_offers_it(tmp_path, monkeypatch):
    calls = {}
    monkeypatch.setattr("translation.demo.superres_demo.run_demo",
                        lambda workdir, precision, **steps: calls.update(workdir=workdir, **steps) or {})
    assert main(["demo", "superres", "--workdir", str(tmp_path), "--steps", "3"]) == 0
    assert calls == {"workdir": str(tmp_path), "steps": 3}
