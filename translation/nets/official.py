"""Weights saved by the official pytorch-CycleGAN-and-pix2pix and StarGAN code: bare state dicts.

Our nets keep the official module layout, so these load key by key. Quirks handled: files from old
PyTorch carry InstanceNorm running_mean/running_var/num_batches_tracked buffers the current
InstanceNorm (no running stats) lacks; BatchNorm files from before PyTorch 0.4.1 lack
num_batches_tracked; DataParallel saves prefix every key with `module.` (torch.compile: `_orig_mod.`).
When the file does not fit the architecture asked for, the error says what differs and which flags
the file looks like it needs, instead of a raw load_state_dict traceback.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping

import torch
from torch import nn

STALE_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
# pix2pixHD generator options that shape its layers (the official flags' names, with dashes)
HD_DEPTH_FLAGS = ("n_downsample_global", "n_blocks_global", "n_local_enhancers", "n_blocks_local")


class WeightsMismatchError(ValueError):
    """A state dict that does not fit the net it is loaded into; the message suggests flags."""


def strip_wrapper_prefixes(state_dict: Mapping) -> dict:
    out = {}
    for key, value in state_dict.items():
        while key.startswith(WRAPPER_PREFIXES):
            key = key.split(".", 1)[1]
        out[key] = value
    return out


def clean_official_state_dict(net: nn.Module, state_dict: Mapping) -> dict:
    """Strip wrapper prefixes, drop stale InstanceNorm buffers, fill BatchNorm counters old files lack."""
    own = net.state_dict()
    sd = strip_wrapper_prefixes(state_dict)
    cleaned = {}
    for key, value in sd.items():
        owner, _, leaf = key.rpartition(".")
        # A running stat without an affine weight beside it comes from an InstanceNorm (official
        # BatchNorm is always affine); PyTorch < 0.4 tracked them by default, now they are unused.
        if key not in own and leaf in STALE_NORM_BUFFERS and f"{owner}.weight" not in sd:
            continue
        cleaned[key] = value
    for key, value in own.items():
        if key.endswith(".num_batches_tracked") and key not in cleaned:
            cleaned[key] = value  # only read with momentum=None, which the official nets never use
    return cleaned


def load_official_state_dict(net: nn.Module, state_dict: Mapping, source: str = "state dict") -> nn.Module:
    """Load official weights into `net` (built with the matching flags); raise WeightsMismatchError if not."""
    if not isinstance(state_dict, Mapping) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise WeightsMismatchError(_not_a_state_dict(state_dict, source))
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


def load_official_file(net: nn.Module, path: str | os.PathLike) -> nn.Module:
    """torch.load an official .pth (tensors only, onto the CPU) and load it into `net`."""
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    return load_official_state_dict(net, state_dict, source=os.fspath(path))


def _not_a_state_dict(obj, source: str) -> str:
    if not isinstance(obj, Mapping):
        return f"{source}: expected a state dict of tensors, got {type(obj).__name__}"
    nested = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    return (f"{source}: not a bare state dict of tensors ({_first([str(k) for k in nested])} hold other "
            "things); if it is a full training checkpoint, load its network entry instead")


def _first(items, n: int = 3) -> str:
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


def flags_text(guess: dict) -> str:
    """Generator guesses as `translation translate` flags; discriminator guesses as create_discriminator args."""
    if "netD" in guess:
        return " ".join(f"{k}={v}" for k, v in guess.items())
    flags = f"--netG {guess['netG']} --ngf {guess['ngf']} --norm {guess['norm']}"
    if guess["netG"] in ("global", "local"):  # pix2pixHD: the inputs are label maps + instance edges, or images
        flags += "".join(f" --{k.replace('_', '-')} {guess[k]}" for k in HD_DEPTH_FLAGS if k in guess)
        return flags + f" and --label-nc/--no-instance making {guess['in_channels']} input channels"
    if guess["in_channels"] != 3 or guess["out_channels"] != 3:
        flags += f" --input-nc {guess['in_channels']} --output-nc {guess['out_channels']}"
    return flags


def _mismatch_message(net, source, missing, unexpected, shapes, state_dict) -> str:
    config = getattr(net, "config", {})
    asked = " ".join(f"--{k} {config[k]}" for k in ("name", "ngf", "ndf", "norm") if k in config)
    asked = asked.replace("--name", "--netG" if config.get("kind") == "generator" else "--netD")
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
        lines.append(f"  this file looks like a generator saved with: {flags_text(guess)}")
    elif guess_discriminator_flags(state_dict):
        lines.append(f"  this file looks like a discriminator ({flags_text(guess_discriminator_flags(state_dict))}); "
                     "translating needs the generator file (*_net_G*.pth)")
    elif stargan := guess_stargan_spec(state_dict):
        options = " ".join(f"{k}={v}" for k, v in stargan["kwargs"].items())
        lines.append(f"  this file looks like a StarGAN {stargan['kind']} ({options})")
    elif any(k.startswith("main.") for k in strip_wrapper_prefixes(state_dict)):
        lines.append("  this file looks like a StarGAN network (keys main.N.*), not a pix2pix/CycleGAN one")
    else:
        lines.append(f"  its layout is not an official pix2pix/CycleGAN one (keys {_first(list(state_dict))})")
    return "\n".join(lines)


def _norm_of(keys: set, norm_prefix: str, conv_prefix: str) -> str:
    """batch norm has affine weights; instance norm (no affine) leaves convs with a bias; none has neither."""
    if f"{norm_prefix}.weight" in keys:
        return "batch"
    return "instance" if f"{conv_prefix}.bias" in keys else "none"


def guess_generator_flags(state_dict: Mapping) -> dict:
    """Best guess of netG, ngf, norm, in/out channels (and ResNet dropout) of an official generator file.

    Returns {} when the keys are not an official U-Net or ResNet generator. `dropout` is None for a
    U-Net: its dropout layers hold no weights and do not shift any key.
    """
    sd = strip_wrapper_prefixes(state_dict)
    keys = set(sd)
    try:
        hd = guess_pix2pixhd_flags(sd)
        if hd:
            return hd
        if "model.model.0.weight" in keys:  # U-Net: block k's layers sit under k+1 nested `model.`
            depth = max(k.count("model.") for k in keys) - 1
            return {"netG": f"unet_{2 ** depth}", "ngf": int(sd["model.model.0.weight"].shape[0]),
                    "norm": _norm_of(keys, "model.model.1.model.2", "model.model.1.model.1"),
                    "in_channels": int(sd["model.model.0.weight"].shape[1]),
                    "out_channels": int(sd["model.model.3.weight"].shape[1]), "dropout": None}
        blocks = {int(m.group(1)) for k in keys if (m := re.match(r"model\.(\d+)\.conv_block\.", k))}
        if "model.1.weight" in keys and blocks:  # ResNet: model.1 first conv, model.N.conv_block blocks
            last = max(int(k.split(".")[1]) for k in keys if re.match(r"model\.\d+\.weight$", k))
            return {"netG": f"resnet_{len(blocks)}blocks", "ngf": int(sd["model.1.weight"].shape[0]),
                    "norm": _norm_of(keys, "model.2", "model.1"),
                    "in_channels": int(sd["model.1.weight"].shape[1]),
                    "out_channels": int(sd[f"model.{last}.weight"].shape[0]),
                    # a Dropout inside the block moves its second conv from index 5 to 6 (without dropout a
                    # batch norm sits at 6, whose weight is 1-D)
                    "dropout": any(k.endswith("conv_block.6.weight") and sd[k].dim() == 4 for k in keys)}
    except (KeyError, IndexError, AttributeError, ValueError):
        return {}
    return {}


def _top_level_convs(sd: Mapping, prefix: str) -> list[tuple[int, torch.Tensor]]:
    """(index, weight) of the 4-D weights directly under `prefix`N. (not inside residual blocks), in order."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.weight")
    return sorted((int(m.group(1)), v) for k, v in sd.items() if (m := pattern.fullmatch(k)) and v.dim() == 4)


