"""The engine's switches from the command line, as a user runs them: precision, memory layout, compile, EMA;
and which layout and advice each precision gets on a CPU."""
import numpy as np
import pytest
import torch

import translation.precision
from translation.checkpoint import read_checkpoint
from translation.cli import main
from translation.data.io import list_images, read_image
from translation.inference.translator import load_translator
from translation.precision import has_fast_bf16, precision_for

from conftest import make_paired_set

TINY = ["--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--load-size", "36", "--crop-size", "32",
        "--num-workers", "0", "--no-progress", "--device", "cpu"]
# /proc/cpuinfo flags, cut to what matters here
ZEN3 = "fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni vaes vpclmulqdq"  # AMD EPYC 7003: AVX2 only
SKYLAKE_SP = ZEN3 + " avx512f avx512dq avx512cd avx512bw avx512vl"  # AVX-512 without its bfloat16 instructions
COOPER_LAKE = SKYLAKE_SP + " avx512_vnni avx512_bf16"
SAPPHIRE_RAPIDS = COOPER_LAKE + " avx512_fp16 amx_bf16 amx_tile amx_int8"


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


def channels_last(weight: torch.Tensor) -> bool:
    assert weight.shape[1] > 1 and weight.shape[2] > 1  # where the two layouts differ
    return weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()


def test_fast_bfloat16_is_read_from_the_cpu_flags():
    assert not has_fast_bf16(ZEN3) and not has_fast_bf16(SKYLAKE_SP)  # AVX-512 alone emulates bfloat16
    assert has_fast_bf16(COOPER_LAKE) and has_fast_bf16(SAPPHIRE_RAPIDS)
    assert has_fast_bf16("amx_tile amx_bf16") and not has_fast_bf16("amx_tile amx_int8")
    assert not has_fast_bf16("") and not has_fast_bf16("avx512_bf16x avx512bf16")  # whole names only


def test_bf16_on_a_cpu_runs_channels_last_unless_told_and_fp32_keeps_the_official_layout():
    cpu_bf16, cpu_fp32 = precision_for("bf16", "cpu"), precision_for("fp32", "cpu")
    assert cpu_bf16.runs_channels_last(None) and not cpu_bf16.runs_channels_last(False)
    assert not cpu_fp32.runs_channels_last(None) and cpu_fp32.runs_channels_last(True)
    # GPUs are fast in either layout: no choice is made for the user there
    assert not translation.precision.Precision("bf16", "cuda").runs_channels_last(None)


def test_each_precision_says_what_is_faster_on_this_kind_of_cpu(monkeypatch):
    monkeypatch.setattr(translation.precision, "cpu_has_fast_bf16", lambda: True)
    fast_fp32, = precision_for("fp32", "cpu").training_notes()
    assert "--precision bf16" in fast_fp32 and "channels-last" in fast_fp32
    assert precision_for("bf16", "cpu").training_notes() == [] and precision_for("bf16", "cpu").advice is None
    monkeypatch.setattr(translation.precision, "cpu_has_fast_bf16", lambda: False)
    assert precision_for("fp32", "cpu").training_notes() == []
    assert "bf16 is emulated and slower than fp32" in precision_for("bf16", "cpu").advice
    monkeypatch.setattr(translation.precision, "cpu_has_fast_bf16", lambda: None)  # flags not readable: no guess
    assert precision_for("fp32", "cpu").training_notes() == [] and precision_for("bf16", "cpu").advice is None
    assert "fp16 on a CPU" in precision_for("fp16", "cpu").advice  # whatever the CPU


def test_bf16_trains_channels_last_on_a_cpu_and_translates_within_its_rounding(data, tmp_path, capsys):
    run = train(data, tmp_path / "runs", "bf16", "--precision", "bf16", "--steps", "2")  # bf16 is slow where emulated
    state = read_checkpoint(run)
    assert state["config"]["precision"] == "bf16" and state["scalers"] == {}  # bf16 needs no loss scaling
    assert state["config"]["channels_last"] is None  # the layout follows the precision on resume too
    weights = state["nets"]["G"]
    assert all(v.dtype == torch.float32 for v in weights.values() if v.is_floating_point())
    assert channels_last(weights["model.model.0.weight"])  # saved as trained
    full = translate(run, data / "train", tmp_path / "fp32")
    half = translate(run, data / "train", tmp_path / "bf16", "--precision", "bf16")
    assert "(AtoB, test mode eval, bf16, channels-last) ->" in capsys.readouterr().err
    difference = np.abs(full - half)
    assert 0 < difference.max() < 0.1 and difference.mean() < 0.01  # bfloat16 rounding, not another result
    told = translate(run, data / "train", tmp_path / "bf16_nchw", "--precision", "bf16", "--no-channels-last")
    assert "(AtoB, test mode eval, bf16) ->" in capsys.readouterr().err
    assert np.abs(told - half).max() < 0.1


def test_fp32_training_on_a_cpu_with_fast_bf16_says_once_which_flag_is_faster(data, tmp_path, capsys,
                                                                              monkeypatch):
    monkeypatch.setattr(translation.precision, "cpu_has_fast_bf16", lambda: True)
    run = train(data, tmp_path / "runs", "fp32", "--steps", "1")
    assert capsys.readouterr().err.count("--precision bf16, which runs channels-last on a CPU, trains") == 1
    assert not channels_last(read_checkpoint(run)["nets"]["G"]["model.model.0.weight"])  # fp32: NCHW
    train(data, tmp_path / "runs", "nchw", "--precision", "bf16", "--no-channels-last", "--steps", "1")
    assert "bfloat16" not in capsys.readouterr().err  # bf16 is what it said; the layout is the user's choice
    assert not channels_last(read_checkpoint(tmp_path / "runs" / "nchw")["nets"]["G"]["model.model.0.weight"])


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


def test_two_time_scale_learning_rates(data, tmp_path):
    run = train(data, tmp_path / "runs", "ttur", "--lr", "1e-4", "--lr-D", "4e-4")
    groups = {name: opt["param_groups"][0] for name, opt in read_checkpoint(run)["optimizers"].items()}
    assert groups["G"]["initial_lr"] == 1e-4 and groups["D"]["initial_lr"] == 4e-4
