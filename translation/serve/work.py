"""Inference off the event loop: a pool of `workers` threads and at most `queue` jobs waiting for one.

The event loop only parses requests and sends answers, so the page and /api/models answer while a model
runs. A job beyond the running and waiting ones is refused at once (Busy: the server answers 503 with
Retry-After) instead of piling up, so a burst of requests costs bounded memory and the waiting time stays
bounded. Threads, not processes: torch releases the GIL in its kernels, the loaded models are shared, and
nothing is copied between processes.
"""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor


class Busy(RuntimeError):
    """Every worker is busy and the queue is full."""


class WorkPool:
    def __init__(self, workers: int = 1, queue: int = 8):
        if workers < 1 or queue < 0:
            raise ValueError(f"--workers {workers} --queue {queue}: at least one worker and a queue of 0 or more")
        self.workers, self.queue = workers, queue
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="serve-worker")
        self.changed = threading.Condition()
        self.pending = 0  # jobs running or waiting

    @property
    def capacity(self) -> int:
        return self.workers + self.queue

    async def run(self, job, *args):
        """`job(*args)` on a worker thread; raises Busy when the pool and its queue are full."""
        with self.changed:
            if self.pending >= self.capacity:
                raise Busy(f"busy: {self.workers} running and {self.queue} waiting; try again in a moment")
            self.pending += 1
            self.changed.notify_all()
        future = self.executor.submit(job, *args)
        future.add_done_callback(self._done)  # counted until the job ends, even if its client has gone
        return await asyncio.wrap_future(future)

    def _done(self, _future) -> None:
        with self.changed:
            self.pending -= 1
            self.changed.notify_all()

    def wait_for(self, pending: int, timeout: float = 30.0) -> bool:
        """Block until exactly `pending` jobs are running or waiting (for tests and shutdown)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.pending == pending, timeout)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