def _blocks(sd: Mapping, prefix: str) -> list[int]:
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.conv_block\.")
    return sorted({int(m.group(1)) for k in sd if (m := pattern.match(k))})


def guess_pix2pixhd_flags(sd: Mapping) -> dict:
    """netG global/local and its depth options for an official pix2pixHD generator ({} if not one).

    Both keep a ResNet generator's keys (model.1 first conv, model.N.conv_block blocks); the global G is told
    from CycleGAN's by its downsampling: 4 stride-2 convs by default, where resnet_*blocks has 2. The local
    enhancer adds model1_1.* (its front end) and model1_2.* (blocks and output) around a global part, model.*,
    that has lost its output layers."""
    local = [n for n in range(1, 8) if f"model{n}_1.1.weight" in sd]
    blocks = _blocks(sd, "model.")
    convs = _top_level_convs(sd, "model.")
    if not blocks or not convs or convs[0][0] != 1:
        return {}
    n_down = sum(1 for index, _ in convs if 1 < index < blocks[0])
    if not local and n_down == 2:
        return {}  # a CycleGAN ResNet (or a global G with --n-downsample-global 2: the same layers)
    first = sd[f"model{local[-1]}_1.1.weight" if local else "model.1.weight"]
    guess = {"netG": "local" if local else "global", "ngf": int(first.shape[0]),
             "norm": _norm_of(set(sd), "model.2", "model.1"), "in_channels": int(first.shape[1]),
             "n_downsample_global": n_down, "n_blocks_global": len(blocks)}
    if local:
        last = _top_level_convs(sd, f"model{local[-1]}_2.")
        guess.update(out_channels=int(last[-1][1].shape[0]), n_local_enhancers=len(local),
                     n_blocks_local=len(_blocks(sd, f"model{local[-1]}_2.")))
    else:
        guess["out_channels"] = int(convs[-1][1].shape[0])
    return guess


