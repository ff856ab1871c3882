import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import torch.nn.functional as F

from translation.data.datasets import PairedDataset
from translation.inference.translator import load_translator
from translation.models.pix2pix import Pix2PixModel
from translation.checkpoint import CheckpointError, load_file, read_checkpoint as load_checkpoint
from translation.training.trainer import Trainer, TrainingError
from translation.utils.device import seed_everything
from translation.utils.files import atomic_write_bytes

from conftest import REPO, killed_mid_save, make_paired_set, tiny_pix2pix_config


def mean_l1(generator_fn, data) -> float:
    ds = PairedDataset(data)
    with torch.no_grad():
        return sum(F.l1_loss(generator_fn(ds[i]["A"][None]), ds[i]["B"][None]).item() for i in range(len(ds))) / len(ds)


def test_training_lowers_l1_on_a_learnable_mapping(paired_set, tmp_path):
    config = tiny_pix2pix_config(paired_set, tmp_path / "runs", steps=60, dropout=False, lr=1e-3)
    seed_everything(config.seed)
    untrained = Pix2PixModel(config, torch.device("cpu")).G.train()
    before = mean_l1(untrained, paired_set)
    path = Trainer(Pix2PixModel, config, progress=False).fit()
    translator = load_translator(path, test_mode="paper")
    after = mean_l1(translator.net, paired_set)
    assert after < 0.5 * before, (before, after)
    run = tmp_path / "runs" / "tiny"
    assert (run / "config.yaml").is_file() and any((run / "logs").iterdir())
    assert sorted(p.name for p in (run / "samples").iterdir())[:1] == ["step_00000010.png"]


def _all_state(path):
    state = load_checkpoint(path)
    return state["nets"], state["optimizers"], state["step"]


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_is_bit_identical(tmp_path, workers):
    # unet_64 has dropout layers, so the saved random state matters as much as the weights
    data = make_paired_set(tmp_path / "data", size=64)
    arch = dict(netG="unet_64", load_size=72, crop_size=64, num_workers=workers)
    straight = tiny_pix2pix_config(data, tmp_path / "a", **arch)
    Trainer(Pix2PixModel, straight, progress=False).fit()
    split = tiny_pix2pix_config(data, tmp_path / "b", **arch)
    first = Trainer(Pix2PixModel, split, progress=False)
    first.fit(until_step=10)
    assert first.stopped and load_checkpoint(tmp_path / "b" / "tiny")["step"] == 10
    leftover = killed_mid_save(tmp_path / "b" / "tiny" / "latest.pt")
    Trainer(Pix2PixModel, split, resume=True, progress=False).fit()
    assert not leftover.exists()
    nets_a, opt_a, step_a = _all_state(tmp_path / "a" / "tiny")
    nets_b, opt_b, step_b = _all_state(tmp_path / "b" / "tiny")
    assert step_a == step_b == 20
    for net in nets_a:
        for key, value in nets_a[net].items():
            assert torch.equal(value, nets_b[net][key]), f"{net}.{key} differs after resume"
    for name in opt_a:
        for pid, s in opt_a[name]["state"].items():
            assert torch.equal(s["exp_avg"], opt_b[name]["state"][pid]["exp_avg"])


def test_existing_run_is_not_overwritten(paired_set, tmp_path):
    config = tiny_pix2pix_config(paired_set, tmp_path, steps=2)
    Trainer(Pix2PixModel, config, progress=False).fit()
    with pytest.raises(TrainingError, match="already holds a run; continue it with --resume"):
        Trainer(Pix2PixModel, config, progress=False).fit()


class ExplodingPix2Pix(Pix2PixModel):
    """Its L1 term becomes NaN from the 13th step on, as a diverging run's would."""
    calls = 0

    def loss_G(self, out):
        terms = super().loss_G(out)
        ExplodingPix2Pix.calls += 1
        if ExplodingPix2Pix.calls >= 13:
            terms["G_L1"] = terms["G_L1"] * float("nan")
        return terms


def test_nan_loss_stops_and_keeps_last_good_checkpoint(paired_set, tmp_path):
    config = tiny_pix2pix_config(paired_set, tmp_path)
    with pytest.raises(TrainingError, match=r"G_L1 became nan at step 13.*last good checkpoint"):
        Trainer(ExplodingPix2Pix, config, progress=False).fit()
    saved = load_checkpoint(tmp_path / "tiny")
    assert saved["step"] == 10 and all(torch.isfinite(v).all() for v in saved["nets"]["G"].values())


