"""CPU threading policy, decided before torch loads (OpenMP reads its settings once, at start-up).

PyTorch's CPU kernels run on OpenMP threads that spin while they wait for work. On an idle machine the
spinning is what makes small kernels fast; on a busy one a spinning thread holds a core that one of our
other threads (or another program) needs, and a step can get many times slower than its fair share.
Measured on a 2-core machine (tools/benchmark.py --sections threading), the demo's steps per second:

                                          idle    beside one CPU-bound program
    spin without bound (OpenMP default)   21.9     7.3
    bounded spin (GOMP_SPINCOUNT=1000)    21.7     8.9
    passive (sleep at once)               14.4    11.4

So: a machine already busy when we start (another program ran all through a 0.2 s look) gets passive waiting;
an idle one gets a bounded spin, which keeps the idle speed and limits the loss if other work arrives later.
Passive waiting by mistake is the costlier error (the CycleGAN demo runs at half speed with it on an idle
machine), hence a look long enough that a command starting beside us does not count. At the default 256 px sizes the kernels are
long enough that passive waiting costs nothing even when idle. The thread count itself is left alone (one
per core, or --threads): changing it changes the floating-point results, and runs must be
reproducible whatever else the machine is doing. Settings the user made (OMP_WAIT_POLICY, GOMP_SPINCOUNT)
always win.
"""
from __future__ import annotations

import os
import sys
import time

IDLE_SPIN_COUNT = "1000"  # ~tens of microseconds of spinning before a waiting thread sleeps
BUSY_FRACTION = 0.75  # of the samples: another program ran throughout, not for a moment at our start
NET_COMMANDS = ("train", "translate", "sample", "evaluate", "demo")  # the commands worth a look at the load


def busy_fraction(samples: int = 20, interval: float = 0.01) -> float:
    """Fraction of `samples` (taken `interval` s apart) in which another task was running or waiting for a
    CPU (Linux; 0 where unknown). /proc/loadavg's fourth field counts runnable tasks at that instant, this
    process included. Over 0.2 s a CPU-bound program shows in every sample; a short command that happens to
    start with us does not, and passive waiting chosen by mistake would halve a small model's speed."""
    busy = 0
    for i in range(samples):
        try:
            with open("/proc/loadavg") as handle:
                busy += int(handle.read().split()[3].split("/")[0]) > 1
        except (OSError, ValueError, IndexError):
            return 0.0
        if i + 1 < samples:
            time.sleep(interval)
    return busy / samples


def user_chose(environ) -> bool:
    return "OMP_WAIT_POLICY" in environ or "GOMP_SPINCOUNT" in environ


def wait_policy(environ, busy: bool) -> dict[str, str]:
    """The OpenMP settings to add to `environ`: none if the user chose, passive on a busy machine, else a
    bounded spin."""
    if user_chose(environ):
        return {}
    return {"OMP_WAIT_POLICY": "PASSIVE"} if busy else {"GOMP_SPINCOUNT": IDLE_SPIN_COUNT}


def configure_cpu_threads(environ=os.environ, look_at_load: bool = True) -> dict[str, str]:
    """Set the OpenMP wait policy for this process if torch is not loaded yet; returns what was set.
    `look_at_load` False (commands that hardly compute) skips the 0.2 s look and takes the idle policy."""
    if "torch" in sys.modules or user_chose(environ):
        return {}  # too late to matter, or not ours to decide; either way no need to look at the load
    chosen = wait_policy(environ, look_at_load and busy_fraction() >= BUSY_FRACTION)
    environ.update(chosen)
    if "OMP_WAIT_POLICY" in chosen and environ.get("RANK", "0") == "0":  # under torchrun: rank 0 says it
        print("note: other programs are using the CPU, so PyTorch's threads will wait passively "
              "(set OMP_WAIT_POLICY or GOMP_SPINCOUNT to choose yourself)", file=sys.stderr)
    return chosen


def set_thread_count(threads: int = 0) -> int:
    """torch's intra-op threads: `threads`, or PyTorch's own choice when 0 (one per physical core, or
    OMP_NUM_THREADS). Returns the count in use."""
    import torch

    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
