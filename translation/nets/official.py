"""Weights saved by the official pytorch-CycleGAN-and-pix2pix code: bare state dicts.

Our nets keep the official module layout, so these load key by key. Two quirks are handled: files from
old PyTorch carry InstanceNorm running_mean/running_var/num_batches_tracked buffers the current
InstanceNorm (no running stats) lacks, and DataParallel saves prefix every key with `module.`.
When the file does not fit the architecture asked for, the error says what differs and which flags
the file looks like it needs, instead of a raw load_state_dict traceback.
"""
from __future__ import annotations

import re

import torch
from torch import nn

STALE_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class WeightsMismatchError(ValueError):
    """A state dict that does not fit the net it is loaded into; the message suggests flags."""


def _owner(net: nn.Module, key: str) -> nn.Module | None:
    try:
        return net.get_submodule(key.rsplit(".", 1)[0])
    except AttributeError:
        return None


def clean_official_state_dict(net: nn.Module, state_dict: dict) -> dict:
    """Strip `module.` prefixes and drop stale InstanceNorm buffers the net does not have."""
    own = net.state_dict()
    cleaned = {}
    for key, value in state_dict.items():
        key = key[len("module."):] if key.startswith("module.") else key
        if key not in own and key.rsplit(".", 1)[-1] in STALE_NORM_BUFFERS and \
                isinstance(_owner(net, key), nn.InstanceNorm2d):
            continue
        cleaned[key] = value
    return cleaned


def load_official_state_dict(net: nn.Module, state_dict: dict, source: str = "state dict") -> nn.Module:
    """Load official weights into `net` (built with the matching flags); raise WeightsMismatchError if not."""
    if not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise WeightsMismatchError(f"{source}: not a state dict of tensors")
    cleaned = clean_official_state_dict(net, state_dict)
    own = net.state_dict()
    missing = [k for k in own if k not in cleaned]
    unexpected = [k for k in cleaned if k not in own]
    shapes = [(k, tuple(cleaned[k].shape), tuple(own[k].shape)) for k in own
              if k in cleaned and cleaned[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        raise WeightsMismatchError(_mismatch_message(net, source, missing, unexpected, shapes, state_dict))
    net.load_state_dict(cleaned, strict=True)
    return net


def _first(items, n: int = 3) -> str:
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


def _mismatch_message(net, source, missing, unexpected, shapes, state_dict) -> str:
    config = getattr(net, "config", {})
    asked = " ".join(f"--{k} {config[k]}" for k in ("name", "ngf", "norm") if k in config).replace("--name", "--netG")
    lines = [f"{source} does not fit the architecture asked for ({asked or type(net).__name__}):"]
    if missing:
        lines.append(f"  {len(missing)} weights the net needs are not in the file (e.g. {_first(missing)})")
    if unexpected:
        lines.append(f"  {len(unexpected)} weights in the file have no place in the net (e.g. {_first(unexpected)})")
    if shapes:
        shown = "; ".join(f"{k}: file {list(a)} vs net {list(b)}" for k, a, b in shapes[:3])
        lines.append(f"  {len(shapes)} shapes differ ({shown})")
    guess = guess_generator_flags(state_dict)
    if guess:
        flags = f"--netG {guess['netG']} --ngf {guess['ngf']} --norm {guess['norm']}"
        if guess["in_channels"] != 3 or guess["out_channels"] != 3:
            flags += f" --input-nc {guess['in_channels']} --output-nc {guess['out_channels']}"
        lines.append(f"  this file looks like a generator saved with: {flags}")
    return "\n".join(lines)


def _norm_of(keys: set[str], norm_prefix: str, conv_prefix: str) -> str:
    """batch norm has affine weights; instance norm (no affine) leaves convs with a bias; none has neither."""
    if f"{norm_prefix}.weight" in keys:
        return "batch"
    return "instance" if f"{conv_prefix}.bias" in keys else "none"


def guess_generator_flags(state_dict: dict) -> dict:
    """Best guess of netG / ngf / norm / channels for an official generator file ({} if unrecognised)."""
    sd = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state_dict.items()}
    keys = set(sd)
    try:
        if "model.model.0.weight" in keys:  # U-Net: nested skip blocks model.model.1.model.1...
            depth = max(k.count("model.") for k in keys) - 1
            return {"netG": f"unet_{2 ** depth}", "ngf": int(sd["model.model.0.weight"].shape[0]),
                    "norm": _norm_of(keys, "model.model.1.model.2", "model.model.1.model.1"),
                    "in_channels": int(sd["model.model.0.weight"].shape[1]),
                    "out_channels": int(sd["model.model.3.weight"].shape[1])}
        blocks = {int(m.group(1)) for k in keys if (m := re.match(r"model\.(\d+)\.conv_block\.", k))}
        if "model.1.weight" in keys and blocks:  # ResNet: model.1 first conv, model.N.conv_block blocks
            last = max(int(k.split(".")[1]) for k in keys if re.match(r"model\.\d+\.weight$", k))
            return {"netG": f"resnet_{len(blocks)}blocks", "ngf": int(sd["model.1.weight"].shape[0]),
                    "norm": _norm_of(keys, "model.2", "model.1"),
                    "in_channels": int(sd["model.1.weight"].shape[1]),
                    "out_channels": int(sd[f"model.{last}.weight"].shape[0])}
    except (KeyError, IndexError, AttributeError):
        return {}
    return {}
