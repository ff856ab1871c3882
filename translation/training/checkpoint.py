"""Self-describing checkpoints, written atomically and read without executing code.

A checkpoint is a plain dict of tensors and primitives (loadable with `weights_only=True`):
    format, version        identify the file
    model                  registered model name ("pix2pix", ...)
    config                 the full training config as a dict
    net_specs              {net name: {"kind": "generator"|"discriminator", "name": arch, "kwargs": {...}}}
    translators            {"AtoB": net name, ...}: which generator translates which way
    test_mode              default inference behaviour for this model ("paper" or "eval")
    nets                   {net name: state_dict}
    optimizers             {name: optimizer state_dict}
    step, epoch            training progress
    rng                    random states, so a resumed run continues exactly
    extra                  model-specific state (e.g. CycleGAN image pools)
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from translation.utils.files import atomic_path

FORMAT = "translation-checkpoint"
VERSION = 1
LATEST = "latest.pt"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with the file name and the reason."""


def save_checkpoint(path: Path, state: dict) -> None:
    """Write `state` to `path` via temp file + fsync + rename: a crash never leaves a broken file."""
    state = {"format": FORMAT, "version": VERSION, **state}
    with atomic_path(Path(path)) as tmp:
        torch.save(state, tmp)


def resolve_checkpoint_path(path) -> Path:
    """A run directory means its latest.pt; a file is taken as it is."""
    path = Path(path)
    if path.is_dir():
        candidate = path / LATEST
        if not candidate.is_file():
            raise CheckpointError(f"{path}: no {LATEST} in this run directory (has it been trained?)")
        return candidate
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file or run directory")
    return path


def load_file(path) -> dict:
    """torch.load with weights_only=True: tensors and primitives only, never pickled code."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt or hostile files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: cannot be loaded safely ({reason})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict of weights, found {type(obj).__name__}")
    return obj


def is_translation_checkpoint(obj: dict) -> bool:
    return obj.get("format") == FORMAT


def load_checkpoint(path) -> dict:
    path = resolve_checkpoint_path(path)
    obj = load_file(path)
    if not is_translation_checkpoint(obj):
        raise CheckpointError(f"{path}: not a translation checkpoint (a bare state dict from the official "
                              "code? give --netG/--norm/--ngf to translate or import it)")
    if obj.get("version", 0) > VERSION:
        raise CheckpointError(f"{path}: written by a newer version (format {obj['version']} > {VERSION})")
    return obj


def capture_rng_state() -> dict:
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {"key": np_state[1].tolist(), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(_as_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state(("MT19937", np.array(n["key"], dtype=np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuple(value):
    # random.setstate needs tuples; a round trip through some loaders can turn them into lists.
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value
