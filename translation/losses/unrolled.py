"""UnrolledGAN's look-ahead critic (Metz et al. 2017): D after k gradient steps on its own objective, as a
function of the images it judges, so that G's loss against it carries G's gradient through the steps.

The steps are taken on copies of D's weights with the graph kept; D itself is left as it is (its own update
is the D phase's). Plain gradient steps at D's learning rate stand in for D's optimizer.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call


def unrolled_critic(net: nn.Module, objective: Callable, steps: int, lr: float) -> Callable:
    """`objective(critic)` is D's loss at this batch given a critic (images -> scores); returns that critic
    after `steps` steps of lr * gradient descent on it."""
    weights = {name: p.detach().requires_grad_(True) for name, p in net.named_parameters()}
    buffers = {name: b.clone() for name, b in net.named_buffers()}  # batch norm's running statistics

    def critic_with(params):
        return lambda images, *extra: functional_call(net, (params, buffers), (images, *extra))

    for _ in range(steps):
        grads = torch.autograd.grad(objective(critic_with(weights)), list(weights.values()), create_graph=True)
        weights = {name: w - lr * g for (name, w), g in zip(weights.items(), grads)}
    return critic_with(weights)
