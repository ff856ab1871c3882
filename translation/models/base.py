"""The contract between a GAN model and the engine that trains it.

A model *declares*; the engine (training/engine.py) *does*. This is everything the engine, the trainer
(training/trainer.py), the health monitor (training/health.py) and the periodic evaluation
(training/periodic_eval.py) read from a model; who reads each is in brackets:

    nets            add_net(key, kind, arch, **options) in __init__; `self.<key>` is that net as it runs
                    (compiled or wrapped when the run asks; the raw net in self.nets is what is saved)
                    [all]; remove_net(key) drops a net a parent class built
    net_specs       {net: spec}, filled by add_net: how to rebuild each net [trainer's checkpoints, evaluation]
    optimizers()    {name: OptimizerSpec(nets=..., kind, lr, betas, ...)} [engine]
    phases()        [Phase(name, nets, optimizer, loss, every, weight, after_step), ...] in update order [engine]
    forward(batch)  the shared forward of a step, computed once under autocast: a dict of tensors that
                    every phase's loss method reads (pix2pix's G(A); CycleGAN's four generator passes)
                    [engine; health's diversity probe compares outputs named fake* with real* of the same suffix]
    generators()    {net: record}: what each generator does (checkpoint.py's translates / translates_to_domains
                    / samples), for checkpoints and inference [trainer; engine: EMA per generator; evaluation:
                    what to evaluate and how, from each record's task, direction and `paired`]
    visuals(outputs) named image batches in [-1, 1] for sheets, from a step's outputs [trainer]
    build_dataset(config) (classmethod) [trainer]
    extra_state()/load_extra_state() for state beyond nets and optimizers (image pools) [trainer]
    test_mode       class attribute: the default inference behaviour recorded in checkpoints [trainer, evaluation]
    adversarial_terms  optional class attribute {net: (term, ...)} naming each net's adversarial loss terms where
                    they are not named after the net or conventionally (D_real, D_fake, G_GAN, G_fake) [health]
    config          the model's config [health reads gan_mode]; `name` is set by register_model [trainer]
    progress        set by the trainer before each step: the fraction of training done (for annealing)
    use_running_nets(running)  called by the engine with the nets to call (compiled, wrapped)

A model is built as `Model(config, device, data)`; `data` is the training set, for models whose nets are
sized by it (StarGAN's label count and names).

Loss methods return named loss terms and nothing else: gradients, optimizer updates and freezing the nets
a phase does not train are the engine's job (tests/test_contract.py holds every registered model to this).
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from translation.nets import create_net, spec_of
from translation.training.phases import OptimizerSpec

MODELS: dict[str, type["GANModel"]] = {}


def register_model(name: str):
    def decorator(cls):
        from translation.models import CONFIGS

        if CONFIGS.get(name) is not cls.config_class:
            raise ValueError(f"model {name!r}: add it to CONFIGS in translation/models/__init__.py with its "
                             "config class, so the command line offers it")
        cls.name = name
        MODELS[name] = cls
        return cls
    return decorator


class GANModel:
    name: ClassVar[str] = ""
    progress: float = 0.0  # the fraction of training done, set by the trainer before each step (annealing)
    config_class: ClassVar[type]
    test_mode: ClassVar[str] = "eval"  # default inference behaviour recorded in checkpoints

    def __init__(self, config, device: torch.device, data=None):
        self.config = config
        self.device = torch.device(device)
        self.nets = nn.ModuleDict()
        self.net_specs: dict[str, dict] = {}
        self._running: dict[str, nn.Module] = {}

    # --- nets --------------------------------------------------------------------------------------
    def add_net(self, key: str, kind: str, arch: str, init: str = "normal", init_gain: float = 0.02,
                **options) -> None:
        """Build a registered net on the model's device; `self.<key>` calls it from then on."""
        net = create_net(kind, arch, init=init, init_gain=init_gain, **options).to(self.device)
        self.nets[key] = net
        self.net_specs[key] = spec_of(net)
        self._running[key] = net

    def remove_net(self, key: str) -> dict:
        """Drop net `key` and return its spec: for a subclass that replaces a net its parent built (MAD-GAN's
        k generators in place of the family's one G)."""
        del self.nets[key], self._running[key]
        return self.net_specs.pop(key)

    def use_running_nets(self, running: dict[str, nn.Module]) -> None:
        """The engine hands in the versions of the nets to call (compiled, DDP-wrapped); saving still
        reads self.nets."""
        self._running = dict(running)

    def __getattr__(self, name: str):
        # only reached when normal lookup fails: `self.G` is the running version of net "G"
        running = self.__dict__.get("_running", {})
        if name in running:
            return running[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or net {name!r}")

    # --- what subclasses declare -------------------------------------------------------------------
    @classmethod
    def build_dataset(cls, config):
        raise NotImplementedError

    def generators(self) -> dict[str, dict]:
        raise NotImplementedError

    def optimizers(self) -> dict:
        raise NotImplementedError

    def phases(self) -> list:
        raise NotImplementedError

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def extra_state(self) -> dict:
        """Model-specific training state beyond nets and optimizers (e.g. image pools)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass


def generator_and_discriminator_optimizers(config, generators: tuple[str, ...],
                                           discriminators: tuple[str, ...]) -> dict[str, OptimizerSpec]:
    """One optimizer over the generators and one over the discriminators, as the official codes."""
    return {"G": generator_optimizer(config, generators), "D": discriminator_optimizer(config, discriminators)}


def generator_optimizer(config, nets: tuple[str, ...]) -> OptimizerSpec:
    """An optimizer over generator nets from a GANConfig: --optimizer, --lr and the betas."""
    return OptimizerSpec(tuple(nets), kind=config.optimizer, lr=config.lr, betas=(config.beta1, config.beta2))


def discriminator_optimizer(config, nets: tuple[str, ...]) -> OptimizerSpec:
    """An optimizer over discriminator nets: the generators' settings, but --optimizer-D (the noise GANs have it)
    and --lr-D where they are set."""
    kind = getattr(config, "optimizer_D", None) or config.optimizer
    return OptimizerSpec(tuple(nets), kind=kind, lr=discriminator_lr(config), betas=(config.beta1, config.beta2))


def discriminator_lr(config) -> float:
    """The discriminators' initial learning rate: --lr-D, or --lr when it is not set."""
    return config.lr_D if config.lr_D is not None else config.lr
