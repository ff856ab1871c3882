"""A generator with its test mode fixed into plain layers, so an exporter traces exactly that behaviour.

The loaders (Translator, DomainTranslator, Sampler) put each norm and dropout layer in the mode that
`translate` / `sample` run it in; this module reads those modes and replaces the norms by layers whose
behaviour no longer depends on train()/eval():
  - a norm that uses the statistics of its input (paper mode's batch norm, StarGAN's instance norm in paper
    mode, and every instance norm without stored statistics) normalises each image over its own H x W.
    Paper mode translates each image alone, so batch norm there sees a batch of one: its statistics are that
    image's, i.e. instance normalisation with the batch norm's scale and shift. Per image, they also let the
    exported graph take a batch without changing any output.
  - a norm that uses stored statistics (eval mode) becomes batch norm with those statistics (instance norm
    with running statistics computes the same thing).
Dropout left on at test time (pix2pix's paper mode) draws PyTorch's random numbers, which no exported graph
can reproduce: such nets are refused here (source.py exports eval mode instead and says so).
"""
from __future__ import annotations

import copy

import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd
from torch.nn.modules.instancenorm import _InstanceNorm


class ExportError(ValueError):
    """A checkpoint or request that cannot be exported, with the reason and what to do instead."""


class RandomAtTestTime(ExportError):
    """The net draws random numbers at test time (dropout left on)."""


class InputStatisticsNorm(nn.Module):
    """Normalise each image over its own H x W, then the norm's scale and shift (if it has them)."""

    def __init__(self, norm: nn.Module):
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps

    def forward(self, x):
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


class StoredStatisticsNorm(nn.Module):
    """Normalise with the stored running mean and variance, then the norm's scale and shift."""

    def __init__(self, norm: nn.Module):
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps
        self.register_buffer("running_mean", norm.running_mean.detach().clone())
        self.register_buffer("running_var", norm.running_var.detach().clone())

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


def uses_input_statistics(norm: nn.Module) -> bool:
    # as torch's own norms decide: batch statistics in training or when none are stored
    return norm.training or norm.running_mean is None


def freeze_test_mode(net: nn.Module) -> nn.Module:
    """A copy of `net` whose norms behave as they do now whatever its mode, in eval mode, without dropout."""
    random = [name for name, module in net.named_modules() if isinstance(module, _DropoutNd) and module.training]
    if random:
        raise RandomAtTestTime(f"dropout is on at test time ({len(random)} layers, e.g. {random[0]})")
    frozen = copy.deepcopy(net)
    for parent in list(frozen.modules()):
        for name, child in parent.named_children():
            if isinstance(child, (_BatchNorm, _InstanceNorm)):
                fixed = InputStatisticsNorm(child) if uses_input_statistics(child) else StoredStatisticsNorm(child)
                setattr(parent, name, fixed)
    return frozen.eval().requires_grad_(False)
