"""Training on several processes (torchrun): one process per GPU or CPU share, one global batch per step.

    torchrun --nproc-per-node 4 -m translation train pix2pix --data ... --batch-size 16

`--batch-size` is the global batch: each of the W processes takes its contiguous share of every batch of
the training order (schedule.py), so the data order, the learning-rate schedule and a checkpoint do not
depend on W, and a run saved with one W resumes with another.

Why no DistributedDataParallel: DDP assumes one forward and one backward per iteration through a module
whose trainable parameters are fixed. The engine runs a shared forward once, then several phases (D, G,
regularisers every k steps), each with its own backward, with the other nets frozen. So, as StyleGAN2-ADA
and StyleGAN3 do, the engine sums each phase's gradients across processes itself, between backward and
step, which is the arithmetic of DDP under the engine's control:

    each process scales its loss by (its share / global batch) before backward, then the gradients are
    summed (one all-reduce per phase, the logged loss terms riding along): the result is the gradient of the
    global batch's mean loss, also through synchronised batch norm, and every process takes the same step.

The weights start equal (broadcast from rank 0) and stay equal; batch-norm running statistics are
broadcast from rank 0 after every step, as DataParallel in the official code keeps those of its first
replica, so what rank 0 saves is what every process holds. Without --sync-bn each process normalises its
own share (as DataParallel did per GPU); with it the statistics are those of the global batch
(SyncBatchNorm below: torch's own runs on GPUs only).

Random states: rank 0 draws the stream a single process would (saved as the checkpoint's `rng`); the others
draw their own (dropout, noise, image-pool coin flips), seeded from (seed, rank, step) at the start, and every
rank's state is saved too (`rng_ranks`), so a run resumed on as many processes continues exactly. Resumed on
another number of processes, or from a checkpoint without them, the others are seeded again from (seed, rank,
step): the run repeats, but is not the uninterrupted one (whose other ranks drew other numbers).

Without torchrun's variables (WORLD_SIZE unset or 1) `SingleProcess` stands in and nothing changes.
"""
from __future__ import annotations

import contextlib
import datetime
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from translation.training.random_state import capture_rng_state
from translation.utils.device import seed_everything

# a process that waits this long on the others gives up with an error instead of hanging for ever; long
# enough for rank 0's evaluations (--eval-every), which the others wait out at the next step
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)
_alone = False  # set by this_process_only()


class SingleProcess:
    """One process: every collective is the identity."""

    rank, world_size, local_rank = 0, 1, 0
    is_main = True

    def start(self, device: torch.device) -> torch.device:
        return device

    def say_job(self, batch_size: int) -> None:
        pass  # one process: the output stays as it always was

    def close(self) -> None:
        pass

    def sum_gradients(self, params: list[torch.nn.Parameter], values: torch.Tensor) -> torch.Tensor:
        return values

    def any(self, flag: bool) -> bool:
        return flag

    def broadcast_nets(self, nets) -> None:
        pass

    def broadcast_buffers(self, nets) -> None:
        pass

    def seed_own_streams(self, seed: int, step: int) -> None:
        pass

    def gather_random_states(self) -> list[dict] | None:
        return None  # the checkpoint's `rng` is this process's

    def use_sync_batch_norm(self, nets: nn.ModuleDict) -> int:
        return 0  # one process: batch norm already sees the whole batch

    def barrier(self) -> None:
        pass


