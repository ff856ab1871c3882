"""The GAN engine: one training step of any model, and everything about gradients.

Models declare nets, optimizers, phases and losses (models/base.py); this file is the only place that
touches requires_grad, zero_grad, autocast, the gradient scaler, backward and step. One step is:

    1. move the batch to the device (NHWC with --channels-last, which bf16 on a CPU takes unless told not to)
    2. freeze every net that no phase due this step trains (and the parameters a phase holds back until a later
       step: Phase.frozen_until), then run the model's shared forward once under autocast: graphs are built
       only through nets that will be trained
    3. for each due phase, in the model's order:
         freeze all nets but the phase's; zero its optimizer's gradients; compute its loss terms under
         autocast; backward the scaled objective; with several processes, sum the gradients over them
         (distributed.py); refuse a non-finite objective before it can reach the weights (fp16: the scaler
         skips the step instead); step through the scaler; then the phase's hooks (weight clipping) and
         the EMA of any generator it trained
    4. record each term, averaged later over the steps it actually ran (a G trained every 5th step is
       averaged over its own steps, not diluted by the others)

The trainer (trainer.py) owns everything around the step: data order, schedule, logs and checkpoints.
"""
from __future__ import annotations

import math

import torch

from translation.precision import precision_for
from translation.training.distributed import SingleProcess
from translation.training.ema import EMA
from translation.training.phases import Phase, build_optimizer

# fp16 only: this many skipped steps in a row means the forward itself overflows, which scaling cannot fix
MAX_CONSECUTIVE_SKIPS = 50


class StepError(RuntimeError):
    """A training step that cannot go on; the message says why and what to do."""


class NonFiniteLossError(StepError):
    """A phase's loss became NaN or infinite; the weights were not updated with it."""

    def __init__(self, phase: str, terms: dict[str, float]):
        self.phase, self.terms = phase, terms
        bad = [k for k, v in terms.items() if not math.isfinite(v)] or list(terms)
        self.bad = bad
        super().__init__(f"loss {', '.join(bad)} became {terms[bad[0]]} in phase {phase}")


class LossAverages:
    """Running sums per loss term, each counted over the steps where it was computed."""

    def __init__(self):
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, terms: dict[str, float]) -> None:
        for key, value in terms.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1

    def pop_means(self) -> dict[str, float]:
        means = {key: self.sums[key] / self.counts[key] for key in self.sums}
        self.sums, self.counts = {}, {}
        return means


