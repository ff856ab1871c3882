"""Numeric precision of the nets: autocast and the gradient scaler, shared by training and inference.

fp32  everything in float32 (the official code's only mode).
bf16  matmuls and convolutions in bfloat16 under autocast; weights, optimizer state, norms' statistics
      and losses stay float32. bfloat16 has float32's exponent range, so gradients need no scaling.
      Fast on CPUs with AVX-512 BF16/AMX and on Ampere or newer GPUs.
fp16  float16 under autocast with a dynamic gradient scaler (Micikevicius et al. 2018): a step whose
      scaled gradients overflow is skipped and the scale lowered; that is expected, not an error.

Inference (translate, sample, evaluate) also takes the memory layout and torch.compile: see inference_net.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from translation.names import PRECISIONS

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


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

    @property
    def advice(self) -> str | None:
        """A note for the user when this choice is likely a mistake on this device."""
        if self.name == "fp16" and self.device_type == "cpu":
            return ("note: fp16 on a CPU is emulated by most processors and can be many times slower than "
                    "fp32 (measured here: 16x); bf16 is the fast half precision on CPUs")
        return None

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
