import subprocess
import sys

import yaml

from translation.cli import main
from translation.data.io import read_image
from translation.checkpoint import read_checkpoint as load_checkpoint

from conftest import REPO, make_paired_set

TINY = ["--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--load-size", "36", "--crop-size", "32",
        "--num-workers", "0", "--no-progress", "--device", "cpu"]


def test_train_then_translate_as_a_user_would(tmp_path, capsys):
    data = make_paired_set(tmp_path / "data", size=32)
    runs = tmp_path / "runs"
    assert main(["train", "pix2pix", "--data", str(data), "--checkpoints-dir", str(runs), "--name", "e2p",
                 "--direction", "BtoA", "--steps", "4", *TINY]) == 0
    run = runs / "e2p"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["direction"] == "BtoA" and saved["steps"] == 4 and saved["lambda_l1"] == 100.0
    ckpt = load_checkpoint(run)
    assert ckpt["generators"] == {"G": {"task": "translate", "direction": "BtoA", "paired": True, "weights": "raw"}}
    assert ckpt["net_specs"]["G"]["name"] == "unet_32"
    # translate needs no architecture flags: the checkpoint describes itself
    assert main(["translate", str(run), str(data / "train"), str(tmp_path / "out"), "--no-progress"]) == 0
    assert read_image(tmp_path / "out" / "000.png").shape == (32, 64, 3)
    # resuming with more steps continues from step 4
    assert main(["train", "pix2pix", "--checkpoints-dir", str(runs), "--name", "e2p", "--resume",
                 "--steps", "6", "--no-progress"]) == 0
    assert load_checkpoint(run)["step"] == 6


def test_config_file_with_flag_override(tmp_path):
    data = make_paired_set(tmp_path / "data", size=32)
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump({"data": str(data), "steps": 2, "ngf": 4, "lambda_l1": 5.0}))
    assert main(["train", "pix2pix", "--config", str(cfg), "--checkpoints-dir", str(tmp_path / "r"),
                 *TINY]) == 0
    saved = yaml.safe_load((tmp_path / "r" / "experiment" / "config.yaml").read_text())
    assert saved["ngf"] == 8 and saved["lambda_l1"] == 5.0 and saved["steps"] == 2


def test_bad_input_gives_one_clear_line_not_a_traceback(tmp_path):
    def run(*argv):
        proc = subprocess.run([sys.executable, "-m", "translation", *argv], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.returncode, proc.stderr

    data = make_paired_set(tmp_path / "data", n=2, size=32)
    code, err = run("train", "pix2pix", "--data", str(data), "--netG", "unet_999", "--checkpoints-dir",
                    str(tmp_path))
    assert code == 2 and "invalid choice: 'unet_999'" in err and "unet_256" in err  # names from the registry
    code, err = run("train", "pix2pix", "--data", str(tmp_path / "nowhere"), "--checkpoints-dir", str(tmp_path))
    assert code == 1 and "no such data set folder" in err
    code, err = run("translate", str(tmp_path / "missing_run"), str(data), str(tmp_path / "o"))
    assert code == 1 and "no such checkpoint" in err
    code, err = run("train", "pix2pix", "--data", str(data), "--norm", "group")
    assert code == 2 and "invalid choice" in err


def test_gray_to_rgba_model_trains_and_translates(tmp_path):
    """N-channel data: 1-channel inputs (16-bit) to 4-channel outputs (alpha kept)."""
    import numpy as np

    from translation.data.io import write_image

    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(tmp_path / "d" / "train" / "A" / f"{i}.png", rng.random((32, 32, 1)), bit_depth=16)
        write_image(tmp_path / "d" / "train" / "B" / f"{i}.png", rng.random((32, 32, 4)))
    assert main(["train", "pix2pix", "--data", str(tmp_path / "d"), "--checkpoints-dir", str(tmp_path / "r"),
                 "--input-nc", "1", "--output-nc", "4", "--steps", "2", *TINY]) == 0
    assert main(["translate", str(tmp_path / "r" / "experiment"), str(tmp_path / "d" / "train" / "A"),
                 str(tmp_path / "o"), "--no-progress"]) == 0
    assert read_image(tmp_path / "o" / "0.png", alpha="keep").shape == (32, 32, 4)
