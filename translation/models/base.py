"""The two-player model the trainer drives, and how nets are described in checkpoints.

A model owns its nets, optimizers and losses and exposes one `training_step(batch)` that performs its
discriminator and generator updates in the order its paper prescribes; the trainer knows nothing about
losses. Everything needed to rebuild a net later is recorded as a *spec* (kind, architecture, kwargs),
so checkpoints describe themselves and inference needs no architecture flags.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from translation.nets import create_discriminator, create_generator

MODELS: dict[str, type["TranslationModel"]] = {}


def register_model(name: str):
    def decorator(cls):
        cls.name = name
        MODELS[name] = cls
        return cls
    return decorator


def build_net(spec: dict) -> nn.Module:
    """Rebuild a net from its recorded spec {"kind", "name", "kwargs"}."""
    factory = {"generator": create_generator, "discriminator": create_discriminator}.get(spec["kind"])
    if factory is None:
        raise ValueError(f"unknown net kind {spec['kind']!r}")
    return factory(spec["name"], **spec["kwargs"])


def set_requires_grad(nets, flag: bool) -> None:
    """Freeze a discriminator while the generator steps, so no gradient is wasted on it."""
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(flag)


class TranslationModel(nn.Module):
    name: ClassVar[str] = ""
    config_class: ClassVar[type]
    test_mode: ClassVar[str] = "eval"  # default inference behaviour recorded in checkpoints

    def __init__(self, config, device: torch.device):
        super().__init__()
        self.config = config
        self.device = device
        self.nets = nn.ModuleDict()
        self.net_specs: dict[str, dict] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    # --- construction helpers -------------------------------------------------------------
    def add_net(self, key: str, kind: str, arch: str, **kwargs) -> nn.Module:
        spec = {"kind": kind, "name": arch, "kwargs": kwargs}
        net = build_net(spec).to(self.device)
        self.net_specs[key] = spec
        self.nets[key] = net
        return net

    def adam(self, *nets: nn.Module) -> torch.optim.Optimizer:
        params = [p for net in nets for p in net.parameters()]
        c = self.config
        return torch.optim.Adam(params, lr=c.lr, betas=(c.beta1, c.beta2))

    # --- what subclasses provide ----------------------------------------------------------
    @classmethod
    def build_dataset(cls, config):
        raise NotImplementedError

    def translators(self) -> dict[str, str]:
        """{direction: generator key}, e.g. {"AtoB": "G"}."""
        raise NotImplementedError

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """One full update (D and G); returns detached scalar losses by name."""
        raise NotImplementedError

    def visuals(self) -> dict[str, torch.Tensor]:
        """Named image batches in [-1, 1] from the last training step, in display order."""
        raise NotImplementedError

    # --- checkpoint state -----------------------------------------------------------------
    def extra_state(self) -> dict:
        """Model-specific training state beyond nets and optimizers (e.g. image pools)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def state_for_checkpoint(self) -> dict:
        return {
            "model": self.name,
            "net_specs": self.net_specs,
            "translators": self.translators(),
            "test_mode": self.test_mode,
            "nets": {k: v.state_dict() for k, v in self.nets.items()},
            "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
            "extra": self.extra_state(),
        }

    def load_from_checkpoint(self, state: dict) -> None:
        for key, net in self.nets.items():
            net.load_state_dict(state["nets"][key])
        for key, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][key])
        self.load_extra_state(state.get("extra", {}))
