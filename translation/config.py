"""Training configurations: dataclasses with one documented field per hyper-parameter.

Precedence when a run starts: dataclass defaults < --config FILE.yaml < command-line flags.
Each field's `help` is the single place a hyper-parameter is documented; the CLI flags are generated
from these fields, so the flag `--lambda-l1` is the field `lambda_l1`. A field may be a bool, int, float
or str, an `Optional[...]` of one (None: "not set", e.g. a learning rate that defaults to another), or a
`list[...]` of one. Choices come from the registry they name (pass the registry's `names` function).

`TrainConfig` holds what every model shares (data, schedule, device, precision, logging); each model family
adds its architecture options in a subclass, and `--help` shows the two groups apart. An option is declared
once, with option(...); a subclass that changes its default writes only `name: type = default(value)`.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import yaml

from translation.names import BUILTIN_SETS, DEVICES, FEATURE_SPACES, PRECISIONS


def option(default: Any, help: str, choices: tuple | Callable[[], list] | None = None, flag: str | None = None,
           minimum: float | None = None, maximum: float | None = None, commas: bool = False,
           unset: str = "not set", above: float | None = None, below: float | None = None):
    """A config field carrying its CLI help text, and optionally its choices, flag name and numeric range:
    `minimum`/`maximum` inclusive, `above`/`below` exclusive (a learning rate above 0, an Adam beta below 1).
    `commas`: a list option whose flag also takes comma-separated values (--attrs A,B,C as --attrs A B C).
    `unset`: what a None default means, shown in --help as "(default: ...)".
    Declare each option once: a subclass that changes its default writes `name: type = default(value)`."""
    metadata = {"help": help, "choices": choices, "flag": flag, "min": minimum, "max": maximum, "commas": commas,
                "unset": unset, "above": above, "below": below}
    return _field(default, metadata)


def default(value: Any, like: type | None = None):
    """A new default for an option a base class declares: its help, choices, flag and bounds stay in that one
    declaration (TrainConfig.__init_subclass__ copies them here). `like`: a config class of another family
    that declares the option, when two families share it (StarGAN's --flip is pix2pix's)."""
    return _field(value, {"override": True, "like": like})


def _field(default: Any, metadata: dict):
    if isinstance(default, list):  # a fresh list per config, as dataclasses require
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def _declaration(cls, name: str, like: type | None) -> tuple[type, dataclasses.Field] | tuple[None, None]:
    """(class, field) of option `name` in `like`, or else in the nearest dataclass base of `cls`."""
    for klass in [like] if like else cls.__mro__[1:]:
        if dataclasses.is_dataclass(klass):  # fields(), not __dataclass_fields__: no ClassVars
            declared = {f.name: f for f in dataclasses.fields(klass)}.get(name)
            if declared is not None:
                return klass, declared
    return None, None


def _inherit_declarations(cls) -> None:
    """Turn the subclass's default(...) fields into full fields with the declaration's help, choices and bounds,
    and refuse an option declared again with option(...): one declaration per option, so its help cannot drift."""
    annotations = cls.__dict__.get("__annotations__", {})
    for name in annotations:
        value = cls.__dict__.get(name)
        like = value.metadata.get("like") if isinstance(value, dataclasses.Field) else None
        source, declared = _declaration(cls, name, like)
        where = f"{cls.__name__}.{name}"
        if not isinstance(value, dataclasses.Field) or not value.metadata.get("override"):  # a plain value too
            if declared is not None:
                raise TypeError(f"{where}: option {name!r} is declared in a base class already; change its "
                                f"default with `{name}: {declared.type} = default(...)`")
            continue
        if declared is None:
            raise TypeError(f"{where}: default(...) changes an option a base class (or `like`) declares, "
                            "and none declares it; declare it with option(...)")
        if name not in annotations or typing.get_type_hints(cls)[name] != typing.get_type_hints(source)[name]:
            raise TypeError(f"{where}: annotated {annotations.get(name)!r}, declared as {declared.type!r}")
        new = value.default_factory() if value.default is dataclasses.MISSING else value.default
        old = declared.default_factory() if declared.default is dataclasses.MISSING else declared.default
        if like is None and new == old:
            raise TypeError(f"{where}: default({new!r}) is the inherited default already; remove the line")
        metadata = {key: item for key, item in declared.metadata.items() if key != "like"}
        setattr(cls, name, _field(new, {**metadata, "override": True}))


@dataclass
class TrainConfig:
    """options every model shares: data, schedule, device, precision, logging"""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _inherit_declarations(cls)  # before @dataclass reads the fields

    data: str = option("", "data set folder (see README: aligned A|B files, A/ and B/ folders, class "
                           "sub-folders, ...); the noise GANs also take a built-in set: "
                           f"{', '.join(BUILTIN_SETS)} (digits ships with scikit-learn; the others download)")
    name: str = option("experiment", "run name: checkpoints, logs and samples go to <checkpoints-dir>/<name>")
    checkpoints_dir: str = option("checkpoints", "folder that holds one sub-folder per run")
    seed: int = option(0, "random seed; with it a CPU run is bit-for-bit reproducible", minimum=0)
    device: str = option("auto", "where to train", choices=DEVICES)
    threads: int = option(0, "CPU threads for the nets (0 = PyTorch's choice: one per core, or OMP_NUM_THREADS); "
                             "results depend on the count, so a resumed run keeps the setting", minimum=0)
    epochs: int = option(100, "epochs at the initial learning rate", minimum=0)
    epochs_decay: int = option(100, "epochs over which the learning rate decays linearly to zero", minimum=0)
    steps: int = option(0, "if > 0: train this many iterations instead, split between constant and "
                           "decaying learning rate in the ratio epochs : epochs_decay", minimum=0)
    batch_size: int = option(1, "images per batch", minimum=1)
    num_workers: int = option(2, "data loading worker processes (0 = load in the main process)", minimum=0)
    max_dataset_size: int = option(0, "use at most this many training samples (0 = all)", minimum=0)
    # the speed flags: train, translate, sample, evaluate and demo all take them from these three fields
    precision: str = option("fp32", "number format of the nets' arithmetic (see README): fp32, as the official "
                                    "code and published numbers; bf16 is up to 3x faster on CPUs with AVX-512 "
                                    "BF16 or AMX (channels-last) and on recent GPUs, within bfloat16 rounding "
                                    "of fp32 (images: a few 1/255; evaluate labels its scores bf16), but "
                                    "emulated and slower on other CPUs; fp16 for GPUs without bf16 (training "
                                    "adds a gradient scaler)",
                            choices=PRECISIONS)
    channels_last: Optional[bool] = option(None, "keep images and conv weights in NHWC memory layout: faster "
                                                 "convolutions on many CPUs and GPUs, outputs within 1e-6 of the "
                                                 "default layout's",
                                           unset="on for bf16 on a CPU, where bf16 is slow without it; else off")
    compile: bool = option(False, "run the nets through torch.compile: tens of seconds to compile first (and "
                                  "once more for each of height, width and batch size that varies), then "
                                  "faster; a forward pass within 1e-5 of eager mode's; checkpoints as without it")
    sync_bn: bool = option(False, "with several processes (torchrun), batch norm uses the statistics of the "
                                  "global batch instead of each process's share")
    ema_decay: float = option(0.0, "keep an exponential moving average of the generators' weights with this "
                                   "decay (e.g. 0.999; 0 = off); translate uses it when present",
                              minimum=0.0, maximum=0.999999)
    log_every: int = option(100, "iterations between loss logs (TensorBoard and progress bar)", minimum=1)
    image_every: int = option(500, "iterations between image sheets (TensorBoard and samples/)", minimum=1)
    save_every: int = option(1000, "iterations between checkpoints (one is always written at the end)", minimum=1)
    keep_every: int = option(0, "also keep a numbered copy every this many iterations (0 = only latest.pt)",
                             minimum=0)
    eval_every: int = option(0, "iterations between evaluations of the generator on fixed inputs (and one at "
                                "the end; 0 = off): metrics go to TensorBoard (eval/fid, ...) and the best "
                                "checkpoint by the first metric is kept as best.pt (see README)", minimum=0)
    eval_data: str = option("", "the real images to compare against: CycleGAN testB/ (G_A on the sibling "
                                "testA/) or testA/ (G_B on testB/); pix2pix an aligned test/ or val/ folder "
                                "(inputs and targets); StarGAN and the noise GANs any folder of real images")
    eval_inputs: str = option("", "the images to translate where --eval-data does not name them: CycleGAN, "
                                  "a folder (G_A translates it); StarGAN, a data set laid out as --data, "
                                  "whose test split goes to every domain (not set: --data's)")
    eval_metrics: str = option("fid,kid", "comma-separated metrics of `translation evaluate` (fid, kid, is, "
                                          "mode_score, mmd, wasserstein, 1nn, precision_recall, all); pix2pix "
                                          "also psnr, ssim, l1 against the targets; the first decides best.pt")
    eval_count: int = option(0, "translate at most this many inputs (the first in name order; the real set is "
                                "used whole); noise GANs draw this many samples (0 = all inputs; noise GANs: "
                                "as many as --eval-data holds)",
                             minimum=0)
    eval_features: str = option("inception", "feature space of the unpaired metrics, as evaluate --features: "
                                             "pytorch-fid's Inception, or the built-in digits' classifier "
                                             "(scores named *_digits)", choices=FEATURE_SPACES)
    inception_weights: str = option("", "pt_inception-2015-12-05-6726825d.pth for --eval-every (default: "
                                        "$TRANSLATION_INCEPTION_WEIGHTS, then the torch hub cache)")

    @property
    def run_dir(self) -> Path:
        """The run's folder: the one place its path is computed."""
        return Path(self.checkpoints_dir) / self.name

    def check_combinations(self) -> None:
        """Checks between options, after each has passed its own; raise ValueError naming the flags.
        A family adds its own and calls super()."""
        name = Path(self.name)
        if not self.name.strip() or name.is_absolute() or ".." in name.parts or name == Path("."):
            raise ValueError(f"--name {self.name!r} must name a folder inside --checkpoints-dir (the run goes to "
                             "<checkpoints-dir>/<name>)")
        if not self.steps and not self.epochs + self.epochs_decay:
            raise ValueError("--epochs 0 with --epochs-decay 0 trains nothing: give either a number of epochs, or "
                             "--steps")
        if self.keep_every and self.keep_every % self.save_every:
            raise ValueError(f"--keep-every {self.keep_every} must be a multiple of --save-every {self.save_every}: "
                             "numbered copies are made when a checkpoint is saved")
        if self.eval_every:
            from translation.metrics.formulas import parse_eval_metrics

            if not self.eval_data:
                raise ValueError(f"--eval-every {self.eval_every} needs --eval-data (the real images to compare "
                                 "against)")
            try:
                parse_eval_metrics(self.eval_metrics)
            except ValueError as error:
                raise ValueError(f"--eval-metrics {self.eval_metrics}: {error}") from None


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def from_dict(cls, values: dict, source: str = "config", flags_given: frozenset = frozenset()):
    """Build `cls` from a mapping, rejecting unknown keys with the list of valid ones. Errors about the
    options in `flags_given` name the flag (--batch-size); others name the key in `source`."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{source}: unknown option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(names))}")
    config = cls(**values)
    validate(config, source, flags_given)
    return config


# --- types ------------------------------------------------------------------------------------------

def _unwrap(annotation) -> tuple[type, bool, bool]:
    """(scalar type, optional, is_list) of a supported field annotation."""
    optional = False
    if typing.get_origin(annotation) is Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional, annotation = True, args[0]
    if typing.get_origin(annotation) in (list, typing.List):
        return typing.get_args(annotation)[0], optional, True
    return annotation, optional, False


def _check_scalar(kind: type, value, label: str):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise ValueError(f"{label} must be {kind.__name__}, got {value!r}")
    if kind is float and value != value:
        raise ValueError(f"{label} must be a number, got nan")
    return value


def choices_of(f: dataclasses.Field) -> Optional[tuple]:
    choices = f.metadata.get("choices")
    return tuple(choices()) if callable(choices) else choices


def validate(config, source: str = "config", flags_given: frozenset = frozenset()) -> None:
    """Type, choice and range checks, then the checks between options, so a bad value fails at start-up,
    not mid-epoch. Messages name the flag for options given as flags, else the key in `source`."""
    types = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        label = flag_name(f) if f.name in flags_given else f"{source}: {f.name}"
        value = getattr(config, f.name)
        kind, optional, is_list = _unwrap(types[f.name])
        if value is None:
            if not optional:
                raise ValueError(f"{label} must be set")
            continue
        if is_list:
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{label} must be a list of {kind.__name__}, got {value!r}")
            value = [_check_scalar(kind, v, label) for v in value]
        else:
            value = _check_scalar(kind, value, label)
        setattr(config, f.name, value)
        choices = choices_of(f)
        for item in (value if is_list else [value]):
            if choices and item not in choices:
                raise ValueError(f"{label} must be one of {', '.join(map(str, choices))}, got {item!r}")
            bounds = _bounds(f)
            if bounds and not bounds[0](item):
                raise ValueError(f"{label} must be {bounds[1]}, got {item!r}")
    config.check_combinations()


def _bounds(f: dataclasses.Field) -> tuple[Callable[[Any], bool], str] | None:
    """(test, description) of the field's numeric range: ">= 1", "> 0", "in [0, 1)"; None if it has none."""
    low, high = f.metadata.get("min"), f.metadata.get("max")
    above, below = f.metadata.get("above"), f.metadata.get("below")
    lower = f"[{low}" if low is not None else f"({above}" if above is not None else None
    upper = f"{high}]" if high is not None else f"{below})" if below is not None else None
    if not (lower or upper):
        return None
    if lower and upper:
        text = f"in {lower}, {upper}"
    elif lower:  # one side: "[1" -> ">= 1", "(0" -> "> 0"
        text = {"[": ">= ", "(": "> "}[lower[0]] + lower[1:]
    else:  # "1]" -> "<= 1", "1)" -> "< 1"
        text = {"]": "<= ", ")": "< "}[upper[-1]] + upper[:-1]

    def test(item) -> bool:
        return ((low is None or item >= low) and (high is None or item <= high)
                and (above is None or item > above) and (below is None or item < below))
    return test, text