class ProcessGroup(SingleProcess):
    """Process `rank` of `world_size`, started by torchrun (its RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
    MASTER_PORT variables); gloo on CPUs, nccl on CUDA with one GPU per process (cuda:LOCAL_RANK)."""

    def __init__(self, rank: int, world_size: int, local_rank: int):
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.is_main = rank == 0
        self.device = torch.device("cpu")

    def start(self, device: torch.device) -> torch.device:
        if device.type == "cuda":
            if self.local_rank >= torch.cuda.device_count():
                raise ValueError(f"process {self.rank} has LOCAL_RANK {self.local_rank} but this machine shows "
                                 f"{torch.cuda.device_count()} GPU(s): give --nproc-per-node at most that many")
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        elif device.type != "cpu":
            raise ValueError(f"--device {device.type}: training on several processes needs cpu or cuda")
        self.device = device
        self.backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(self.backend, rank=self.rank, world_size=self.world_size, timeout=COLLECTIVE_TIMEOUT)
        return device

    def say_job(self, batch_size: int) -> None:
        """One line on rank 0: how many processes, how they talk, and how the global batch splits."""
        say(self, f"training on {self.world_size} processes ({self.backend}), global batch {batch_size}: "
                  f"{batch_size // self.world_size} per process")

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()

    @torch.no_grad()
    def sum_gradients(self, params: list[torch.nn.Parameter], values: torch.Tensor) -> torch.Tensor:
        """Sum the gradients of `params` (those that have one) and `values` over the processes, in one
        all-reduce; the gradients are replaced in place, the summed values returned."""
        grads = [p.grad for p in params if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads] + [values.to(self.device, torch.float32)])
        dist.all_reduce(flat)
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset:offset + grad.numel()].view(grad.shape))
            offset += grad.numel()
        return flat[offset:].to(values.device)

    def any(self, flag: bool) -> bool:
        """True on every process if `flag` is true on any (a stop request reaches all at the same step)."""
        tensor = torch.tensor([float(flag)], device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return bool(tensor.item())

    @torch.no_grad()
    def broadcast_nets(self, nets) -> None:
        """Rank 0's weights and buffers everywhere (the starting point, fresh or resumed)."""
        for net in nets:
            _broadcast([*net.parameters(), *net.buffers()])

    @torch.no_grad()
    def broadcast_buffers(self, nets) -> None:
        """Rank 0's buffers (batch-norm running statistics) everywhere: those are what it saves."""
        _broadcast([buffer for net in nets for buffer in net.buffers()])

    def seed_own_streams(self, seed: int, step: int) -> None:
        """Ranks other than 0 draw their own dropout, noise and image-pool coin flips, from (seed, rank, step):
        runs repeat, and rank 0 keeps the stream (saved in checkpoints) a single process would draw."""
        if self.rank:
            seed_everything(int(np.random.SeedSequence([seed, self.rank, step]).generate_state(1)[0]))

    def gather_random_states(self) -> list[dict] | None:
        """Every rank's random state, in rank order, on rank 0 (None elsewhere): a collective, so every process
        calls it at the same steps."""
        states = [None] * self.world_size if self.is_main else None
        dist.gather_object(capture_rng_state(), states, dst=0)
        return states

    def use_sync_batch_norm(self, nets: nn.ModuleDict) -> int:
        """Replace every batch norm of `nets` by SyncBatchNorm (same parameters and buffers, so checkpoints
        are unchanged); returns how many were replaced."""
        replaced = 0
        for net in nets.values():
            for parent in net.modules():
                for name, child in parent.named_children():
                    if isinstance(child, nn.modules.batchnorm._BatchNorm) and not isinstance(child, SyncBatchNorm):
                        setattr(parent, name, SyncBatchNorm.replacing(child))
                        replaced += 1
        return replaced

    def barrier(self) -> None:
        dist.barrier()


def _broadcast(tensors: list[torch.Tensor]) -> None:
    """Broadcast from rank 0, one flat tensor per dtype."""
    by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
    for tensor in tensors:
        by_dtype.setdefault(tensor.dtype, []).append(tensor)
    for group in by_dtype.values():
        flat = torch.cat([t.reshape(-1) for t in group])
        dist.broadcast(flat, src=0)
        offset = 0
        for tensor in group:
            tensor.copy_(flat[offset:offset + tensor.numel()].view(tensor.shape))
            offset += tensor.numel()


@contextlib.contextmanager
def this_process_only():
    """Around forwards one process runs alone (rank 0's health probes and evaluations): SyncBatchNorm then
    normalises with this process's statistics, as the others will not join its all-reduces."""
    global _alone
    previous, _alone = _alone, True
    try:
        yield
    finally:
        _alone = previous


def from_environment(environ=os.environ) -> SingleProcess:
    """The processes torchrun started (it sets WORLD_SIZE, RANK, LOCAL_RANK), else a single process."""
    try:
        world_size = int(environ.get("WORLD_SIZE", "1"))
        rank, local_rank = int(environ.get("RANK", "0")), int(environ.get("LOCAL_RANK", "0"))
    except ValueError:
        raise ValueError("WORLD_SIZE, RANK and LOCAL_RANK must be integers (start with torchrun)") from None
    if world_size <= 1:
        return SingleProcess()
    if not 0 <= rank < world_size:
        raise ValueError(f"RANK {rank} is not in [0, WORLD_SIZE {world_size})")
    return ProcessGroup(rank, world_size, local_rank)


class SyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm over the global batch: the statistics are summed over the processes (two-pass: mean,
    then the centred squares), through an all-reduce that autograd differentiates, so gradients are those
    of one process normalising the whole batch. Evaluation mode uses the running statistics as usual."""

    @classmethod
    def replacing(cls, norm: nn.modules.batchnorm._BatchNorm) -> "SyncBatchNorm":
        sync = cls(norm.num_features, norm.eps, norm.momentum, norm.affine, norm.track_running_stats)
        sync.weight, sync.bias = norm.weight, norm.bias  # the same Parameter objects: optimizers see no change
        sync.running_mean, sync.running_var = norm.running_mean, norm.running_var
        sync.num_batches_tracked = norm.num_batches_tracked
        sync.train(norm.training)
        return sync

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input (batch, channels, ...), got {input.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or _alone:
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        data = x.float()
        count = torch.tensor([x.numel() / x.size(1)], device=x.device)
        sums = _SummedOverProcesses.apply(torch.cat([data.sum(dims), count]))
        total = sums[-1].detach()
        mean = sums[:-1] / total
        centred = data - mean.view(shape)
        var = _SummedOverProcesses.apply((centred * centred).sum(dims)) / total
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach() * total / max(float(total) - 1, 1.0))
        return out.to(x.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, unbiased_var: torch.Tensor) -> None:
        self.num_batches_tracked += 1
        momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased_var.to(self.running_var.dtype), momentum)


class _SummedOverProcesses(torch.autograd.Function):
    """y = the sum of x over the processes. Every process's loss depends on y, so the gradient of the global
    loss with respect to each process's x is the sum of the processes' gradients with respect to y.
    (torch.distributed.nn.functional.all_reduce does this too, but is deprecated.)"""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        y = x.clone()
        dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def say(processes: SingleProcess, message: str) -> None:
    """Print on rank 0 only (notes and advice every process would repeat)."""
    if processes.is_main:
        print(message, file=sys.stderr)
