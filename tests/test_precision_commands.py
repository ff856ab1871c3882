"""--precision, --channels-last and --compile on every command that runs a net (train, translate, sample,
evaluate; demo takes --precision): declared once, as TrainConfig's fields; each reaches the net and gives the
plain run's outputs within its rounding; ONNX files refuse the two that make no sense there. One test
compiles for real (a tiny net); the others count calls through a stand-in for torch.compile, which tells
whether the compiled module is what runs without tens of seconds a test."""
import argparse
import copy
import dataclasses
import json

import numpy as np
import pytest
import torch
from torch import nn

from translation.checkpoint import read_checkpoint
from translation.cli import build_parser, main
from translation.commands.arguments import SPEED_FIELDS
from translation.config import TrainConfig, choices_of, flag_name
from translation.data.io import list_images, read_image, write_image
from translation.inference import onnx_translator
from translation.export.source import PRODUCER
from translation.inference.sampling import load_sampler
from translation.inference.translator import Translator
from translation.models import CONFIGS

from conftest import make_paired_set

QUIET = ["--num-workers", "0", "--no-progress", "--device", "cpu"]
BF16_ROUNDING = 8 / 255  # bfloat16 keeps 8 bits of mantissa: outputs move by a few 1/255
LAYOUT_ROUNDING = 1e-5  # another summation order in the convolutions


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("speed")
    data = make_paired_set(root / "data", n=3, size=32)
    assert main(["train", "pix2pix", "--data", str(data), "--checkpoints-dir", str(root), "--name", "pix2pix",
                 "--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load-size", "36", "--crop-size", "32",
                 "--steps", "2", *QUIET]) == 0
    assert main(["train", "dcgan", "--data", "digits", "--image-size", "16", "--ngf", "4", "--ndf", "4", "--z-dim",
                 "8", "--steps", "2", "--batch-size", "8", "--checkpoints-dir", str(root), "--name", "dcgan",
                 *QUIET]) == 0
    rng = np.random.default_rng(0)
    for name, (h, w) in {"a": (36, 40), "b": (36, 40), "c": (24, 52)}.items():  # two padded sizes
        write_image(root / "images" / f"{name}.png", rng.random((h, w, 3)).astype(np.float32))
    return root


class CountingCompile:
    """Stands in for torch.compile: returns a wrapper that runs the module eagerly and counts its calls."""

    def __init__(self):
        self.compiled, self.calls = [], 0

    def __call__(self, module, **options):
        self.compiled.append((module, options))
        counter = self

        class Compiled(nn.Module):
            def forward(self, *args):
                counter.calls += 1
                return module(*args)

        return Compiled()


@pytest.fixture
def counting_compile(monkeypatch):
    stand_in = CountingCompile()
    monkeypatch.setattr(torch, "compile", stand_in)
    return stand_in


def translated(root, out, *flags):
    assert main(["translate", str(root / "pix2pix"), str(root / "images"), str(out), "--bit-depth", "16",
                 *QUIET, *flags]) == 0
    return [read_image(p) for p in list_images(out)]


