"""CPU threading policy, decided before torch loads (OpenMP reads its settings once, at start-up).

PyTorch's CPU kernels run on OpenMP threads that spin while they wait for work. On an idle machine the
spinning is what makes small kernels fast; on a busy one a spinning thread holds a core that one of our
other threads (or another program) needs, and a step can get many times slower than its fair share.
Measured on a 2-core machine (tools/benchmark.py --sections threading), the demo's steps per second:

                                          idle    beside one CPU-bound program
    spin without bound (OpenMP default)   21.9     7.3
    bounded spin (GOMP_SPINCOUNT=1000)    21.7     8.9
    passive (sleep at once)               14.4    11.4

A bounded spin is set for every command: it keeps the idle speed and limits the loss when other work runs
beside us. Passive waiting would gain about 1.3x beside a busy program but cost 1.5x on an idle machine, and
what runs at a command's start says little about the minutes or hours a run lasts (a CycleGAN demo that saw
another job at its start waited passively long after that job ended, at half speed), so it is the user's
choice (OMP_WAIT_POLICY=PASSIVE), not a guess from a look at the load. The thread count is left alone too
(one per core, or --threads): changing it changes the floating-point results, and runs must be reproducible
whatever else the machine is doing. Settings the user made (OMP_WAIT_POLICY, GOMP_SPINCOUNT) always win.
"""
from __future__ import annotations

import os
import sys

IDLE_SPIN_COUNT = "1000"  # ~tens of microseconds of spinning before a waiting thread sleeps


def user_chose(environ) -> bool:
    return "OMP_WAIT_POLICY" in environ or "GOMP_SPINCOUNT" in environ


def wait_policy(environ) -> dict[str, str]:
    """The OpenMP settings to add to `environ`: none if the user chose, else a bounded spin."""
    return {} if user_chose(environ) else {"GOMP_SPINCOUNT": IDLE_SPIN_COUNT}


def configure_cpu_threads(environ=os.environ) -> dict[str, str]:
    """Set the OpenMP wait policy for this process if torch is not loaded yet; returns what was set."""
    if "torch" in sys.modules:
        return {}  # too late to matter: OpenMP has read its settings
    chosen = wait_policy(environ)
    environ.update(chosen)
    return chosen


def set_thread_count(threads: int = 0) -> int:
    """torch's intra-op threads: `threads`, or PyTorch's own choice when 0 (one per physical core, or
    OMP_NUM_THREADS). Returns the count in use."""
    import torch

    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
