"""What the benchmark measures: the timing loop, FLOPs of a call, the machine's matmul peak, peak memory.

count_flops       FLOPs of one call, with the per-operator formulas of torch.utils.flop_counter
matmul_peak       GFLOP/s of large square matmuls (the best of several sizes): the physical limit a row is
                  compared with (matmul: one such call, which benchmark.py also times beside each group)
interleaved       the fastest time of each of several functions, called in turn (benchmark.py, onnx_speed.py)
peak_memory_gb    this process's peak: CPU resident memory (VmHWM) or CUDA max allocated; a fresh process
                  per measurement, so the peak is that case's alone
"""
from __future__ import annotations

import time
from pathlib import Path


def count_flops(fn) -> int:
    """FLOPs (2 x multiply-adds) of the matmuls and convolutions, forward and backward, that `fn()` runs.

    FlopCounterMode's formulas, without its module tracker: the tracker's backward hooks break
    torch.autograd.grad(create_graph=True), which a gradient penalty (StarGAN's D step) calls."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Counter(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            formula = flop_registry.get(func._overloadpacket)
            if formula is None and func is not torch.ops.prim.device.default:
                with self:  # a composite op: count the ops it is made of
                    decomposed = func.decompose(*args, **kwargs)
                if decomposed is not NotImplemented:
                    return decomposed
            out = func(*args, **kwargs)
            if formula is not None:
                Counter.total += formula(*args, **kwargs, out_val=out)
            return out

    with Counter():
        fn()
    return Counter.total


def matmul(device, dtype, n: int):
    """(a call of an n x n by n x n matmul, its FLOPs): what the peak is measured with."""
    import torch

    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    return (lambda: torch.mm(a, b)), 2 * n**3


def matmul_peak(device, dtype, sizes=(1024, 2048, 4096), repeat: int = 3) -> float:
    """Best GFLOP/s of an n x n by n x n matmul over `sizes`, each the fastest of `repeat` runs."""
    import torch

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    best = 0.0
    for n in sizes:
        fn, flops = matmul(device, dtype, n)
        fn()  # warm-up: the library picks its kernel
        sync()
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            sync()
            best = max(best, flops / (time.perf_counter() - start) / 1e9)
    return best


def peak_memory_gb(device) -> float:
    """This process's peak so far: resident memory on a CPU (VmHWM, the high-water mark of RSS), the
    largest allocation total on CUDA."""
    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM")).split()[1]) / 2**20


def interleaved(fns: dict, repeat: int, sync=lambda: None, warmup: int = 2) -> dict:
    """Fastest time of each function over `repeat` rounds that call them in turn: drifts of a shared
    machine's speed hit every variant alike, so their ratios hold."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync()
    best = {key: float("inf") for key in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            sync()
            best[key] = min(best[key], time.perf_counter() - start)
    return best
