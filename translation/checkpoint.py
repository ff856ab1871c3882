"""Self-describing checkpoints, written atomically and read without executing code.

Training writes them and inference reads them; this module needs neither (no training imports here).
A checkpoint is a plain dict of tensors and primitives, loadable with `weights_only=True`:

    format, version   "translation-checkpoint", 2
    model             registered model name ("pix2pix", "cyclegan", "imported", ...)
    config            the full training config as a dict ({} for imported weights)
    net_specs         {net: {"kind": "generator"|"discriminator", "name": arch, "kwargs": {...}}}
    nets              {net: state_dict}: the raw nets (never compiled or wrapped ones)
    generators        {net: record}: what each generator does (see translates / translates_to_domains /
                      samples) and "weights": "ema" or "raw", the weights inference should prefer
    test_mode         default inference behaviour ("paper" or "eval")
    ema               {"decay", "updates", "nets": {net: state_dict}}: moving averages of generator weights
    optimizers        {name: optimizer state_dict}
    scalers           {name: gradient-scaler state_dict} (fp16 runs)
    step, epoch, rng  training progress and random states, so a resumed run continues exactly
    rng_ranks         under torchrun: every process's random states in rank order (rng_ranks[0] is rng)
    extra             model-specific training state (e.g. CycleGAN image pools)
    best              {"metric", "value", "step"}: the best evaluation so far (None until one is made)

Version 1 (before the GAN engine) had `translators` {direction: net} instead of `generators`, init settings
inside net_specs and no ema/scalers/best; `read_checkpoint` upgrades such files in memory.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from translation.names import DIRECTIONS
from translation.utils.files import atomic_path, clear_unfinished_writes

FORMAT = "translation-checkpoint"
VERSION = 2
LATEST = "latest.pt"
TASKS = ("translate", "translate_to_domain", "sample")
LABEL_KINDS = ("multi_label", "single_label")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with the file name and the reason."""


# --- what a generator does ---------------------------------------------------------------------------

def translates(direction: str, paired: bool = False) -> dict:
    """A generator that maps one domain to the other: direction "AtoB" or "BtoA". `paired`: it learned from
    aligned pairs (pix2pix), so each input of its data has a target to compare the output with; CycleGAN's
    and imported weights' records say False."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be {' or '.join(DIRECTIONS)}, got {direction!r}")
    return {"task": "translate", "direction": direction, "paired": bool(paired)}


def translates_to_domains(domains: list[str], label_kind: str, exclusive: list[list[str]] = ()) -> dict:
    """A generator conditioned on target labels (StarGAN): `domains` names each label; multi_label attributes
    are switched on and off independently, except within an `exclusive` group (hair colours), single_label
    domains are one-hot."""
    if label_kind not in LABEL_KINDS:
        raise ValueError(f"label kind must be one of {', '.join(LABEL_KINDS)}, got {label_kind!r}")
    if not domains or len(set(domains)) != len(domains):
        raise ValueError(f"domain names must be distinct and at least one, got {domains!r}")
    unknown = sorted({name for group in exclusive for name in group} - set(domains))
    if unknown:
        raise ValueError(f"exclusive groups name {', '.join(unknown)}, which are not among the domains")
    return {"task": "translate_to_domain", "domains": list(domains), "label_kind": label_kind,
            "exclusive": [list(group) for group in exclusive if len(group) > 1]}


def samples(z_dim: int, classes: list[str] | None = None) -> dict:
    """A generator that draws images from z ~ N(0, I) of size `z_dim`, optionally given a class label."""
    if z_dim < 1:
        raise ValueError(f"z size must be >= 1, got {z_dim}")
    return {"task": "sample", "z_dim": int(z_dim), "classes": list(classes) if classes else None}


# --- writing -----------------------------------------------------------------------------------------

def empty_best() -> dict:
    return {"metric": None, "value": None, "step": None}


def save_checkpoint(path: Path, state: dict) -> None:
    """Complete `state` to a version-2 checkpoint and write it via temp file + fsync + rename: a crash
    never leaves a broken file."""
    missing = [k for k in ("model", "net_specs", "nets", "generators", "test_mode") if k not in state]
    if missing:
        raise ValueError(f"a checkpoint needs {', '.join(missing)}")
    ema = state.get("ema") or {"decay": 0.0, "updates": 0, "nets": {}}
    generators = {key: {**record, "weights": "ema" if key in ema["nets"] else "raw"}
                  for key, record in state["generators"].items()}
    full = {"format": FORMAT, "version": VERSION, "config": {}, "optimizers": {}, "scalers": {}, "step": 0,
            "epoch": 0, "extra": {}, "best": empty_best(), **state, "generators": generators, "ema": ema}
    import torch  # here, not at the top: the command line imports this module before torch is needed

    with atomic_path(Path(path)) as tmp:
        torch.save(full, tmp)


# --- reading -----------------------------------------------------------------------------------------

def resolve_checkpoint_path(path) -> Path:
    """A run directory means its latest.pt; a file is taken as it is. Opening a run directory clears what
    saves killed part-way left in it (named on stderr); a run still saving there keeps its own."""
    path = Path(path)
    if path.is_dir():
        for line in clear_unfinished_writes(path):
            print(f"note: {line}", file=sys.stderr)
        candidate = path / LATEST
        if not candidate.is_file():
            raise CheckpointError(f"{path}: no {LATEST} in this run directory (has it been trained?)")
        return candidate
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file or run directory")
    return path


def load_file(path, mmap: bool = False) -> dict:
    """torch.load with weights_only=True: tensors and primitives only, never pickled code. `mmap`: tensors are
    mapped from the file and read only when used (describing a checkpoint then costs its metadata, not its
    optimizer states); files in torch's pre-1.6 format cannot be mapped and are read whole."""
    import torch

    path = Path(path)
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
        except RuntimeError:
            if not mmap:
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt or hostile files
        raise CheckpointError(f"{path}: {_why_unloadable(path, error)}") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict of weights, found {type(obj).__name__}")
    return obj


