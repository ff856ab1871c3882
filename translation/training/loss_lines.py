"""Training progress as plain text: one line per --log-every steps (step, losses, speed, time left).

Written to `<run>/loss_log.txt` always (the file users of the official code read, appended to on resume)
and to stderr wherever no progress bar is drawn: a log file, a pipe, `--no-progress`. A bar's `\\r`
frames make a log file of hundreds of kilobytes that says nothing until the run ends.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

LOG_FILE = "loss_log.txt"


def duration(seconds: float) -> str:
    """h:mm:ss, as tqdm shows time left."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class LossLines:
    def __init__(self, run_dir: Path, title: str, step: int, total: int, echo: bool):
        self.path, self.total, self.echo = Path(run_dir) / LOG_FILE, total, echo
        self.mark = (time.monotonic(), step)  # the speed is the one since the previous line
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(f"================ {title}: from step {step} of {total} ({time.strftime('%c')}) "
                      "================\n")

    def line(self, step: int, epoch: int, losses: dict[str, float]) -> str:
        now = time.monotonic()
        rate = (step - self.mark[1]) / max(now - self.mark[0], 1e-9)
        self.mark = (now, step)
        terms = " ".join(f"{name} {value:.4g}" for name, value in losses.items())
        return (f"step {step}/{self.total} epoch {epoch} | {terms} | {rate:.3g} it/s | "
                f"ETA {duration((self.total - step) / rate) if rate > 0 else '?'}")

    def write(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        text = self.line(step, epoch, losses)
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(text + "\n")
        if self.echo:
            print(text, file=sys.stderr, flush=True)