def guess_discriminator_flags(state_dict: Mapping) -> dict:
    """Best guess of netD, ndf, n_layers, norm, in_channels of an official discriminator file ({} if not one)."""
    sd = strip_wrapper_prefixes(state_dict)
    keys = set(sd)
    try:
        first = sd.get("net.0.weight", sd.get("model.0.weight"))
        if first is None or first.dim() != 4:
            return {}
        if "net.0.weight" in keys and first.shape[-1] == 1:
            return {"netD": "pixel", "ndf": int(first.shape[0]),
                    "norm": _norm_of(keys, "net.3", "net.2"), "in_channels": int(first.shape[1])}
        if first.shape[-1] == 4 and not any(k.startswith("model.model.") for k in keys):
            n_convs = sum(1 for k, v in sd.items() if re.match(r"model\.\d+\.weight$", k) and v.dim() == 4)
            n_layers = n_convs - 2  # first conv and the 1-channel output conv carry no norm
            return {"netD": "basic" if n_layers == 3 else "n_layers", "ndf": int(first.shape[0]),
                    "n_layers": n_layers, "norm": _norm_of(keys, "model.3", "model.2"),
                    "in_channels": int(first.shape[1])}
    except (IndexError, AttributeError, ValueError):
        return {}
    return {}


def guess_stargan_spec(state_dict: Mapping) -> dict:
    """The net spec ({"kind", "name": "stargan", "kwargs"}, for build_net) of an official StarGAN file.

    `{iter}-G.ckpt`: ngf, n_labels and n_blocks come from the shapes; the image goes in and comes out
    with the same channels (G also reconstructs its input), so the first conv's extra inputs are the
    labels. `{iter}-D.ckpt`: ndf, n_layers, n_labels and the image size its classifier was built for.
    Returns {} when the keys are not an official StarGAN network.
    """
    sd = strip_wrapper_prefixes(state_dict)
    try:
        convs = sorted((int(m.group(1)), v) for k, v in sd.items()
                       if (m := re.fullmatch(r"main\.(\d+)\.weight", k)) and v.dim() == 4)
        if not convs:
            return {}
        first = convs[0][1]
        if "conv1.weight" in sd and "conv2.weight" in sd:
            n_layers, classifier = len(convs), sd["conv2.weight"]  # it sees the whole last feature map
            return {"kind": "discriminator", "name": "stargan",
                    "kwargs": {"in_channels": int(first.shape[1]), "ndf": int(first.shape[0]),
                               "image_size": int(classifier.shape[-1]) * 2 ** n_layers,
                               "n_labels": int(classifier.shape[0]), "n_layers": n_layers,
                               "spectral_norm": False}}  # the official D has none
        blocks = {int(m.group(1)) for k in sd if (m := re.match(r"main\.(\d+)\.main\.0\.weight$", k))}
        out_channels = int(convs[-1][1].shape[0])
        if first.shape[-1] != 7 or out_channels >= first.shape[1]:
            return {}
        return {"kind": "generator", "name": "stargan",
                "kwargs": {"in_channels": out_channels, "out_channels": out_channels, "ngf": int(first.shape[0]),
                           "n_labels": int(first.shape[1]) - out_channels, "n_blocks": len(blocks)}}
    except (KeyError, IndexError, AttributeError, ValueError):
        return {}
