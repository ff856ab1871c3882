"""`translation demo pix2pixhd`: the three runs train on the same rendered 128 px set and are scored on the held-out
photos; the sheet shows them side by side. A few steps here; the real figures are in README."""
from translation.cli import main
from translation.data.io import read_image
from translation.demo.pix2pixhd_demo import RUNS, run_demo


def test_the_demo_trains_both_with_the_same_budget_scores_and_draws_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no_weights"))  # no VGG file: it must say so and go on
    result = run_demo(tmp_path, steps=2, train_count=6, test_count=6)
    err = capsys.readouterr().err
    assert "trains without the VGG loss: its weights file is absent" in err and not result["vgg"]
    assert set(result["models"]) == set(RUNS) and set(result["train_seconds"]) == set(RUNS)
    for name, figures in result["models"].items():
        assert 0 < figures["psnr"] < 60 and -1 <= figures["ssim"] <= 1, name
        assert f"{RUNS[name][2]:28s}: held-out PSNR {figures['psnr']:.2f} dB" in err
    sheet = read_image(result["sheet"])
    assert sheet.shape[1] >= 5 * 128  # edges | pix2pix | pix2pix + multi-scale D | pix2pixHD | photo
    for _, run, _ in RUNS.values():
        assert (tmp_path / "checkpoints" / run / "latest.pt").is_file()


def test_the_command_offers_it(tmp_path, monkeypatch):
    calls = {}
    monkeypatch.setattr("translation.demo.pix2pixhd_demo.run_demo",
                        lambda workdir, precision, **steps: calls.update(workdir=workdir, **steps) or {})
    assert main(["demo", "pix2pixhd", "--workdir", str(tmp_path), "--steps", "3"]) == 0
    assert calls == {"workdir": str(tmp_path), "steps": 3}
