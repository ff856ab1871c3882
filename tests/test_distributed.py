"""Training on several processes (training/distributed.py): two CPU processes on gloo, launched by torchrun,
must train the weights one process trains on the same global batch, a run must resume with another number of
processes, and a run stopped by Ctrl-C and resumed on two processes must end where the uninterrupted one does.

Every two-process job runs in one torchrun launch (torchrun_jobs.py): starting torch in two processes costs
more than the jobs; the one-process references train here meanwhile.

The runs use SGD: its update is linear in the gradient, so the comparison checks the gradient arithmetic.
Adam divides by the gradient's running RMS, which turns the rounding noise of gradients that are zero in
exact arithmetic (the bias of a convolution followed by a norm) into steps of the full learning rate.
"""
from __future__ import annotations

import json
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
# dropout (a ResNet G: unet_32 has no level that takes it): rank 1 draws its own masks, so a resume is exact only
# if its random state was saved too; the stop after step 2 falls between checkpoints (the states are then
# gathered for the stop's own save)
DROPOUT = dict(PIX2PIX, netG="resnet_6blocks", dropout=True, save_every=4, keep_every=0)
JOB_LINE = "training on 2 processes (gloo), global batch 4: 2 per process"
pytestmark = pytest.mark.both_cores  # torchrun's two ranks: under `make test` they have the 2 cores to themselves


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


def _train_args(model: str, data, runs, name: str, options: dict, resume: bool = False) -> list[str]:
    return ["train", model, "--data", str(data), "--checkpoints-dir", str(runs), "--name", name, "--no-progress",
            *_flags(options), *(["--resume"] if resume else [])]


def _train_here(model: str, data, runs, name: str, options: dict, resume: bool = False) -> None:
    """One process, in this one (no torch import to wait for)."""
    from translation.models import CONFIGS, model_class
    from translation.training.trainer import Trainer

    config = CONFIGS[model](data=str(data), checkpoints_dir=str(runs), name=name, **options)
    Trainer(model_class(model), config, resume=resume, progress=False).fit()


def _noise_set(root):
    # noise images: flat blocks put whole regions on a ReLU's kink, where rounding (a sum in another order)
    # flips them together and the weights part far beyond rounding, one process or two
    rng = np.random.default_rng(1)
    for side in "AB":
        for i in range(6):
            write_image(root / f"train{side}" / f"{i}.png", rng.random((32, 32, 3), dtype=np.float32))
    return root


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


class Launch:
    """The one torchrun launch: its output, and each job's stderr and exit status per rank."""

    def __init__(self, root, done: subprocess.CompletedProcess):
        self.root, self.runs, self.done = root, root / "runs", done

    def stderr(self, job: str, rank: int) -> str:
        return (self.root / "out" / f"{job}.rank{rank}.txt").read_text()

    def status(self, job: str, rank: int) -> str:
        return (self.root / "out" / f"{job}.rank{rank}.status").read_text()