ACCEPTED = ("checkpoints are PyTorch files (a run folder or its latest.pt, an official .pth/.ckpt state dict) "
            "or, for translate and sample, an .onnx file from `translation export`")
_ZIP = b"PK\x03\x04"  # torch.save's format since PyTorch 1.6
# torch.save's older format: a pickle (protocol 2) that opens with torch's magic number
_LEGACY_TORCH = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
ONNX = "an ONNX file"
_SIGNATURES = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
               (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip archive"), (b"BZh", "a bzip2 archive"),
               (b"\xfd7zXZ", "an xz archive"), (b"7z\xbc\xaf", "a 7-Zip archive"))


def _why_unloadable(path: Path, error: Exception) -> str:
    """Why torch could not load `path`: what the file is when it is not a PyTorch file at all, else torch's
    reason, minus its advice to load unsafely (we never do, so never suggest it)."""
    text = str(error)
    imported = re.search(r"GLOBAL ([\w.]+)", text)
    if imported:
        return (f"refused: it asks to import {imported.group(1)} while loading, and only tensors and plain values "
                "are loaded (code in a checkpoint could run on this machine). A file saved with "
                "torch.save(model) instead of torch.save(model.state_dict()) does this too.")
    what = _what_file(path)
    if what == ONNX:
        return (f"not a checkpoint: it is {ONNX}; this command reads the PyTorch checkpoint it was exported from "
                "(its run folder or .pt); translate and sample run ONNX files")
    if what:
        return f"not a checkpoint: it is {what}; {ACCEPTED}"
    # the lines of torch's message that are about the file, not about weights_only or filing bugs
    lines = [line.strip() for line in re.split(r"\n|WeightsUnpickler error:", text) if line.strip()
             and not re.search(r"weights_only|documentation|file an issue|trusted source", line)]
    reason = re.split(r"\. This is an internal", lines[0])[0] if lines else type(error).__name__
    return f"cannot be read as a PyTorch file: damaged or cut short? ({reason})"


def _what_file(path: Path) -> str | None:
    """What `path` is, by its first bytes, when it is not a PyTorch file; None when it looks like one."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if head.startswith(_ZIP) or head.startswith(_LEGACY_TORCH):
        return None
    if not head:
        return "empty (0 bytes)"
    if path.suffix.lower() == ".onnx":
        return ONNX
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if head.startswith(b"\x80"):
        return "a Python pickle, not one PyTorch wrote"
    text = head.decode("utf-8", "replace")
    if "\x00" in text or text.count("\ufffd") > 1:  # one may be a character cut at byte 512
        return "not a PyTorch file (neither a zip archive nor PyTorch's older pickle format)"
    if re.match(r"\s*<(!doctype html|html|\?xml)", text, re.I):
        return "an HTML or XML page (an error page saved in place of a download?)"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"a text file ({first[:40]!r}{'...' if len(first) > 40 else ''})" if first else "a text file"


def is_translation_checkpoint(obj: dict) -> bool:
    return obj.get("format") == FORMAT


def upgrade(obj: dict, source="checkpoint") -> dict:
    """A translation checkpoint of any known version as a version-2 dict (the file is not touched)."""
    version = obj.get("version", 0)
    if version > VERSION:
        raise CheckpointError(f"{source}: written by a newer version (format {version} > {VERSION}); "
                              "upgrade translation to read it")
    if version == 1:
        obj = dict(obj)
        # v1 recorded the init settings among the architecture options; they do not shape the net
        obj["net_specs"] = {key: {**spec, "kwargs": {k: v for k, v in spec["kwargs"].items()
                                                     if k not in ("init", "init_gain")}}
                            for key, spec in obj["net_specs"].items()}
        obj["generators"] = {key: {**translates(direction, paired=obj.get("model") == "pix2pix"), "weights": "raw"}
                             for direction, key in obj.pop("translators").items()}
        obj.update(version=VERSION, ema={"decay": 0.0, "updates": 0, "nets": {}}, scalers={}, best=empty_best())
    elif version != VERSION:
        raise CheckpointError(f"{source}: unknown checkpoint format version {version!r}")
    for key, record in obj["generators"].items():
        if record.get("task") not in TASKS:
            raise CheckpointError(f"{source}: generator {key} has an unknown task {record.get('task')!r}")
    if any(r["task"] == "translate" and "paired" not in r for r in obj["generators"].values()):
        # records written before `paired` existed: pix2pix's generator was the one trained on pairs
        paired = obj.get("model") == "pix2pix"
        obj = {**obj, "generators": {key: {"paired": paired, **r} if r["task"] == "translate" else r
                                     for key, r in obj["generators"].items()}}
    return obj


def read_checkpoint(path) -> dict:
    """Read a run directory or checkpoint file of ours, upgraded to the current format."""
    path = resolve_checkpoint_path(path)
    obj = load_file(path)
    if not is_translation_checkpoint(obj):
        raise CheckpointError(f"{path}: not a translation checkpoint (a bare state dict from the official "
                              "code? give --netG/--norm/--ngf to translate or import it)")
    return upgrade(obj, path)
