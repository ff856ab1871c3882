"""The model-agnostic training loop: data order, LR schedule, logging, checkpoints, resume, signals.

The loop only calls `model.training_step(batch)`; what a step does (which nets, which losses) is the
model's business. See checkpoint.py for what a checkpoint holds.
"""
from __future__ import annotations

import math
import shutil
import signal
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from translation.config import save_yaml, to_dict
from translation.data.io import write_image
from translation.training.checkpoint import (LATEST, capture_rng_state, load_checkpoint, restore_rng_state,
                                             save_checkpoint)
from translation.training.schedule import Schedule, TrainingOrder
from translation.utils.device import seed_everything, select_device
from translation.visualize import sheet_from_batches


class TrainingError(RuntimeError):
    """Training stopped for a reason the user must act on (the message says what and where)."""


class StopRequested:
    """SIGINT/SIGTERM set a flag; the loop finishes its step, saves and exits. A second Ctrl-C aborts."""

    def __init__(self):
        self.requested = False
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: signals stay with the caller
                pass
        return self

    def _handle(self, signum, frame):
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        print("\nStopping after this step and saving a checkpoint (Ctrl-C again to abort without saving)...",
              file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False


def _error_line(error: BaseException) -> str:
    # DataLoader workers re-raise with the whole remote traceback in the message: keep its last line.
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


class Trainer:
    def __init__(self, model_class, config, resume: bool = False, progress: bool = True):
        self.model_class, self.config, self.resume, self.progress = model_class, config, resume, progress
        self.run_dir = Path(config.checkpoints_dir) / config.name
        self.step = 0
        self.stopped = False

    # --- setup ----------------------------------------------------------------------------
    def _prepare_run_dir(self) -> dict | None:
        latest = self.run_dir / LATEST
        if self.resume:
            if not latest.is_file():
                raise TrainingError(f"--resume: no checkpoint at {latest}")
            # a run killed mid-save leaves its temporary file behind (never a broken latest.pt)
            for leftover in self.run_dir.glob(f".{LATEST}.*.tmp"):
                leftover.unlink()
            return load_checkpoint(latest)
        if latest.exists():
            raise TrainingError(f"{self.run_dir} already holds a run; continue it with --resume, "
                                "or choose another --name")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return None

    def _build(self):
        c = self.config
        state = self._prepare_run_dir()
        self.device = select_device(c.device)
        seed_everything(c.seed)
        self.dataset = self.model_class.build_dataset(c)
        self.model = self.model_class(c, self.device)
        self.schedule = Schedule(len(self.dataset), c.batch_size, c.epochs, c.epochs_decay, c.steps)
        for opt in self.model.optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
        if state is not None:
            try:
                self.model.load_from_checkpoint(state)
            except (RuntimeError, KeyError, ValueError) as error:
                raise TrainingError(f"cannot resume from {self.run_dir / LATEST}: the options given do not "
                                    f"match the saved run ({_error_line(error)})") from None
            self.step = int(state["step"])
            restore_rng_state(state["rng"])
        save_yaml(c, self.run_dir / "config.yaml")

    def _loader(self) -> DataLoader:
        c = self.config
        order = TrainingOrder(len(self.dataset), c.batch_size, c.seed, self.step, self.schedule.total_steps,
                              shuffle=not getattr(c, "serial_batches", False))
        return DataLoader(self.dataset, batch_sampler=order, num_workers=c.num_workers,
                          pin_memory=self.device.type == "cuda", persistent_workers=False,
                          # a private generator: worker seeding must not consume the global RNG stream
                          generator=torch.Generator().manual_seed(c.seed))

    # --- saving and logging ---------------------------------------------------------------
    def save(self) -> Path:
        state = {**self.model.state_for_checkpoint(), "config": to_dict(self.config), "step": self.step,
                 "epoch": self.schedule.epoch(self.step), "rng": capture_rng_state()}
        path = self.run_dir / LATEST
        save_checkpoint(path, state)
        keep = self.config.keep_every
        if keep and self.step % keep == 0:
            shutil.copyfile(path, self.run_dir / f"step_{self.step:08d}.pt")
        return path

    def _log_images(self, writer) -> None:
        sheet = sheet_from_batches(self.model.visuals())
        writer.add_image("samples", torch.from_numpy(sheet).permute(2, 0, 1), self.step)
        write_image(self.run_dir / "samples" / f"step_{self.step:08d}.png", sheet)

    def _set_lr(self) -> float:
        factor = self.schedule.lr_factor(self.step)
        for opt in self.model.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] * factor
        return factor

    # --- the loop -------------------------------------------------------------------------
    def fit(self, until_step: int | None = None) -> Path:
        """Train to the end of the schedule, or to `until_step`, or until a signal; returns the checkpoint.

        `stopped` tells afterwards whether the run ended before its schedule did.
        """
        from torch.utils.tensorboard import SummaryWriter

        self._build()
        c, total = self.config, self.schedule.total_steps
        if self.step >= total:
            print(f"{self.run_dir}: already trained to step {self.step} of {total}.", file=sys.stderr)
            return self.run_dir / LATEST
        writer = SummaryWriter(str(self.run_dir / "logs"), purge_step=self.step)
        bar = tqdm(total=total, initial=self.step, disable=not self.progress, dynamic_ncols=True,
                   desc=f"{self.model.name} {c.name}", unit="it", file=sys.stderr)
        sums: dict[str, float] = {}
        started = time.time()
        self.model.train()
        try:
            with StopRequested() as stop:
                batches = iter(self._loader())
                end = min(total, until_step) if until_step is not None else total
                while self.step < end and not stop.requested:
                    try:
                        batch = next(batches)
                    except StopIteration:
                        break
                    except Exception as error:  # unreadable or unusable data: say which file, keep progress
                        self.save()
                        raise TrainingError(f"data error: {_error_line(error)}\nProgress saved at step "
                                            f"{self.step} in {self.run_dir / LATEST}; fix the file and --resume."
                                            ) from None
                    lr_factor = self._set_lr()
                    losses = self.model.training_step(batch)
                    values = {k: float(v) for k, v in losses.items()}
                    bad = [k for k, v in values.items() if not math.isfinite(v)]
                    if bad:
                        raise TrainingError(
                            f"loss {', '.join(bad)} became {values[bad[0]]} at step {self.step + 1}; stopped "
                            f"without saving. The last good checkpoint is {self.run_dir / LATEST}. Try a lower "
                            "--lr or another --gan-mode.")
                    self.step += 1
                    for k, v in values.items():
                        sums[k] = sums.get(k, 0.0) + v
                    bar.update(1)
                    if self.step % c.log_every == 0 or self.step == total:
                        count = (self.step - 1) % c.log_every + 1
                        means = {k: v / count for k, v in sums.items()}
                        for k, v in means.items():
                            writer.add_scalar(f"loss/{k}", v, self.step)
                        writer.add_scalar("lr", c.lr * lr_factor, self.step)
                        bar.set_postfix({k: f"{v:.3g}" for k, v in means.items()}, refresh=False)
                        sums = {}
                    if self.step % c.image_every == 0 or self.step == total:
                        self._log_images(writer)
                    if self.step % c.save_every == 0:
                        self.save()
                path = self.save()
        finally:
            bar.close()
            writer.close()
        elapsed = time.time() - started
        self.stopped = self.step < total
        status = "stopped" if self.stopped else "finished"
        print(f"{status} at step {self.step}/{total} (epoch {self.schedule.epoch(self.step)}) in {elapsed:.0f} s; "
              f"checkpoint: {path}", file=sys.stderr)
        return path