@pytest.fixture(scope="module")
def launch(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    paired, noise, runs = make_paired_set(root / "paired", n=7), _noise_set(root / "noise"), root / "runs"
    jobs = [{"name": "two", "argv": _train_args("pix2pix", paired, runs, "two", PIX2PIX)},
            {"name": "cyclegan", "argv": _train_args("cyclegan", noise, runs, "cyclegan_two", CYCLEGAN)},
            {"name": "whole", "argv": _train_args("pix2pix", paired, runs, "whole", DROPOUT)},
            {"name": "stopped", "argv": _train_args("pix2pix", paired, runs, "halves", DROPOUT), "stop_at": STEPS // 2},
            {"name": "resumed", "argv": _train_args("pix2pix", paired, runs, "halves", DROPOUT, resume=True)}]
    (root / "jobs.json").write_text(json.dumps(jobs))
    (root / "out").mkdir()
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(_free_port()), str(REPO / "tests" / "torchrun_jobs.py"), str(root / "jobs.json"),
               str(root / "out")]
    with subprocess.Popen(command, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:  # the one-process references, while torchrun starts its two
            _train_here("pix2pix", paired, runs, "one", PIX2PIX)
            _train_here("cyclegan", noise, runs, "cyclegan_one", CYCLEGAN)
            stdout, stderr = process.communicate(timeout=240)
        finally:
            process.kill()
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    logs = "".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted((root / "out").glob("*.txt")))
    assert done.returncode == 0, f"{stderr[-3000:]}\n{logs}"
    return Launch(root, done)


def test_two_processes_train_the_weights_of_one_with_the_same_global_batch(launch):
    one, two = _load(launch.runs / "one" / "latest.pt"), _load(launch.runs / "two" / "latest.pt")
    _assert_same_weights(one, two)
    # batch-norm running statistics too: synchronised over the global batch, then rank 0's everywhere
    assert any("running_mean" in key for key in two["nets"]["G"])
    # a wrong share weighting or a missing gradient sum moves the weights far beyond the tolerance
    start = _load(launch.runs / "one" / "step_00000002.pt")
    assert (one["nets"]["G"]["model.model.0.weight"] - start["nets"]["G"]["model.model.0.weight"]).abs().max() > 1e-3


def test_only_rank_0_reports_and_writes(launch):
    said, other = launch.stderr("two", 0), launch.stderr("two", 1)
    assert said.count("finished at step") == 1 and said.count(JOB_LINE) == 1  # the job named once
    assert sorted(p.name for p in (launch.runs / "two").iterdir()) == [
        "config.yaml", "latest.pt", "logs", "loss_log.txt", "samples", "step_00000002.pt", "step_00000004.pt"]
    # one process writes the log lines: one header, and each logged step once, on stderr as in the file
    log = (launch.runs / "two" / "loss_log.txt").read_text()
    assert log.count("================") == 2 and said.count("step 4/4 epoch") == log.count("step 4/4 epoch") == 1
    assert "step" not in other and "training on" not in other
    assert len(list((launch.runs / "two" / "logs").iterdir())) == 1  # one TensorBoard file


def test_a_run_of_two_processes_resumes_on_one(launch):
    # (one on two is the same code: the order, the schedule and the checkpoint ignore the process count)
    resumed = launch.runs / "two_on_one"
    resumed.mkdir()
    shutil.copyfile(launch.runs / "two" / "step_00000002.pt", resumed / "latest.pt")
    _train_here("pix2pix", launch.root / "paired", launch.runs, resumed.name, PIX2PIX, resume=True)
    _assert_same_weights(_load(launch.runs / "one" / "latest.pt"), _load(resumed / "latest.pt"))


def test_cyclegan_on_two_processes_trains_the_weights_of_one(launch):
    _assert_same_weights(_load(launch.runs / "cyclegan_one" / "latest.pt"),
                         _load(launch.runs / "cyclegan_two" / "latest.pt"))


def test_a_stopped_job_exits_0_and_resumes_on_two_processes_exactly(launch):
    # Ctrl-C reached rank 1 alone (twice, as torchrun passes it on): every process stopped after the same step,
    # saved, and exited 0, which torchrun counts as success (the launch's status is the first failing job's)
    assert [launch.status("stopped", rank) for rank in (0, 1)] == ["0", "0"]
    assert f"stopped at step {STEPS // 2}/{STEPS}" in launch.stderr("stopped", 0)
    assert "ChildFailedError" not in launch.done.stderr and "interrupted" not in launch.stderr("stopped", 1)
    halves, whole = _load(launch.runs / "halves" / "latest.pt"), _load(launch.runs / "whole" / "latest.pt")
    assert len(halves["rng_ranks"]) == 2 and torch.equal(halves["rng_ranks"][0]["torch"], halves["rng"]["torch"])
    # the same processes summing in the same order: equal to the last bit, rank 1's dropout masks included
    _assert_same_weights(whole, halves, tolerance=0)


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
