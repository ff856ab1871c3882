"""Training on several processes (training/distributed.py): two CPU processes on gloo, launched by torchrun,
must train the weights one process trains on the same global batch, and a run must resume with another
number of processes.

The runs use SGD: its update is linear in the gradient, so the comparison checks the gradient arithmetic.
Adam divides by the gradient's running RMS, which turns the rounding noise of gradients that are zero in
exact arithmetic (the bias of a convolution followed by a norm) into steps of the full learning rate.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import REPO, make_paired_set
from translation.data.io import write_image
from translation.training.schedule import TrainingOrder

STEPS = 4
# 7 images in global batches of 4: each epoch ends with a batch of 3, split 2 + 1 (unequal shares)
PIX2PIX = dict(netG="unet_32", ngf=8, ndf=8, load_size=32, crop_size=32, batch_size=4, num_workers=0, steps=STEPS,
               log_every=2, image_every=2, save_every=2, keep_every=2, device="cpu", seed=3, dropout=False,
               norm="batch", sync_bn=True, optimizer="sgd", lr=0.05)
# CycleGAN: two phases over four nets sharing optimizers; no image pool (its coin flips differ per process)
CYCLEGAN = dict(PIX2PIX, pool_size=0, lr=0.01, steps=2)  # batches of 4, then 2: shares 2 + 2, 1 + 1


def _flags(options: dict) -> list[str]:
    flags = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        flags += ([flag] if value else ["--no-" + flag[2:]]) if isinstance(value, bool) else [flag, str(value)]
    return flags


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _torchrun(model: str, data, runs, name: str, options: dict) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(_free_port()), "-m", "translation", "train", model, "--data", str(data),
               "--checkpoints-dir", str(runs), "--name", name, "--no-progress", *_flags(options)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _train_here(model: str, data, runs, name: str, options: dict, resume: bool = False) -> None:
    """One process, in this one (no torch import to wait for)."""
    from translation.models import CONFIGS, model_class
    from translation.training.trainer import Trainer

    config = CONFIGS[model](data=str(data), checkpoints_dir=str(runs), name=name, **options)
    Trainer(model_class(model), config, resume=resume, progress=False).fit()


def _load(path):
    return torch.load(path, weights_only=True)


def _assert_same_weights(a, b, tolerance=1e-5):
    assert a["step"] == b["step"]
    for net in a["nets"]:
        for key, value in a["nets"][net].items():
            other = b["nets"][net][key]
            if value.dtype.is_floating_point:  # all-reduce sums in another order: rounding differs
                assert torch.allclose(value, other, rtol=0, atol=tolerance), (net, key)
            else:
                assert torch.equal(value, other), (net, key)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    data = make_paired_set(root / "data", n=7)
    _train_here("pix2pix", data, root / "runs", "one", PIX2PIX)
    two = _torchrun("pix2pix", data, root / "runs", "two", PIX2PIX)
    return root, data, two


def test_two_processes_train_the_weights_of_one_with_the_same_global_batch(runs):
    root, _, _ = runs
    one, two = _load(root / "runs" / "one" / "latest.pt"), _load(root / "runs" / "two" / "latest.pt")
    _assert_same_weights(one, two)
    # batch-norm running statistics too: synchronised over the global batch, then rank 0's everywhere
    assert any("running_mean" in key for key in two["nets"]["G"])
    # a wrong share weighting or a missing gradient sum moves the weights far beyond the tolerance
    start = _load(root / "runs" / "one" / "step_00000002.pt")
    assert (one["nets"]["G"]["model.model.0.weight"] - start["nets"]["G"]["model.model.0.weight"]).abs().max() > 1e-3


def test_only_rank_0_reports_and_writes(runs):
    root, _, two = runs
    assert two.stderr.count("finished at step") == 1
    assert sorted(p.name for p in (root / "runs" / "two").iterdir()) == [
        "config.yaml", "latest.pt", "logs", "loss_log.txt", "samples", "step_00000002.pt", "step_00000004.pt"]
    # one process writes the log lines: one header, and each logged step once, on stderr as in the file
    log = (root / "runs" / "two" / "loss_log.txt").read_text()
    assert log.count("================") == 2 and two.stderr.count("step 4/4 epoch") == log.count("step 4/4 epoch") == 1
    assert len(list((root / "runs" / "two" / "logs").iterdir())) == 1  # one TensorBoard file


def test_a_run_of_two_processes_resumes_on_one(runs):
    # (one on two is the same code: the order, the schedule and the checkpoint ignore the process count)
    root, data, _ = runs
    resumed = root / "runs" / "two_on_one"
    resumed.mkdir()
    shutil.copyfile(root / "runs" / "two" / "step_00000002.pt", resumed / "latest.pt")
    _train_here("pix2pix", data, root / "runs", resumed.name, PIX2PIX, resume=True)
    _assert_same_weights(_load(root / "runs" / "one" / "latest.pt"), _load(resumed / "latest.pt"))


def test_cyclegan_on_two_processes_trains_the_weights_of_one(tmp_path):
    # noise images: flat blocks put whole regions on a ReLU's kink, where rounding (a sum in another order)
    # flips them together and the weights part far beyond rounding, one process or two
    data = tmp_path / "data"
    rng = np.random.default_rng(1)
    for side in "AB":
        for i in range(6):
            write_image(data / f"train{side}" / f"{i}.png", rng.random((32, 32, 3), dtype=np.float32))
    _train_here("cyclegan", data, tmp_path / "runs", "one", CYCLEGAN)
    _torchrun("cyclegan", data, tmp_path / "runs", "two", CYCLEGAN)
    _assert_same_weights(_load(tmp_path / "runs" / "one" / "latest.pt"), _load(tmp_path / "runs" / "two" / "latest.pt"))


def test_shares_of_the_processes_make_up_the_single_process_batches():
    single = list(TrainingOrder(7, 4, seed=5, start_step=1, total_steps=5))
    shares = [list(TrainingOrder(7, 4, seed=5, start_step=1, total_steps=5, rank=r, world_size=2)) for r in (0, 1)]
    assert [a + b for a, b in zip(*shares)] == single
    order = TrainingOrder(7, 4, seed=5, start_step=0, total_steps=4, rank=1, world_size=2)
    assert [order.share(step) for step in range(4)] == [0.5, 1 / 3, 0.5, 1 / 3]  # the last batch: 2 + 1
    assert [len(batch) for batch in order] == [2, 1, 2, 1]


def test_a_global_batch_that_does_not_split_is_refused_naming_the_flag():
    with pytest.raises(ValueError, match=r"--batch-size 3 is the global batch: .* multiple of the 2 processes"):
        TrainingOrder(8, 3, seed=0, start_step=0, total_steps=2, rank=0, world_size=2)
    # 9 = 2 x 4 + 1: the epoch's last batch has one image for two processes
    with pytest.raises(ValueError, match=r"last batch of 1 .* --max-dataset-size 8"):
        TrainingOrder(9, 4, seed=0, start_step=0, total_steps=2, rank=0, world_size=2)