def largest_difference(a, b) -> tuple[float, float]:
    differences = [np.abs(x - y) for x, y in zip(a, b, strict=True)]
    return max(float(d.max()) for d in differences), float(np.mean([d.mean() for d in differences]))


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser by its words ("train pix2pix", "translate", ...)."""
    def subcommands(parser):
        action, = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return action.choices

    commands = subcommands(build_parser())
    parsers = {f"train {model}": parser for model, parser in subcommands(commands["train"]).items()}
    return {**parsers, **{name: commands[name] for name in ("translate", "sample", "evaluate", "demo")}}


def test_every_command_takes_the_speed_flags_as_the_config_declares_them():
    parsers = command_parsers()
    assert {f"train {model}" for model in CONFIGS} <= set(parsers)  # every registered model
    declared = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for command, parser in parsers.items():
        for name in SPEED_FIELDS if command != "demo" else ("precision",):
            field = declared[name]
            action = parser._option_string_actions[flag_name(field)]
            assert action.help.startswith(field.metadata["help"] + " (default: "), (command, name)
            assert action.choices == choices_of(field), (command, name)
            assert isinstance(action, argparse.BooleanOptionalAction) == (name != "precision"), (command, name)
            # train's flags default to None (not given: the config file's value, else the field's)
            default = None if command.startswith("train") else True if (command, name) == (
                "evaluate", "channels_last") else field.default
            assert action.default == default, (command, name)
    # evaluate's Inception runs channels-last by default, said in its own help; elsewhere the precision decides
    assert parsers["evaluate"]._option_string_actions["--channels-last"].help.endswith("(default: on)")
    for command in ("train cyclegan", "translate", "sample"):
        assert parsers[command]._option_string_actions["--channels-last"].help.endswith(
            "(default: on for bf16 on a CPU, where bf16 is slow without it; else off)")
    translate = parsers["translate"]
    assert translate.parse_args(["run", "in", "out"]).channels_last is None
    assert translate.parse_args(["run", "in", "out", "--no-channels-last"]).channels_last is False


def test_train_runs_the_compiled_nets_and_saves_the_raw_ones(runs, tmp_path, counting_compile):
    assert main(["train", "pix2pix", "--data", str(runs / "data"), "--checkpoints-dir", str(tmp_path),
                 "--name", "compiled", "--netG", "unet_32", "--ngf", "4", "--ndf", "4", "--load-size", "36",
                 "--crop-size", "32", "--steps", "2", "--compile", *QUIET]) == 0
    compiled = [type(module).__name__ for module, options in counting_compile.compiled]
    assert sorted(compiled) == ["NLayerDiscriminator", "UnetGenerator"]
    assert counting_compile.calls >= 2 * 3  # each step: G once, D on fake and on real (at least)
    state = read_checkpoint(tmp_path / "compiled")
    assert state["step"] == 2
    assert not any("_orig_mod" in key for net in state["nets"].values() for key in net)
    trained = counting_compile.compiled[compiled.index("UnetGenerator")][0].state_dict()  # what compile wrapped
    assert trained and set(state["nets"]["G"]) == set(trained)
    assert all(torch.equal(state["nets"]["G"][key], value) for key, value in trained.items())


def test_translate_takes_the_three_switches(runs, tmp_path, capsys, counting_compile):
    plain = translated(runs, tmp_path / "plain")
    layout = translated(runs, tmp_path / "layout", "--channels-last")
    half = translated(runs, tmp_path / "bf16", "--precision", "bf16")
    assert "bf16, channels-last) ->" in capsys.readouterr().err  # bf16 on a CPU takes the fast layout
    compiled = translated(runs, tmp_path / "compiled", "--compile", "--channels-last")
    assert "channels-last, compiled) ->" in capsys.readouterr().err
    # 16-bit PNGs: one quantisation step of 1/65535 can flip on rounding
    assert largest_difference(plain, layout)[0] <= 2 / 65535
    assert largest_difference(plain, compiled)[0] <= 2 / 65535
    worst, mean = largest_difference(plain, half)
    assert 0 < worst < BF16_ROUNDING and mean < 1 / 255  # bfloat16 rounding, not another result
    (module, options), = counting_compile.compiled  # the generator, compiled once, and it is what ran
    assert counting_compile.calls == 3 and options == {"options": {"fallback_random": True}}
    assert module.model[1].weight.is_contiguous(memory_format=torch.channels_last)


def test_onnx_files_refuse_layout_and_compile(runs, tmp_path, capsys, monkeypatch):
    # the metadata `translation export` writes, without spending seconds on exporting (test_export.py does)
    meta = {"producer": PRODUCER, "task": "translate", "direction": "AtoB", "test_mode": "eval", "weights": "raw",
            "size_multiple": "4", "architecture": "resnet_6blocks", "in_channels": "3", "out_channels": "3"}
    monkeypatch.setattr(onnx_translator, "open_session", lambda path, device: (None, meta))
    (tmp_path / "g.onnx").write_bytes(b"")
    for flag, reason in (("--channels-last", "chooses its own memory layout"),
                         ("--compile", "optimises the graph itself")):
        assert main(["translate", str(tmp_path / "g.onnx"), str(runs / "images"), str(tmp_path / "out"), *QUIET,
                     flag]) == 1
        err = capsys.readouterr().err.strip()
        assert f"{flag}: this exported file runs in ONNX Runtime, which {reason}" in err and "\n" not in err
        assert not (tmp_path / "out").exists()


def test_compiled_translation_matches_eager_with_dropout_seeds_and_new_sizes():
    # paper mode: batch norm on each image's statistics, dropout on, drawn from each image's seed
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                        nn.Conv2d(4, 3, 3, padding=1), nn.Tanh())
    spec = {"name": "tiny", "kwargs": {"in_channels": 3, "out_channels": 3}}
    eager = Translator(copy.deepcopy(net), spec, "AtoB", "paper", torch.device("cpu"))
    compiled = Translator(net, spec, "AtoB", "paper", torch.device("cpu"), channels_last=True, compile=True)
    rng = np.random.default_rng(0)
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    for h, w in ((32, 32), (48, 32), (40, 56), (56, 40)):
        images = [rng.random((h, w, 3)).astype(np.float32) for _ in range(2)]
        want, got = eager.translate_batch(images, [1, 2]), compiled.translate_batch(images, [1, 2])
        assert max(np.abs(a - b).max() for a, b in zip(want, got)) < 1e-5  # the same dropout masks
        assert np.abs(want[0] - eager.translate_batch(images[:1], [3])[0]).max() > 0.01  # seeds do matter
    # a new height recompiled with the height symbolic, then a new width with both; the fourth size reused that
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == 3


def test_sample_takes_the_three_switches(runs, tmp_path, capsys, counting_compile):
    z = load_sampler(runs / "dcgan").noise(6, seed=0)
    plain = load_sampler(runs / "dcgan").generate(z)
    layout = load_sampler(runs / "dcgan", channels_last=True).generate(z)
    half_sampler = load_sampler(runs / "dcgan", precision="bf16")
    assert half_sampler.channels_last  # bf16 on a CPU takes the fast layout
    kernels = [p for p in half_sampler.net.parameters() if p.dim() == 4]
    assert kernels and all(p.is_contiguous(memory_format=torch.channels_last) for p in kernels)
    half = half_sampler.generate(z)
    assert largest_difference(plain, layout)[0] < LAYOUT_ROUNDING
    worst, mean = largest_difference(plain, half)
    assert 0 < worst < BF16_ROUNDING and mean < 1 / 255
    for name, flags in (("plain", []), ("fast", ["--precision", "bf16", "--channels-last", "--compile"])):
        assert main(["sample", str(runs / "dcgan"), str(tmp_path / name), "-n", "6", *QUIET[-2:], *flags]) == 0
    assert "(raw weights, seed 0, bf16, channels-last, compiled) ->" in capsys.readouterr().err
    assert counting_compile.calls == 1 and len(counting_compile.compiled) == 1  # six images: one batch
    files = [[read_image(p) for p in list_images(tmp_path / name)] for name in ("plain", "fast")]
    assert 0 < largest_difference(*files)[0] < BF16_ROUNDING


@pytest.fixture(scope="module")
def image_sets(tmp_path_factory, inception_weights):
    root = tmp_path_factory.mktemp("speed_eval")
    (root / "weights.pth").symlink_to(inception_weights)  # the real file's format, random values
    rng = np.random.default_rng(0)
    for i in range(2):  # Inception runs at 299 x 299: seconds an image on a shared CPU
        write_image(root / "real" / f"{i}.png", rng.random((32, 40, 3)).astype(np.float32))
        write_image(root / "fake" / f"{i}.png", (rng.random((32, 40, 3)) * 0.5).astype(np.float32))
    return root


def evaluate(root, *argv):
    return main(["evaluate", *argv, "--inception-weights", str(root / "weights.pth"), "--device", "cpu"])


def test_evaluate_layout_and_compile_change_no_number_and_share_the_cache(image_sets, tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.setenv("TRANSLATION_CACHE_DIR", str(tmp_path / "cache"))
    real = str(image_sets / "real")
    assert evaluate(image_sets, real, "--save-stats", str(tmp_path / "default.npz")) == 0  # channels-last
    assert evaluate(image_sets, real, "--save-stats", str(tmp_path / "plain.npz"), "--no-channels-last",
                    "--no-cache") == 0
    capsys.readouterr()
    default, plain = (np.load(tmp_path / f"{name}.npz")["features"] for name in ("default", "plain"))
    assert np.abs(default - plain).max() <= LAYOUT_ROUNDING * np.abs(plain).max()
    # the layout is not part of the cache key: the default layout's run reuses the channels-last features
    assert evaluate(image_sets, real, "--save-stats", str(tmp_path / "again.npz"), "--no-channels-last") == 0
    assert "reused from the cache" in capsys.readouterr().err
    stand_in = CountingCompile()
    monkeypatch.setattr(torch, "compile", stand_in)
    assert evaluate(image_sets, real, str(image_sets / "fake"), "--metrics", "kid", "--compile", "--no-cache",
                    "--json") == 0
    assert np.isfinite(json.loads(capsys.readouterr().out)["results"]["kid"]["value"])
    assert len(stand_in.compiled) == 1 and stand_in.calls == 2  # compiled once; both folders ran through it


def test_evaluate_refuses_the_switches_where_no_inception_runs(image_sets, capsys):
    real, fake = str(image_sets / "real"), str(image_sets / "fake")
    for flags, message in ((["--paired", "--compile"], "--compile is for the Inception network; --paired"),
                           (["--features", "digits", "--precision", "bf16"],
                            "--precision is for the Inception network; --features digits")):
        assert evaluate(image_sets, real, fake, *flags) == 1
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err