def test_unreadable_file_mid_training_names_it_and_saves_progress(paired_set, tmp_path):
    config = tiny_pix2pix_config(paired_set, tmp_path, steps=40)
    trainer = Trainer(Pix2PixModel, config, progress=False)
    trainer._build()  # data set listed; now a file goes bad on disk
    (paired_set / "train" / "005.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    trainer._build = lambda: None
    with pytest.raises(TrainingError, match=r"005.png.*\n.*Progress saved at step"):
        trainer.fit()
    assert load_checkpoint(tmp_path / "tiny")["step"] < 8


def test_checkpoint_loading_never_runs_pickled_code(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"format": "translation-checkpoint", "payload": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match=r"evil.pt: refused: it asks to import (posix|os|nt)\.system") as refused:
        load_file(tmp_path / "evil.pt")
    assert not marker.exists()
    assert "weights_only" not in str(refused.value)  # never advise loading it unsafely
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"garbage.pt: not a checkpoint: it is a text file \('not a checkpo"):
        load_file(tmp_path / "garbage.pt")


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "latest.pt"
    atomic_write_bytes(target, b"old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


def _train_cmd(data, runs, *extra):
    return [sys.executable, "-m", "translation", "train", "pix2pix", "--data", str(data), "--checkpoints-dir",
            str(runs), "--name", "sig", "--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--load-size", "32",
            "--crop-size", "32", "--num-workers", "0", "--no-progress", "--device", "cpu", *extra]


def test_ctrl_c_saves_and_exits_cleanly(paired_set, tmp_path):
    proc = subprocess.Popen(_train_cmd(paired_set, tmp_path, "--steps", "100000", "--image-every", "5"),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = tmp_path / "sig" / "samples"
    deadline = time.time() + 120
    while not (samples.is_dir() and any(samples.iterdir())) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "stopped at step" in err
    assert load_checkpoint(tmp_path / "sig")["step"] >= 5


def test_ctrl_c_in_a_terminal_with_data_workers_saves_and_exits_cleanly(paired_set, tmp_path):
    """A terminal's Ctrl-C goes to the whole process group, the DataLoader's worker processes included."""
    cmd = _train_cmd(paired_set, tmp_path, "--steps", "100000", "--image-every", "5")
    cmd[cmd.index("--num-workers") + 1] = "2"
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal's foreground job
    samples = tmp_path / "sig" / "samples"
    deadline = time.time() + 120
    while not (samples.is_dir() and any(samples.iterdir())) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)  # the main process and both workers
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "data error" not in err and "stopped at step" in err, err
    step = load_checkpoint(tmp_path / "sig")["step"]
    assert step >= 5
    resumed = subprocess.run(cmd[:cmd.index("--steps") + 1] + [str(step + 2)] + cmd[cmd.index("--steps") + 2:]
                             + ["--resume"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and load_checkpoint(tmp_path / "sig")["step"] == step + 2, resumed.stderr


def _wait_for_new_save(latest, proc, after_inode, saves=1, deadline=300):
    """Block until `saves` more checkpoints have been renamed into place (each save is a new inode)."""
    seen, inode, limit = 0, after_inode, time.time() + deadline
    while seen < saves:
        assert proc.poll() is None, "training ended before it was killed"
        assert time.time() < limit, "no checkpoint appeared"  # a safety net, not a timing assumption
        current = latest.stat().st_ino if latest.exists() else None
        if current is not None and current != inode:
            seen, inode = seen + 1, current
        time.sleep(0.005)
    return inode


def test_kill_9_never_leaves_an_unloadable_checkpoint(paired_set, tmp_path):
    """SIGKILL at varied points of a run that saves every step: latest.pt always loads, progress is kept."""
    cmd = _train_cmd(paired_set, tmp_path, "--steps", "100000", "--save-every", "1")
    latest, inode, last_step = tmp_path / "sig" / "latest.pt", None, 0
    for attempt, saves in enumerate((1, 2, 5)):  # killed right after the first save, or a few saves later
        proc = subprocess.Popen(cmd + (["--resume"] if attempt else []), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        inode = _wait_for_new_save(latest, proc, inode, saves)
        proc.kill()
        proc.wait()
        step = load_checkpoint(latest)["step"]
        assert step > last_step  # it loads, and holds at least the progress that was seen saved
        last_step = step
