"""DataLoader worker processes that leave Ctrl-C and SIGTERM to the main process.

A terminal sends SIGINT to its whole foreground process group, and a batch system (Slurm at its time limit)
sends SIGTERM to every process of a job: the DataLoader's workers get the signal too. A worker that dies of
it makes the main process fail with "DataLoader worker exited unexpectedly" (or a reset connection) before
its own handler can finish the step and save. So workers never take these signals: they are blocked while
the workers are started (a forked or spawned child inherits the mask, and a signal that arrives meanwhile
reaches the main process once they are unblocked) and ignored from the worker's first call on (a forkserver
child does not inherit the mask). The main process shuts its workers down itself when it is done, and a
worker whose main process has gone exits on its own (PyTorch watches the parent).
"""
from __future__ import annotations

import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def ignore_stop_signals(worker_id: int = 0) -> None:
    """A DataLoader `worker_init_fn`: this worker leaves SIGINT and SIGTERM to the main process."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def start_workers(loader):
    """`iter(loader)`, its worker processes started deaf to SIGINT and SIGTERM (the loader must have been
    made with `worker_init_fn=ignore_stop_signals`)."""
    if loader.num_workers == 0 or threading.current_thread() is not threading.main_thread():
        return iter(loader)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return iter(loader)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