# --- YAML -------------------------------------------------------------------------------------------

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


# --- command line -----------------------------------------------------------------------------------

def flag_name(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _groups(cls) -> list[tuple[str, list[dataclasses.Field]]]:
    """Fields grouped by the dataclass that first declares them, base classes first."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    groups, placed = [], set()
    for klass in reversed([k for k in cls.__mro__ if dataclasses.is_dataclass(k)]):
        own = [fields[name] for name in klass.__dict__.get("__annotations__", {}) if name in fields
               and name not in placed]
        placed.update(f.name for f in own)
        if own:
            groups.append(((klass.__doc__ or klass.__name__).strip().splitlines()[0], own))
    return groups


def _describe_default(f: dataclasses.Field, default: Any = dataclasses.MISSING) -> str:
    """`default` (the field's own when not given) as --help shows it."""
    if default is dataclasses.MISSING:
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
    if isinstance(default, bool):
        return "on" if default else "off"
    if default is None or default == "":
        return f.metadata.get("unset", "not set")
    if isinstance(default, list):
        return " ".join(map(str, default)) or "none"
    return str(default)


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """One flag per config field, in one help group per declaring class; defaults are None so we can tell
    which flags were given."""
    for title, fields in _groups(cls):
        group = parser.add_argument_group(title)
        for f in fields:
            add_field_argument(group, cls, f.name)


def add_field_argument(group, cls, name: str, default: Any = None) -> None:
    """Add the flag of `cls`'s field `name` to `group` (a parser or an argument group), with the field's help,
    choices and type. `default`: the value when the flag is not given. None (what `resolve` needs to tell the
    given flags apart) shows the field's own default in --help; another value is shown as the default."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    kind, _, is_list = _unwrap(_field_types(cls)[name])
    kwargs: dict[str, Any] = {"default": default, "dest": f.name}
    shown = _describe_default(f) if default is None else _describe_default(f, default)
    help_text = f"{f.metadata.get('help', '')} (default: {shown})"
    if kind is bool and not is_list:
        group.add_argument(flag_name(f), action=argparse.BooleanOptionalAction, help=help_text, **kwargs)
        return
    choices = choices_of(f)
    if choices:
        kwargs["choices"] = choices
    if is_list:
        kwargs["nargs"] = "+"
    if is_list and f.metadata.get("commas"):
        # each word may hold several values: split them, and flatten the words' lists into one
        group.add_argument(flag_name(f), type=_comma_separated(kind), action=_Flatten, help=help_text,
                           **{k: v for k, v in kwargs.items() if k != "choices"})
        return
    group.add_argument(flag_name(f), type=kind, help=help_text, **kwargs)


@functools.cache
def _field_types(cls) -> dict[str, Any]:
    """typing.get_type_hints(cls), once per class: it evaluates every annotation of the class and its bases, and
    building the command line's parser adds ~700 flags (once each: ~1 s at every `translation` command)."""
    return typing.get_type_hints(cls)


def _comma_separated(kind: type):
    def parse(text: str) -> list:
        return [kind(part) for part in text.split(",") if part.strip()]
    parse.__name__ = kind.__name__
    return parse


class _Flatten(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [value for word in values for value in word])


def resolve(cls, args: argparse.Namespace, config_file: str | None = None):
    """Defaults, then the YAML file, then the flags the user actually gave."""
    values: dict[str, Any] = {}
    if config_file:
        values.update(load_yaml(config_file))
    flags = given_flags(cls, args)
    values.update(flags)
    return from_dict(cls, values, source=config_file or "options", flags_given=frozenset(flags))


def given_flags(cls, args: argparse.Namespace) -> dict[str, Any]:
    """The options the user gave on the command line (parsed flags default to None)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
