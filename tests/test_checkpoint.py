"""Checkpoint format 2, what generators record, and format-1 files written by the code before the engine."""
import shutil
import subprocess
import sys

import pytest
import torch

from translation.checkpoint import (CheckpointError, load_file, read_checkpoint, samples, save_checkpoint, translates,
                                   translates_to_domains)
from translation.cli import main
from translation.data.io import read_image, write_image
from translation.inference.translator import load_translator

from conftest import FIXTURES, REPO, V1_FIXTURES, make_paired_set


def v1_io(stem):
    return torch.load(V1_FIXTURES / f"{stem}.io.pt", weights_only=True)


@pytest.mark.parametrize("stem,directions", [("pix2pix_v1", ["AtoB"]), ("cyclegan_v1", ["AtoB", "BtoA"])])
def test_version_1_checkpoints_translate_as_they_did(stem, directions):
    io = v1_io(stem)
    for direction in directions:
        translator = load_translator(V1_FIXTURES / f"{stem}.pt", direction, "eval")
        with torch.no_grad():
            out = translator.net(io["input"])
        assert torch.allclose(out, io[f"eval_{direction}"], atol=1e-6), direction
        assert translator.weights == "raw"


def test_version_1_files_are_upgraded_on_read():
    state = read_checkpoint(V1_FIXTURES / "cyclegan_v1.pt")
    assert state["version"] == 2 and "translators" not in state
    assert state["generators"] == {"G_A": {"task": "translate", "direction": "AtoB", "paired": False, "weights": "raw"},
                                   "G_B": {"task": "translate", "direction": "BtoA", "paired": False, "weights": "raw"}}
    # pix2pix's generator learned from pairs: its record says so, as today's records do
    assert read_checkpoint(V1_FIXTURES / "pix2pix_v1.pt")["generators"]["G"]["paired"] is True
    assert "init" not in state["net_specs"]["D_A"]["kwargs"]  # v1 kept init settings among the options
    assert state["ema"]["nets"] == {} and state["best"] == {"metric": None, "value": None, "step": None}
    assert len(state["extra"]["pool_A"]["images"]) == 2 and state["step"] == 3


def test_imported_version_1_file_still_gives_the_official_output(tmp_path):
    translator = load_translator(V1_FIXTURES / "imported_v1.pt")
    official = torch.load(FIXTURES / "cyclegan_resnet6_ngf8.io.pt", weights_only=True)
    with torch.no_grad():
        assert (translator.net(official["input"]) - official["output"]).abs().max() <= 1e-5


def test_a_version_1_run_resumes_and_translates_from_the_cli(tmp_path):
    data = make_paired_set(tmp_path / "data", n=4, size=32)
    run = tmp_path / "runs" / "p"
    run.mkdir(parents=True)
    shutil.copyfile(V1_FIXTURES / "pix2pix_v1.pt", run / "latest.pt")
    assert main(["translate", str(run), str(data / "train"), str(tmp_path / "out"), "--no-progress",
                 "--num-workers", "0"]) == 0
    assert read_image(tmp_path / "out" / "000.png").shape == (32, 64, 3)
    assert main(["train", "pix2pix", "--checkpoints-dir", str(tmp_path / "runs"), "--name", "p", "--resume",
                 "--data", str(data), "--steps", "5", "--num-workers", "0", "--no-progress"]) == 0
    state = read_checkpoint(run)
    assert state["version"] == 2 and state["step"] == 5 and state["optimizers"]["G"]["state"]


def test_generator_records_say_what_each_generator_does():
    assert translates("BtoA") == {"task": "translate", "direction": "BtoA", "paired": False}
    assert translates("AtoB", paired=True)["paired"] is True
    assert translates_to_domains(["Black_Hair", "Blond_Hair", "Male"], "multi_label", [["Black_Hair", "Blond_Hair"]]) \
        == {"task": "translate_to_domain", "domains": ["Black_Hair", "Blond_Hair", "Male"],
            "label_kind": "multi_label", "exclusive": [["Black_Hair", "Blond_Hair"]]}
    with pytest.raises(ValueError, match="exclusive groups name Gray_Hair"):
        translates_to_domains(["Black_Hair", "Male"], "multi_label", [["Black_Hair", "Gray_Hair"]])
    assert samples(128, ["0", "1"]) == {"task": "sample", "z_dim": 128, "classes": ["0", "1"]}
    assert samples(100)["classes"] is None
    with pytest.raises(ValueError, match="direction must be AtoB or BtoA"):
        translates("up")
    with pytest.raises(ValueError, match="domain names must be distinct"):
        translates_to_domains(["a", "a"], "single_label")
    with pytest.raises(ValueError, match="label kind must be one of multi_label, single_label"):
        translates_to_domains(["a"], "onehot")


