"""Several training jobs in one torchrun launch, for test_distributed.py: starting Python and torch in two
processes costs more than the tiny jobs themselves.

    torchrun --nproc-per-node 2 tests/torchrun_jobs.py JOBS.json OUT_DIR

JOBS.json is a list of {"name": ..., "argv": [...], "stop_at": k or null}. Each job runs as the `translation`
command would (cli.main(argv)), in turn; OUT_DIR/<name>.rank<R>.txt gets what it wrote to stderr and
OUT_DIR/<name>.rank<R>.status its exit status. With `stop_at` k, rank 1 alone signals itself during step k with
SIGINT twice, as a terminal's Ctrl-C reaches a process under torchrun (once from the terminal, once passed on
by torchrun), so the job stops after step k; rank 0 learns of it through the stop check's all-reduce.
The first failing job ends the launch with its status.

The process group is started once for all jobs: a second init_process_group in one process would read the
first group's addresses from torchrun's store.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import torch.distributed as dist

from translation import cli
from translation.training.engine import Engine

_init, _destroy = dist.init_process_group, dist.destroy_process_group


def _init_once(*args, **kwargs):
    if not dist.is_initialized():
        _init(*args, **kwargs)


def _stopping_at(step: int | None):
    """Engine.step that, on rank 1, signals this process twice during step `step` (1-based)."""
    original = Engine.step

    def step_then_signal(self, batch, index, *args, **kwargs):
        outputs = original(self, batch, index, *args, **kwargs)
        if index + 1 == step and os.environ["RANK"] == "1":
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return outputs

    return step_then_signal if step is not None else original


def main(jobs_file: str, out: str) -> int:
    rank = os.environ["RANK"]
    dist.init_process_group, dist.destroy_process_group = _init_once, lambda *args, **kwargs: None
    original_step = Engine.step
    for job in json.loads(Path(jobs_file).read_text()):
        Engine.step = _stopping_at(job.get("stop_at"))
        with open(Path(out) / f"{job['name']}.rank{rank}.txt", "w") as log, contextlib.redirect_stderr(log):
            status = cli.main(job["argv"])
        Engine.step = original_step
        (Path(out) / f"{job['name']}.rank{rank}.status").write_text(str(status))
        if status:
            return status
    dist.barrier()  # both processes done with every job before either tears the group down
    _destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
