"""Training configurations: dataclasses with one documented field per hyper-parameter.

Precedence when a run starts: dataclass defaults < --config FILE.yaml < command-line flags.
Each field's `help` is the single place a hyper-parameter is documented; the CLI flags are generated
from these fields, so the flag `--lambda-l1` is the field `lambda_l1`.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


def option(default: Any, help: str, choices: tuple | None = None, flag: str | None = None):
    """A config field carrying its CLI help text (and optional choices / custom flag name)."""
    return field(default=default, metadata={"help": help, "choices": choices, "flag": flag})


@dataclass
class TrainConfig:
    """Options shared by every model trained with the generic trainer."""

    data: str = option("", "data set folder (see README: aligned A|B files, A/ and B/ folders, ...)")
    name: str = option("experiment", "run name: checkpoints, logs and samples go to <checkpoints-dir>/<name>")
    checkpoints_dir: str = option("checkpoints", "folder that holds one sub-folder per run")
    seed: int = option(0, "random seed; with it a CPU run is bit-for-bit reproducible")
    device: str = option("auto", "where to train", choices=("auto", "cpu", "cuda", "mps"))
    epochs: int = option(100, "epochs at the initial learning rate")
    epochs_decay: int = option(100, "epochs over which the learning rate decays linearly to zero")
    steps: int = option(0, "if > 0: train this many iterations instead, split between constant and "
                           "decaying learning rate in the ratio epochs : epochs_decay")
    batch_size: int = option(1, "images per batch")
    num_workers: int = option(2, "data loading worker processes (0 = load in the main process)")
    max_dataset_size: int = option(0, "use at most this many training samples (0 = all)")
    preprocess: str = option("resize_and_crop", "training-time resizing",
                             choices=("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none"))
    load_size: int = option(286, "images are resized to this size first")
    crop_size: int = option(256, "then randomly cropped to this size")
    flip: bool = option(True, "random horizontal flips (--no-flip to disable)")
    input_nc: int = option(3, "channels of the input images (1 = grayscale)")
    output_nc: int = option(3, "channels of the output images")
    netG: str = option("unet_256", "generator architecture", flag="--netG")
    netD: str = option("basic", "discriminator architecture: basic (70x70 PatchGAN), n_layers, pixel",
                       flag="--netD")
    n_layers_D: int = option(3, "discriminator depth when --netD n_layers", flag="--n-layers-D")
    ngf: int = option(64, "generator filters in the first/last conv layer")
    ndf: int = option(64, "discriminator filters in the first conv layer")
    norm: str = option("batch", "normalisation layers", choices=("batch", "instance", "none"))
    dropout: bool = option(False, "dropout in the generator (--no-dropout to disable)")
    init: str = option("normal", "weight initialisation", choices=("normal", "xavier", "kaiming", "orthogonal"))
    init_gain: float = option(0.02, "scale of the initial weights")
    gan_mode: str = option("vanilla", "adversarial loss", choices=("vanilla", "lsgan", "wgan", "hinge"))
    lr: float = option(2e-4, "initial Adam learning rate")
    beta1: float = option(0.5, "Adam beta1")
    beta2: float = option(0.999, "Adam beta2")
    log_every: int = option(100, "iterations between loss logs (TensorBoard and progress bar)")
    image_every: int = option(500, "iterations between image sheets (TensorBoard and samples/)")
    save_every: int = option(1000, "iterations between checkpoints (one is always written at the end)")
    keep_every: int = option(0, "also keep a numbered copy every this many iterations (0 = only latest.pt)")

    @property
    def run_dir(self) -> Path:
        return Path(self.checkpoints_dir) / self.name


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def from_dict(cls, values: dict, source: str = "config"):
    """Build `cls` from a mapping, rejecting unknown keys with the list of valid ones."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{source}: unknown option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(names))}")
    config = cls(**values)
    validate(config, source)
    return config


def validate(config, source: str = "config") -> None:
    """Type and choice checks so a bad value fails at start-up, not mid-epoch."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        expected = type(f.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            setattr(config, f.name, float(value))
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValueError(f"{source}: {f.name} must be {expected.__name__}, got {value!r}")
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise ValueError(f"{source}: {f.name} must be one of {', '.join(choices)}, got {value!r}")


def load_yaml(path) -> dict:
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read config file {path}: {error}") from None
    if not isinstance(values, dict):
        raise ValueError(f"config file {path} must hold a mapping of option: value")
    return values


def save_yaml(config, path) -> None:
    from translation.utils.files import atomic_write_text

    atomic_write_text(Path(path), yaml.safe_dump(to_dict(config), sort_keys=False))


def flag_name(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """One flag per config field; defaults are None so we can tell which flags were given."""
    for f in dataclasses.fields(cls):
        kwargs: dict[str, Any] = {"default": None, "dest": f.name}
        help_text = f"{f.metadata.get('help', '')} (default: {f.default})"
        if isinstance(f.default, bool):
            parser.add_argument(flag_name(f), action=argparse.BooleanOptionalAction, help=help_text, **kwargs)
            continue
        if f.metadata.get("choices"):
            kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(flag_name(f), type=type(f.default), help=help_text, **kwargs)


def resolve(cls, args: argparse.Namespace, config_file: str | None = None):
    """Defaults, then the YAML file, then the flags the user actually gave."""
    values: dict[str, Any] = {}
    if config_file:
        values.update(load_yaml(config_file))
    for f in dataclasses.fields(cls):
        given = getattr(args, f.name, None)
        if given is not None:
            values[f.name] = given
    return from_dict(cls, values, source=config_file or "options")