class Engine:
    def __init__(self, model, precision: str = "fp32", channels_last: bool | None = None, compile: bool = False,
                 ema_decay: float = 0.0, processes=None):
        """`channels_last`: the memory layout, or None for the precision's choice (bf16 on a CPU: channels-last)."""
        self.model, self.device = model, model.device
        self.processes = processes or SingleProcess()
        self.precision = precision_for(precision, self.device)
        self.channels_last = self.precision.runs_channels_last(channels_last)
        nets = model.nets
        if self.channels_last:  # before the optimizers exist, so their state takes the same layout
            for net in nets.values():
                net.to(memory_format=torch.channels_last)
        self.phases: list[Phase] = list(model.phases())
        specs = model.optimizers()
        self._check(specs)
        self.phase_params = {phase.name: [p for key in phase.nets for p in nets[key].parameters()]
                             for phase in self.phases}
        self.optimizers = {name: build_optimizer(spec, [p for key in spec.nets for p in nets[key].parameters()],
                                                 self.device) for name, spec in specs.items()}
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        self.scalers = {name: self.precision.grad_scaler() for name in self.optimizers}
        self.ema = {key: EMA(nets[key], ema_decay) for key in model.generators()} if ema_decay > 0 else {}
        self.ema_decay = ema_decay
        # the raw nets stay in model.nets (saved as they are); compiled ones are what the model calls
        model.use_running_nets({key: torch.compile(net) if compile else net for key, net in nets.items()})
        self.losses = LossAverages()
        self.skipped_in_a_row = {name: 0 for name in self.optimizers}

    def _check(self, specs) -> None:
        nets = set(self.model.nets)
        for name, spec in specs.items():
            unknown = set(spec.nets) - nets
            if unknown:
                raise ValueError(f"optimizer {name} lists nets {sorted(unknown)} the model does not have")
        for phase in self.phases:
            if phase.optimizer not in specs:
                raise ValueError(f"phase {phase.name} uses optimizer {phase.optimizer!r}; the model declares "
                                 f"{', '.join(specs)}")
            if not set(phase.nets) <= nets:
                raise ValueError(f"phase {phase.name} trains nets {sorted(set(phase.nets) - nets)} the model "
                                 "does not have")

    # --- one step --------------------------------------------------------------------------------------
    def step(self, batch: dict, step: int, share: float = 1.0) -> dict:
        """Run the phases due at `step` (0-based) on `batch`; returns the shared forward's outputs.
        `share`: this process's fraction of the global batch (1 for a single process)."""
        batch = self._to_device(batch)
        due = [phase for phase in self.phases if phase.due(step)]
        self._train_only({key for phase in due for key in phase.nets},
                         tuple(prefix for phase in due for prefix in phase.frozen_at(step)))
        try:
            with self.precision.autocast():
                outputs = self.model.forward(batch)
            for phase in due:
                self._run_phase(phase, outputs, share, step)
        except ValueError as error:  # torch's batch norm in training on one value per channel
            if "more than 1 value per channel" not in str(error):
                raise
            images = next(v.size(0) for v in batch.values() if isinstance(v, torch.Tensor))
            raise StepError(f"a batch of {images} image(s) is too small for a batch-norm layer whose maps are 1x1 "
                            f"here (torch: {error}); an epoch's last batch holds what the data set leaves over: "
                            "choose a --batch-size (or --max-dataset-size) that leaves more than one") from None
        self.processes.broadcast_buffers(self.model.nets.values())
        return outputs

    def _run_phase(self, phase: Phase, outputs: dict, share: float, step: int) -> None:
        self._train_only(set(phase.nets), phase.frozen_at(step))
        optimizer, scaler = self.optimizers[phase.optimizer], self.scalers[phase.optimizer]
        optimizer.zero_grad(set_to_none=True)
        with self.precision.autocast():
            terms = phase.loss(outputs)
        objective = phase.weight * sum(term.float() for term in terms.values())
        scale = scaler.get_scale() if scaler.is_enabled() else None
        # each process's loss weighs by its share: summed, the gradients are those of the global batch's mean
        scaler.scale(objective * share).backward()
        local = torch.stack([term.detach().float() for term in (*terms.values(), objective)]) * share
        summed = self.processes.sum_gradients(self.phase_params[phase.name], local).tolist()
        values = dict(zip(terms, summed))
        if not scaler.is_enabled() and not math.isfinite(summed[-1]):
            raise NonFiniteLossError(phase.name, values)  # before the step: the weights stay as they were
        scaler.step(optimizer)  # fp16: skipped when the unscaled gradients hold inf/NaN
        scaler.update()
        if scale is not None and scaler.get_scale() < scale:
            self._skipped(phase)
            return
        self.skipped_in_a_row[phase.optimizer] = 0
        for hook in phase.after_step:
            hook()
        for key in phase.nets:
            if key in self.ema:
                self.ema[key].update()
        self.losses.add(values)

    def _skipped(self, phase: Phase) -> None:
        self.skipped_in_a_row[phase.optimizer] += 1
        if self.skipped_in_a_row[phase.optimizer] >= MAX_CONSECUTIVE_SKIPS:
            raise StepError(f"fp16: phase {phase.name} overflowed on {MAX_CONSECUTIVE_SKIPS} steps in a row "
                               "(the loss itself is not finite in float16); use --precision bf16 or fp32")

    def _train_only(self, keys: set, held: tuple[str, ...] = ()) -> None:
        for key, net in self.model.nets.items():
            net.requires_grad_(key in keys)
            if held and key in keys:
                for name, param in net.named_parameters():
                    if f"{key}.{name}".startswith(held):
                        param.requires_grad_(False)

    def _to_device(self, batch: dict) -> dict:
        moved = {}
        for key, value in batch.items():
            if isinstance(value, torch.Tensor):
                value = value.to(self.device, non_blocking=True)
                if self.channels_last and value.dim() == 4:
                    value = value.contiguous(memory_format=torch.channels_last)
            moved[key] = value
        return moved

    # --- schedule and state ----------------------------------------------------------------------------
    def set_lr_factor(self, factor: float) -> None:
        """Scale every optimizer's learning rate to factor x its initial value (the trainer's schedule)."""
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"] * factor

    def state_dict(self) -> dict:
        ema = {"decay": self.ema_decay, "updates": max((e.updates for e in self.ema.values()), default=0),
               "nets": {key: e.average.state_dict() for key, e in self.ema.items()}}
        return {"optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
                "scalers": {k: v.state_dict() for k, v in self.scalers.items() if v.is_enabled()},
                "ema": ema}

    def load_state_dict(self, state: dict) -> None:
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
            _match_layouts(optimizer)
        for name, scaler in self.scalers.items():
            if scaler.is_enabled() and name in state.get("scalers", {}):
                scaler.load_state_dict(state["scalers"][name])
        saved = state.get("ema", {}).get("nets", {})
        for key, ema in self.ema.items():
            if key in saved:
                ema.load(saved[key], state["ema"]["updates"])
            # a run that starts averaging on resume begins from the current weights (EMA's own copy)


def _match_layouts(optimizer: torch.optim.Optimizer) -> None:
    """Give each loaded state tensor its parameter's memory layout. A run saved without --channels-last and
    resumed with it (or the reverse) would otherwise pair NHWC weights with NCHW moments, which the fused
    kernels, walking both in memory order, would silently mix up."""
    for param, state in optimizer.state.items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.shape == param.shape and value.stride() != param.stride():
                state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)