def _tiny_state(**overrides):
    from translation.nets import create_generator, spec_of

    net = create_generator("unet_32", ngf=2)
    state = {"model": "test", "net_specs": {"G": spec_of(net)}, "nets": {"G": net.state_dict()},
             "generators": {"G": samples(8)}, "test_mode": "eval"}
    state.update(overrides)
    return state


def test_written_files_are_complete_version_2_and_refuse_what_they_cannot_be(tmp_path):
    save_checkpoint(tmp_path / "a.pt", _tiny_state())
    state = read_checkpoint(tmp_path / "a.pt")
    assert state["version"] == 2 and state["generators"]["G"] == {"task": "sample", "z_dim": 8, "classes": None,
                                                                   "weights": "raw"}
    assert state["scalers"] == {} and state["best"]["metric"] is None and state["optimizers"] == {}
    with pytest.raises(CheckpointError, match="do not translate between two domains .*sample"):
        load_translator(tmp_path / "a.pt")
    with pytest.raises(ValueError, match="a checkpoint needs generators, test_mode"):
        save_checkpoint(tmp_path / "b.pt", {"model": "x", "net_specs": {}, "nets": {}})
    future = torch.load(tmp_path / "a.pt", weights_only=True)
    future["version"] = 3
    torch.save(future, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="future.pt: written by a newer version \\(format 3 > 2\\)"):
        read_checkpoint(tmp_path / "future.pt")
    future.update(version=2, generators={"G": {"task": "dream"}})
    torch.save(future, tmp_path / "odd.pt")
    with pytest.raises(CheckpointError, match="generator G has an unknown task 'dream'"):
        read_checkpoint(tmp_path / "odd.pt")


def test_checkpoints_and_outputs_get_normal_file_permissions(tmp_path):
    save_checkpoint(tmp_path / "a.pt", _tiny_state())
    write_image(tmp_path / "x.png", torch.zeros(4, 4, 3).numpy())
    import os

    umask = os.umask(0)
    os.umask(umask)
    for name in ("a.pt", "x.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_inference_imports_nothing_from_training():
    """translate needs neither the trainer nor what only training uses (TensorBoard, albumentations)."""
    code = ("import sys, translation.commands.translate, translation.inference.translator, "
            "translation.inference.folders, translation.checkpoint\n"
            "print(sorted(m for m in sys.modules if m.startswith(('translation.training', 'translation.models'))"
            " or m.split('.')[0] in ('tensorboard', 'albumentations')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("content,what", [
    (b"hello world\n", "a text file ('hello world')"),
    (b"", "empty (0 bytes)"),
    (b"<!DOCTYPE html><html><body>Not Found</body></html>", "an HTML or XML page"),
    (b"\x89PNG\r\n\x1a\n" + bytes(20), "a PNG image"),
    (bytes(range(256)) * 2, "not a PyTorch file (neither a zip archive nor PyTorch's older pickle format)"),
])
def test_a_file_that_is_not_a_checkpoint_says_what_it_is_and_what_is_accepted(tmp_path, content, what):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as error:
        load_file(path)
    assert str(error.value).startswith(f"{path}: not a checkpoint: it is {what}")
    assert str(error.value).endswith("checkpoints are PyTorch files (a run folder or its latest.pt, an official "
                                     ".pth/.ckpt state dict) or, for translate and sample, an .onnx file from "
                                     "`translation export`")


def test_a_damaged_pytorch_file_is_named_as_one(tmp_path):
    whole = tmp_path / "whole.pt"
    torch.save({"w": torch.zeros(100)}, whole)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(whole.read_bytes()[:300])
    with pytest.raises(CheckpointError, match=r"cut.pt: cannot be read as a PyTorch file: damaged or cut short\? "
                                              r"\(PytorchStreamReader failed .*\)$") as error:
        load_file(cut)
    assert "internal miniz error" not in str(error.value)


def test_a_mapped_load_gives_the_same_tensors_and_old_format_files_are_read_whole(tmp_path):
    state = {"nets": {"G": {"w": torch.randn(1000)}}, "step": 3}
    torch.save(state, tmp_path / "new.pt")
    torch.save(state, tmp_path / "old.pt", _use_new_zipfile_serialization=False)  # cannot be mapped
    for name in ("new.pt", "old.pt"):
        mapped = load_file(tmp_path / name, mmap=True)
        assert mapped["step"] == 3 and torch.equal(mapped["nets"]["G"]["w"], state["nets"]["G"]["w"])
