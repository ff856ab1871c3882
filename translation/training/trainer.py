"""Running a training job: data order, learning-rate schedule, logs, image sheets, checkpoints, resume, signals.

Each step is one call to `Engine.step` (engine.py), which owns the gradient mechanics; the trainer knows
neither the losses nor the optimizers' internals. See translation/checkpoint.py for what a checkpoint holds.
Under torchrun every process runs this loop on its share of each batch (distributed.py); only rank 0
(`is_main`) shows progress, logs, writes image sheets and checkpoints.
"""
from __future__ import annotations

import copy
import shutil
import signal
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from translation.checkpoint import LATEST, empty_best, read_checkpoint, save_checkpoint
from translation.config import save_yaml, to_dict
from translation.data.io import write_image
from translation.data.workers import ignore_stop_signals, start_workers
from translation.runtime import set_thread_count
from translation.training import distributed
from translation.training.engine import Engine, NonFiniteLossError, StepError
from translation.training.health import TrainingHealth
from translation.training.loss_lines import LossLines
from translation.training.random_state import capture_rng_state, restore_rng_state
from translation.training.schedule import Schedule, TrainingOrder, lr_policy_of
from translation.utils.device import seed_everything, select_device
from translation.utils.files import clear_unfinished_writes
from translation.visualize import sheet_from_batches


class TrainingError(RuntimeError):
    """Training stopped for a reason the user must act on (the message says what and where).
    `everywhere`: every process stopped for it (a loss summed over them), so rank 0 alone reports it."""

    def __init__(self, message: str, everywhere: bool = False):
        super().__init__(message)
        self.everywhere = everywhere


class StopRequested:
    """SIGINT/SIGTERM set a flag; the loop finishes its step, saves and exits. A second Ctrl-C aborts, except
    under torchrun (`processes` more than one): torchrun passes each signal it gets on to every process, so a
    terminal's one Ctrl-C, which reaches torchrun and the processes alike, arrives twice; there torchrun's own
    --shutdown-timeout (30 s) is the abort. Rank 0 alone says it is stopping."""

    def __init__(self, processes=distributed.SingleProcess()):
        self.requested = False
        self._previous = {}
        self.repeat_aborts = processes.world_size == 1
        self.message = ("Stopping after this step and saving a checkpoint (Ctrl-C again to abort without saving)..."
                        if self.repeat_aborts else "Stopping every process after this step and saving a checkpoint...")
        self.quiet = not processes.is_main

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: signals stay with the caller
                pass
        return self

    def _handle(self, signum, frame):
        if self.requested and signum == signal.SIGINT and self.repeat_aborts:
            raise KeyboardInterrupt
        if not self.quiet and (self.repeat_aborts or not self.requested):  # torchrun's repeat: said once
            print(f"\n{self.message}", file=sys.stderr, flush=True)
        self.requested = True

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False


def _error_line(error: BaseException) -> str:
    # DataLoader workers re-raise with the whole remote traceback in the message: keep its last line.
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


