"""Name -> builder registries (timm style) and the factories used by models, inference and the CLI.

Builders register themselves with `@register_generator` / `@register_discriminator` in their own
modules; `translation.nets` imports those modules, so importing anything from the package fills the
registries. Architecture options pass straight through to the builder (timm's `create_model(name, **kwargs)`):
a new net declares its own arguments (label count, image size, z size, ...) in its builder's signature and
the factories need no change. `spec_of(net)` / `build_net(spec)` turn a net into a plain description and back,
which is what checkpoints store.

Spectral normalisation is the one option applied here rather than by a builder: `spectral_norm=True` works on
every discriminator (PatchGANs, StarGAN's, the sample critics) and is recorded among the discriminator's kwargs,
so `build_net(spec)` rebuilds the parametrized layers its state dict needs.
"""
from __future__ import annotations

import inspect
from typing import Callable, Dict, List

from torch import nn

from translation.names import DISCRIMINATORS, GENERATORS, check_registered

from .layers import NORMS, apply_spectral_norm, check_init, init_weights

NET_KINDS = ("generator", "discriminator")


class Registry:
    def __init__(self, kind: str, declared: tuple):
        self.kind, self.declared = kind, declared
        self._builders: Dict[str, Callable[..., nn.Module]] = {}

    def register(self, fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = fn.__name__
        check_registered(self.kind, name, self.declared)
        if name in self._builders:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._builders[name] = fn
        return fn

    def names(self) -> List[str]:
        return [name for name in self.declared if name in self._builders]

    def get(self, name: str) -> Callable[..., nn.Module]:
        if name not in self._builders:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}")
        return self._builders[name]

    def __contains__(self, name: object) -> bool:
        return name in self._builders


GENERATOR_REGISTRY = Registry("generator", GENERATORS)
DISCRIMINATOR_REGISTRY = Registry("discriminator", DISCRIMINATORS)
register_generator = GENERATOR_REGISTRY.register
register_discriminator = DISCRIMINATOR_REGISTRY.register
_REGISTRIES = {"generator": GENERATOR_REGISTRY, "discriminator": DISCRIMINATOR_REGISTRY}


def register_as(kind: str, name: str):
    """Decorator: register a builder under `name` (a generator and a discriminator may share one, "stargan")."""
    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        fn.__name__ = fn.__qualname__ = name
        return _REGISTRIES[kind].register(fn)
    return wrap


def register_class(kind: str, name: str, cls: type) -> Callable[..., nn.Module]:
    """Register a net class as its own builder: its __init__ signature is the options `create_net` accepts."""
    def build(**kwargs) -> nn.Module:
        return cls(**kwargs)

    build.__signature__ = inspect.signature(cls)
    build.__doc__ = cls.__doc__
    return register_as(kind, name)(build)


def list_generators() -> List[str]:
    return GENERATOR_REGISTRY.names()


def list_discriminators() -> List[str]:
    return DISCRIMINATOR_REGISTRY.names()


def _bind(registry: Registry, name: str, kwargs: dict) -> dict:
    """The builder's arguments with its defaults filled in; unknown or missing ones are a readable error."""
    builder = registry.get(name)
    signature = inspect.signature(builder)
    try:
        bound = signature.bind(**kwargs)
    except TypeError as error:
        accepted = ", ".join(signature.parameters)
        raise ValueError(f"{registry.kind} {name!r}: {error}; it takes {accepted}") from None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    if "norm" in arguments and arguments["norm"] not in NORMS:
        raise ValueError(f"unknown norm {arguments['norm']!r}; choose one of {', '.join(NORMS)}")
    for arg, value in arguments.items():  # sizes and counts
        if arg in ("in_channels", "out_channels", "ngf", "ndf", "n_layers", "z_dim") and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValueError(f"{arg} must be a positive integer, got {value!r}")
    return arguments


def create_net(kind: str, name: str, *, init: str = "normal", init_gain: float = 0.02,
               spectral_norm: bool = False, **kwargs) -> nn.Module:
    """Build and initialise a registered net of `kind` ("generator" or "discriminator").

    spectral_norm (discriminators only) wraps every conv/linear/embedding weight after the init.
    """
    if kind not in _REGISTRIES:
        raise ValueError(f"unknown net kind {kind!r}; choose one of {', '.join(NET_KINDS)}")
    registry = _REGISTRIES[kind]
    check_init(init)
    if not isinstance(spectral_norm, bool):
        raise ValueError(f"spectral_norm must be True or False, got {spectral_norm!r}")
    if spectral_norm and kind != "discriminator":
        raise ValueError(f"spectral_norm is a discriminator option ({kind} {name!r} was asked for it)")
    arguments = _bind(registry, name, kwargs)
    net = registry.get(name)(**arguments)
    init_weights(net, init, init_gain)
    if spectral_norm:
        apply_spectral_norm(net)
    net.config = dict(kind=kind, name=name, **arguments)  # what spec_of() and error messages read
    if kind == "discriminator":  # always said, so a spec tells whether its state dict is parametrized
        net.config["spectral_norm"] = spectral_norm
    return net


def create_generator(name: str, *, init: str = "normal", init_gain: float = 0.02, **kwargs) -> nn.Module:
    """Build and initialise a registered generator, e.g. `create_generator("unet_256", ngf=64, dropout=True)`."""
    return create_net("generator", name, init=init, init_gain=init_gain, **kwargs)


def create_discriminator(name: str, *, init: str = "normal", init_gain: float = 0.02, **kwargs) -> nn.Module:
    """Build and initialise a registered discriminator, e.g. `create_discriminator("basic", in_channels=6)`."""
    return create_net("discriminator", name, init=init, init_gain=init_gain, **kwargs)


def build_net(spec: dict) -> nn.Module:
    """Rebuild a net from its recorded spec {"kind", "name", "kwargs"} (weights are loaded separately)."""
    return create_net(spec.get("kind"), spec["name"], **spec["kwargs"])


def spec_of(net: nn.Module) -> dict:
    """The plain description of a net built by the factories: {"kind", "name", "kwargs"}."""
    config = dict(net.config)
    return {"kind": config.pop("kind"), "name": config.pop("name"), "kwargs": config}


def count_parameters(net: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable_only)
