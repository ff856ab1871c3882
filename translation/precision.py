"""Numeric precision of the nets: autocast and the gradient scaler, shared by training and inference.

fp32  everything in float32 (the official code's only mode).
bf16  matmuls and convolutions in bfloat16 under autocast; weights, optimizer state, norms' statistics
      and losses stay float32. bfloat16 has float32's exponent range, so gradients need no scaling.
      Fast on CPUs with AVX-512 BF16/AMX and on Ampere or newer GPUs; other CPUs emulate it, slower than
      fp32. On a CPU it runs channels-last unless told otherwise (Precision.runs_channels_last).
fp16  float16 under autocast with a dynamic gradient scaler (Micikevicius et al. 2018): a step whose
      scaled gradients overflow is skipped and the scale lowered; that is expected, not an error.

Inference (translate, sample, evaluate) also takes the memory layout and torch.compile: see inference_net.
"""
from __future__ import annotations

import contextlib
import functools
import platform
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from translation.names import PRECISIONS

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
# /proc/cpuinfo flags of x86 CPUs that compute in bfloat16 natively (Intel Cooper Lake and Sapphire Rapids on,
# AMD Zen 4 on); without them oneDNN emulates bfloat16 in float32 arithmetic plus conversions
FAST_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@dataclass(frozen=True)
class Precision:
    name: str
    device_type: str  # "cpu", "cuda", "mps"

    @property
    def dtype(self) -> torch.dtype:
        return _DTYPES[self.name]

    @property
    def mixed(self) -> bool:
        return self.name != "fp32"

    def autocast(self):
        """Context in which nets run at this precision (a no-op for fp32)."""
        if not self.mixed:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def runs_channels_last(self, choice: bool | None) -> bool:
        """The memory layout to run in: the user's choice (--channels-last / --no-channels-last), or when not
        set channels-last for bf16 on a CPU. oneDNN's bfloat16 convolutions are fast in NHWC only: on a Xeon
        with AMX, CycleGAN's training step ran 0.43x fp32's speed in the default NCHW layout, 3.13x in NHWC;
        on an AMD EPYC that emulates bfloat16, 0.29x and 0.46x. fp32 keeps NCHW, the official code's layout."""
        if choice is not None:
            return choice
        return self.name == "bf16" and self.device_type == "cpu"

    @property
    def advice(self) -> str | None:
        """A note for the user when this choice is likely a mistake on this device."""
        if self.name == "fp16" and self.device_type == "cpu":
            return ("note: fp16 on a CPU is emulated by most processors and can be many times slower than "
                    "fp32 (measured here: 16x); bf16 is the fast half precision on CPUs")
        if self.name == "bf16" and self.device_type == "cpu" and cpu_has_fast_bf16() is False:
            return ("note: this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX), so bf16 is emulated "
                    "and slower than fp32 (a small CycleGAN's training step ran at 0.46x fp32's speed on an "
                    "AMD EPYC with AVX2); fp32 is the fast choice here")
        return None

    def training_notes(self) -> list[str]:
        """What training says once at its start: the advice, or for fp32 on a CPU that computes in bfloat16
        natively, the flag that would train faster (fp32 stays the default: the official code's numbers)."""
        if self.name == "fp32" and self.device_type == "cpu" and cpu_has_fast_bf16():
            return ["note: this CPU computes in bfloat16 natively (AVX-512 BF16 or AMX): --precision bf16, "
                    "which runs channels-last on a CPU, trains up to 3x faster than fp32 (CycleGAN on a Xeon "
                    "with AMX), within bfloat16 rounding"]
        return [self.advice] if self.advice else []

    def grad_scaler(self) -> torch.amp.GradScaler:
        """A dynamic loss scaler for fp16; for fp32/bf16 a disabled one whose calls pass straight through."""
        return torch.amp.GradScaler(self.device_type, enabled=self.name == "fp16")


def precision_for(name: str, device: torch.device | str) -> Precision:
    """Check that `device` can run `name` and return it; a clear error otherwise."""
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}")
    device = torch.device(device)
    if name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"--precision bf16: {torch.cuda.get_device_name(device)} has no bfloat16 support; "
                         "use --precision fp16")
    return Precision(name, device.type)


def has_fast_bf16(cpu_flags: str) -> bool:
    """Whether a CPU with these /proc/cpuinfo flags (space-separated) computes in bfloat16 natively."""
    return not FAST_BF16_CPU_FLAGS.isdisjoint(cpu_flags.split())


@functools.cache
def cpu_has_fast_bf16() -> bool | None:
    """has_fast_bf16 for this machine's CPU; None where its flags cannot be read (not an x86 Linux: the
    flags of ARM and of other systems name bfloat16 support differently, and were not measured)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    flags = next((line.partition(":")[2] for line in lines if line.split(":")[0].strip() == "flags"), None)
    return None if flags is None else has_fast_bf16(flags)


def memory_format(channels_last: bool) -> torch.memory_format:
    return torch.channels_last if channels_last else torch.contiguous_format


def inference_net(net: nn.Module, channels_last: bool = False, compile: bool = False) -> nn.Module:
    """What to call to run `net` forward: `net` itself, its weights moved to channels-last (in place) when asked,
    or a torch.compile wrapper of it. Both change outputs by float rounding only (~1e-6).

    compile: the first call compiles for its input's shape (tens of seconds on a CPU; a C++ compiler is
    needed there). An input whose batch, height or width differs recompiles once with that dimension left
    symbolic (PyTorch's automatic dynamic shapes): a folder of mixed sizes compiles at most four times (the
    first shape, then batch, height and width each once), not once a size; one of a single size, once, into
    the faster fixed-size kernels.
    Random ops (test-time dropout) draw from torch's own generator, as eager mode does (fallback_random):
    a seed gives the same output compiled or not, where inductor's own generator would give other masks.
    """
    if channels_last:
        net.to(memory_format=torch.channels_last)
        for module in net.modules():
            if isinstance(module, nn.modules.dropout._DropoutNd):
                module.register_forward_pre_hook(_draw_in_default_layout)
    if not compile:
        return net
    return torch.compile(net, options={"fallback_random": True})


def _draw_in_default_layout(module: nn.Module, inputs: tuple):
    """Dropout draws its mask in memory order: on a channels-last tensor a seed would give another mask than
    in the default layout. Active dropout gets the default layout, so a seed gives the same image in both."""
    if module.training:
        return (inputs[0].contiguous(), *inputs[1:])
    return None