class Trainer:
    """Train `model_class` with `config`. With resume=True the run continues from its latest.pt, which the
    caller may pass in as `checkpoint` when it has already read it (it is read once)."""

    def __init__(self, model_class, config, resume: bool = False, progress: bool = True,
                 checkpoint: dict | None = None):
        self.model_class, self.config, self.resume, self.progress = model_class, config, resume, progress
        self.checkpoint = checkpoint
        self.run_dir = config.run_dir
        self.step = 0
        self.stopped = False
        self.best = empty_best()
        self.processes = distributed.from_environment()  # torchrun's processes, or a single one
        self.random_states, self.random_states_step = None, None  # every rank's, for rank 0's next checkpoint
        self.is_main = self.processes.is_main  # rank 0: the one process that logs and saves

    @property
    def exit_status(self) -> int:
        """The command's exit status: 0 finished, 130 stopped by a signal (saved, not finished). Under torchrun a
        stop after a clean save is 0: torchrun's agent counts any other status as a failure (it prints a
        ChildFailedError report, and with --max-restarts starts the processes again); the last line says
        "stopped at step ..." instead."""
        return 130 if self.stopped and self.processes.world_size == 1 else 0

    # --- setup ----------------------------------------------------------------------------------------
    def _prepare_run_dir(self) -> dict | None:
        latest = self.run_dir / LATEST
        # a run killed mid-save leaves its temporary file behind (never a broken latest.pt)
        for line in clear_unfinished_writes(self.run_dir) if self.is_main and self.run_dir.is_dir() else ():
            distributed.say(self.processes, f"note: {line}")
        if self.resume:
            if not latest.is_file():
                raise TrainingError(f"--resume: no checkpoint at {latest}")
            return self.checkpoint if self.checkpoint is not None else read_checkpoint(latest)
        if latest.exists():
            raise TrainingError(f"{self.run_dir} already holds a run; continue it with --resume, "
                                "or choose another --name")
        return None

    @staticmethod
    def _without_init_from(config):
        """The config a resumed run builds its model with: the checkpoint holds the weights --init-from gave at
        the start, so the run it names is not read again (it may have moved or gone since). The run's recorded
        config keeps the option."""
        if not getattr(config, "init_from", None):
            return config
        built = copy.copy(config)
        built.init_from = None  # set directly: the config's checks pair --init-from with options it still has
        return built

    def _build(self):
        c = self.config
        state = self._prepare_run_dir()
        self.device = self.processes.start(select_device(c.device))
        set_thread_count(c.threads)
        seed_everything(c.seed)
        self.dataset = self.model_class.build_dataset(c)
        for note in getattr(self.dataset, "notes", []):  # files the data set names but does not use
            distributed.say(self.processes, f"note: {note}")
        self.model = self.model_class(self._without_init_from(c) if state is not None else c, self.device,
                                      self.dataset)
        if c.sync_bn:
            self.processes.use_sync_batch_norm(self.model.nets)
        self.engine = Engine(self.model, precision=c.precision, channels_last=c.channels_last,
                             compile=c.compile, ema_decay=c.ema_decay, processes=self.processes)
        for note in self.engine.precision.training_notes():  # a likely mistake, or faster flags for this CPU
            distributed.say(self.processes, note)
        self.schedule = Schedule(len(self.dataset), c.batch_size, c.epochs, c.epochs_decay, c.steps, lr_policy_of(c))
        if state is not None:
            try:
                for key, net in self.model.nets.items():
                    net.load_state_dict(state["nets"][key])
                self.engine.load_state_dict(state)
                self.model.load_extra_state(state.get("extra", {}))
            except (RuntimeError, KeyError, ValueError) as error:
                raise TrainingError(f"cannot resume from {self.run_dir / LATEST}: the options given do not "
                                    f"match the saved run ({_error_line(error)})") from None
            self.step = int(state["step"])
            self.best = state.get("best", empty_best())
            restore_rng_state(state["rng"])
        self.processes.broadcast_nets([*self.model.nets.values(), *(e.average for e in self.engine.ema.values())])
        ranks = state.get("rng_ranks") if state is not None else None
        if ranks is not None and len(ranks) == self.processes.world_size:
            restore_rng_state(ranks[self.processes.rank])  # each process where it was: an exact resume
        else:  # a new run, one process, or a checkpoint saved without them or on another number of processes
            self.processes.seed_own_streams(c.seed, self.step)
        self.evaluation = self._evaluation()
        if self.step < self.schedule.total_steps:
            # The first batch is read before a new run gets its folder: a bad file, or images smaller than
            # the crop, then stop it with nothing written.
            self.batches = start_workers(self._loader())
            self.processes.say_job(c.batch_size)
            self.first_batch = self._next_batch()
        if self.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            save_yaml(c, self.run_dir / "config.yaml")

    def _evaluation(self):
        """--eval-every's evaluator (periodic_eval.py), its options checked before anything is written."""
        if not self.config.eval_every:
            return None
        from translation.training.periodic_eval import PeriodicEvaluation

        try:
            evaluation = PeriodicEvaluation(self.config, self.model, self.engine, self.device, self.run_dir)
        except ValueError as error:
            raise TrainingError(str(error), everywhere=True) from None
        return evaluation if self.is_main else None  # checked by every process, run by rank 0

    def _last_good(self) -> str:
        latest = self.run_dir / LATEST
        return f"The last good checkpoint is {latest}." if latest.is_file() else "No checkpoint was written."

    def _next_batch(self, started_at: int | None = None):
        """The next batch; a data error names the file, and progress made since `started_at` is saved."""
        try:
            return next(self.batches)
        except StopIteration:
            raise
        except Exception as error:  # unreadable or unusable data: say which file, keep progress
            if self.processes.world_size > 1:  # the others wait for this one until torchrun stops them all
                kept = f"Process {self.processes.rank} stops, and with it the others. {self._last_good()}"
            elif started_at is not None and self.step > started_at:
                self.save()
                kept = f"Progress saved at step {self.step} in {self.run_dir / LATEST}; fix the file and --resume."
            elif self.resume:
                kept = f"The run is as it was at step {self.step}; fix the file and --resume."
            else:
                kept = "Nothing was trained and nothing was written."
            raise TrainingError(f"data error: {_error_line(error)}\n{kept}") from None

    def _loader(self) -> DataLoader:
        c = self.config
        try:
            self.order = TrainingOrder(len(self.dataset), c.batch_size, c.seed, self.step, self.schedule.total_steps,
                                       shuffle=self.dataset.shuffle, rank=self.processes.rank,
                                       world_size=self.processes.world_size)
        except ValueError as error:  # the global batch does not split over the processes
            raise TrainingError(str(error), everywhere=True) from None
        return DataLoader(self.dataset, batch_sampler=self.order, num_workers=c.num_workers,
                          pin_memory=self.device.type == "cuda", persistent_workers=False,
                          worker_init_fn=ignore_stop_signals,  # Ctrl-C stops the run through this process
                          # a private generator: worker seeding must not consume the global RNG stream
                          generator=torch.Generator().manual_seed(c.seed))

    # --- saving and logging ---------------------------------------------------------------------------
    def save(self) -> Path:
        path = self.run_dir / LATEST
        if not self.is_main:  # every process holds the same weights and optimizer state: rank 0 writes them
            return path
        model = self.model
        state = {"model": model.name, "config": to_dict(self.config), "net_specs": model.net_specs,
                 "nets": {key: net.state_dict() for key, net in model.nets.items()},
                 "generators": model.generators(), "test_mode": model.test_mode, **self.engine.state_dict(),
                 "step": self.step, "epoch": self.schedule.epoch(self.step), "rng": capture_rng_state(),
                 "extra": model.extra_state(), "best": self.best}
        if self.random_states is not None and self.random_states_step == self.step:  # several processes
            state["rng_ranks"] = [state["rng"], *self.random_states[1:]]
        save_checkpoint(path, state)
        keep = self.config.keep_every
        if keep and self.step % keep == 0:
            shutil.copyfile(path, self.run_dir / f"step_{self.step:08d}.pt")
        return path

    def _log_images(self, writer, outputs: dict) -> None:
        sheet = sheet_from_batches(self.model.visuals(outputs))
        writer.add_image("samples", torch.from_numpy(sheet).permute(2, 0, 1), self.step)
        write_image(self.run_dir / "samples" / f"step_{self.step:08d}.png", sheet)

    def _log_scalars(self, writer, bar, lr_factor: float) -> None:
        means = self.engine.losses.pop_means()
        for key, value in means.items():
            writer.add_scalar(f"loss/{key}", value, self.step)
        for name, optimizer in self.engine.optimizers.items():
            writer.add_scalar(f"lr/{name}", optimizer.param_groups[0]["lr"], self.step)
        writer.add_scalar("lr_factor", lr_factor, self.step)
        bar.set_postfix({k: f"{v:.3g}" for k, v in means.items()}, refresh=False)
        self.loss_lines.write(self.step, self.schedule.epoch(self.step), means)
        self._report(bar, self.health.losses(self.step, means))

    def _gather_random_states(self) -> None:
        """Every rank's random state to rank 0, once per step that may be saved: the checkpoint holds them all.
        A collective: every process calls this at the same steps (which depend on the step number only)."""
        if self.random_states_step != self.step:
            self.random_states, self.random_states_step = self.processes.gather_random_states(), self.step

    @staticmethod
    def _report(bar, messages: list[str]) -> None:
        for message in messages:  # above the progress bar, which stays drawn
            bar.write(message, file=sys.stderr)

    # --- the loop -------------------------------------------------------------------------------------
    def fit(self, until_step: int | None = None) -> Path:
        """Train to the end of the schedule, or to `until_step`, or until a signal; returns the checkpoint.

        `stopped` tells afterwards whether the run ended before its schedule did.
        """
        from torch.utils.tensorboard import SummaryWriter

        self._build()
        c, total = self.config, self.schedule.total_steps
        if self.step >= total:
            distributed.say(self.processes, f"{self.run_dir}: already trained to step {self.step} of {total}.")
            self.processes.close()
            return self.run_dir / LATEST
        main = self.is_main
        # a resumed run logs again what followed its checkpoint; what was logged at the checkpoint's step stays
        writer = SummaryWriter(str(self.run_dir / "logs"), purge_step=self.step + 1) if main else None
        # a bar on a terminal; elsewhere (a log file, a pipe) or with --no-progress, a plain line per log
        terminal = self.progress and getattr(sys.stderr, "isatty", lambda: False)()
        bar = tqdm(total=total, initial=self.step, disable=not (terminal and main), dynamic_ncols=True,
                   desc=f"{self.model.name} {c.name}", unit="it", file=sys.stderr)
        self.loss_lines = LossLines(self.run_dir, f"{self.model.name} {c.name}", self.step, total,
                                    echo=not terminal) if main else None
        started = time.time()
        self.health = TrainingHealth(self.model, self.dataset, writer, self.engine.precision.autocast,
                                     c.batch_size // self.processes.world_size) if main else None
        self.model.nets.train()
        try:
            with StopRequested(self.processes) as stop:
                started_at, batch = self.step, self.first_batch
                end = min(total, until_step) if until_step is not None else total
                while self.step < end:
                    if batch is None:
                        try:
                            batch = self._next_batch(started_at)
                        except StopIteration:
                            break
                    if self.processes.any(stop.requested):  # all processes stop at the same step
                        break
                    lr_factor = self.schedule.lr_factor(self.step)
                    self.engine.set_lr_factor(lr_factor)
                    self.model.progress = self.step / total
                    try:
                        outputs = self.engine.step(batch, self.step, self.order.share(self.step))
                    except NonFiniteLossError as error:  # the loss summed over the processes: all stop
                        raise TrainingError(
                            f"loss {', '.join(error.bad)} became {error.terms[error.bad[0]]} at step {self.step + 1}; "
                            f"stopped without saving. {self._last_good()} Try a lower --lr or another --gan-mode.",
                            everywhere=True) from None
                    except StepError as error:
                        raise TrainingError(f"{error} (step {self.step + 1}); stopped without saving. "
                                            f"{self._last_good()}", everywhere=True) from None
                    batch = None
                    self.step += 1
                    bar.update(1)
                    # the steps where rank 0 may save: every --save-every, every evaluation (a new best), the end
                    if (self.step % c.save_every == 0 or self.step == end
                            or c.eval_every and self.step % c.eval_every == 0):
                        self._gather_random_states()
                    if main and (self.step % c.log_every == 0 or self.step == total):
                        self._log_scalars(writer, bar, lr_factor)
                    if main and (self.step % c.image_every == 0 or self.step == total):
                        self._log_images(writer, outputs)
                    # the diversity probe (a forward pass over 16 samples) at the scheduled sheets only: at the
                    # end of a short run it would cost more than the run (29 s after 3 CycleGAN steps at 256 px)
                    if main and self.step % c.image_every == 0:
                        with distributed.this_process_only():
                            self._report(bar, self.health.samples(self.step))
                    improved = False
                    if self.evaluation is not None and self.evaluation.due(self.step, total):
                        try:
                            with distributed.this_process_only():  # rank 0 alone: no batch-norm all-reduces
                                best, lines = self.evaluation.run(self.step, writer, self.best)
                        except ValueError as error:  # a metric refused the images: keep the progress made
                            raise TrainingError(f"--eval-every: the evaluation at step {self.step} failed: {error}. "
                                                f"Progress saved in {self.save()}; change the evaluation "
                                                "options and --resume.") from None
                        self._report(bar, lines)
                        improved, self.best = best is not None, best or self.best
                    if self.step % c.save_every == 0 or improved:
                        saved = self.save()
                        if improved:
                            self.evaluation.keep_best(saved)
                self._gather_random_states()  # a stop between the steps above
                path = self.save()
                self.processes.barrier()  # the others end once rank 0's checkpoint is written
        finally:
            bar.close()
            if writer is not None:
                writer.close()
            self.processes.close()
        elapsed = time.time() - started
        self.stopped = self.step < total
        status = "stopped" if self.stopped else "finished"
        distributed.say(self.processes, f"{status} at step {self.step}/{total} (epoch {self.schedule.epoch(self.step)}) "
                                        f"in {elapsed:.0f} s; checkpoint: {path}")
        return path
