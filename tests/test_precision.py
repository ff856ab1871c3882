"""The engine's switches from the command line, as a user runs them: precision, memory layout, compile, EMA."""
import numpy as np
import pytest
import torch

from translation.checkpoint import read_checkpoint
from translation.cli import main
from translation.data.io import list_images, read_image
from translation.inference.translator import load_translator

from conftest import make_paired_set

TINY = ["--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--load-size", "36", "--crop-size", "32",
        "--num-workers", "0", "--no-progress", "--device", "cpu"]


@pytest.fixture
def data(tmp_path):
    return make_paired_set(tmp_path / "data", n=4, size=32)


def train(data, runs, name, *flags):
    assert main(["train", "pix2pix", "--data", str(data), "--checkpoints-dir", str(runs), "--name", name,
                 "--steps", "4", *TINY, *flags]) == 0
    return runs / name


def translate(run, source, out, *flags):
    assert main(["translate", str(run), str(source), str(out), "--no-progress", "--num-workers", "0",
                 "--test-mode", "eval", *flags]) == 0
    return np.stack([read_image(p) for p in list_images(out)])


def test_bf16_and_channels_last_train_and_translate(data, tmp_path, capsys):
    run = train(data, tmp_path / "runs", "bf16", "--precision", "bf16", "--channels-last")
    state = read_checkpoint(run)
    assert state["config"]["precision"] == "bf16" and state["scalers"] == {}  # bf16 needs no loss scaling
    assert all(v.dtype == torch.float32 for v in state["nets"]["G"].values() if v.is_floating_point())
    full = translate(run, data / "train", tmp_path / "fp32")
    half = translate(run, data / "train", tmp_path / "bf16", "--precision", "bf16")
    assert "bf16) ->" in capsys.readouterr().err
    difference = np.abs(full - half)
    assert 0 < difference.max() < 0.1 and difference.mean() < 0.01  # bfloat16 rounding, not another result


def test_fp16_keeps_its_scaler_state_for_resume(data, tmp_path, capsys):
    run = train(data, tmp_path / "runs", "fp16", "--precision", "fp16")
    assert "fp16 on a CPU" in capsys.readouterr().err  # the user hears why it is slow here
    scalers = read_checkpoint(run)["scalers"]
    assert set(scalers) == {"G", "D"} and scalers["G"]["scale"] > 0


def test_ema_weights_are_written_and_preferred_by_translate(data, tmp_path, capsys):
    run = train(data, tmp_path / "runs", "ema", "--ema-decay", "0.9", "--lr", "0.01")
    state = read_checkpoint(run)
    assert state["generators"]["G"]["weights"] == "ema" and set(state["ema"]["nets"]) == {"G"}
    assert state["ema"]["updates"] == 4 and state["ema"]["decay"] == 0.9
    averaged = translate(run, data / "train", tmp_path / "ema")
    assert "EMA weights" in capsys.readouterr().err
    raw = translate(run, data / "train", tmp_path / "raw", "--no-ema")
    assert "EMA weights" not in capsys.readouterr().err
    assert np.abs(averaged - raw).max() > 1e-3  # they really are other weights
    ema_net = load_translator(run, test_mode="eval").net
    raw_net = load_translator(run, test_mode="eval", use_ema=False).net
    for key, value in ema_net.state_dict().items():
        assert torch.equal(value, state["ema"]["nets"]["G"][key])
        assert torch.equal(raw_net.state_dict()[key], state["nets"]["G"][key])


def test_compile_trains_and_saves_the_raw_nets(data, tmp_path):
    run = train(data, tmp_path / "runs", "compiled", "--compile", "--steps", "2")
    state = read_checkpoint(run)
    assert not any("_orig_mod" in key for net in state["nets"].values() for key in net)
    assert state["step"] == 2 and load_translator(run).net is not None


def test_two_time_scale_learning_rates(data, tmp_path):
    run = train(data, tmp_path / "runs", "ttur", "--lr", "1e-4", "--lr-D", "4e-4")
    groups = {name: opt["param_groups"][0] for name, opt in read_checkpoint(run)["optimizers"].items()}
    assert groups["G"]["initial_lr"] == 1e-4 and groups["D"]["initial_lr"] == 4e-4
