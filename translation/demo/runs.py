"""What every demo does around its own work: start from clean folders, report on stderr, train or stop."""
from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from translation.training.trainer import Trainer


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def start_afresh(*folders: Path) -> None:
    """Remove what an earlier run of this demo left; other demos' outputs in the same workdir stay."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Training:
    checkpoint: Path | None
    seconds: float
    stopped_at: int | None  # the step a signal stopped it at (Ctrl-C), None when it ran to the end

    def interrupted(self) -> dict:
        """What a demo returns when stopped: the command turns it into exit status 130."""
        return {"interrupted": True, "step": self.stopped_at}


def train(model_class, config, skipped: str) -> Training:
    """Train as `translation train` does; when stopped early, say so and what the demo will not do."""
    started = time.time()
    trainer = Trainer(model_class, config)
    checkpoint = trainer.fit()
    if trainer.stopped:
        say(f"training was interrupted at step {trainer.step} of {config.steps}: the demo stops here, nothing "
            f"was {skipped} (run it again to start over)")
        return Training(None, time.time() - started, trainer.step)
    return Training(checkpoint, time.time() - started, None)
