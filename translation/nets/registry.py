"""Name -> builder registries (timm style) and the two factories used by models and the CLI.

Builders register themselves with `@register_generator` / `@register_discriminator` in their own
modules; `translation.nets` imports those modules, so importing anything from the package fills
the registries.
"""
from __future__ import annotations

from typing import Callable, Dict, List

from torch import nn

from .layers import NORMS, check_init, init_weights


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._builders: Dict[str, Callable[..., nn.Module]] = {}

    def register(self, fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = fn.__name__
        if name in self._builders:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._builders[name] = fn
        return fn

    def names(self) -> List[str]:
        return sorted(self._builders)

    def get(self, name: str) -> Callable[..., nn.Module]:
        if name not in self._builders:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}")
        return self._builders[name]

    def __contains__(self, name: object) -> bool:
        return name in self._builders


GENERATOR_REGISTRY = Registry("generator")
DISCRIMINATOR_REGISTRY = Registry("discriminator")
register_generator = GENERATOR_REGISTRY.register
register_discriminator = DISCRIMINATOR_REGISTRY.register


def list_generators() -> List[str]:
    return GENERATOR_REGISTRY.names()


def list_discriminators() -> List[str]:
    return DISCRIMINATOR_REGISTRY.names()


def _check_common(norm: str, init: str, **positive: int) -> None:
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
    check_init(init)
    for arg, value in positive.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{arg} must be a positive integer, got {value!r}")


def create_generator(
    name: str,
    in_channels: int = 3,
    out_channels: int = 3,
    ngf: int = 64,
    norm: str = "batch",
    dropout: bool = False,
    init: str = "normal",
    init_gain: float = 0.02,
) -> nn.Module:
    """Build and initialise a registered generator; `net.config` records the arguments."""
    builder = GENERATOR_REGISTRY.get(name)
    _check_common(norm, init, in_channels=in_channels, out_channels=out_channels, ngf=ngf)
    net = builder(in_channels=in_channels, out_channels=out_channels, ngf=ngf, norm=norm, dropout=bool(dropout))
    init_weights(net, init, init_gain)
    net.config = dict(kind="generator", name=name, in_channels=in_channels, out_channels=out_channels,
                      ngf=ngf, norm=norm, dropout=bool(dropout))
    return net


def create_discriminator(
    name: str,
    in_channels: int,
    ndf: int = 64,
    n_layers: int = 3,
    norm: str = "batch",
    init: str = "normal",
    init_gain: float = 0.02,
) -> nn.Module:
    """Build and initialise a registered discriminator; `n_layers` only matters for 'n_layers'."""
    builder = DISCRIMINATOR_REGISTRY.get(name)
    _check_common(norm, init, in_channels=in_channels, ndf=ndf, n_layers=n_layers)
    net = builder(in_channels=in_channels, ndf=ndf, n_layers=n_layers, norm=norm)
    init_weights(net, init, init_gain)
    net.config = dict(kind="discriminator", name=name, in_channels=in_channels, ndf=ndf,
                      n_layers=n_layers, norm=norm)
    return net


def count_parameters(net: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable_only)
