"""Released super-resolution weights into the nets of translation.nets.superres.

BasicSR saves `{'params': state_dict}` and, for models trained with an EMA of G, `{'params_ema': ...}` beside
it (ESRGAN_SRx4_DF2KOST_official-ff704c30.pth, Real-ESRGAN's RealESRGAN_x4plus.pth); the EMA weights are the
ones its test configs and Real-ESRGAN's inference read, so they are preferred here too. The original ESRGAN
repository's RRDB_ESRGAN_x4.pth is a bare state dict with that repository's names (`RRDB_trunk.N.RDB1.*`,
`trunk_conv`, `upconv1`, `HRconv`), renamed here to BasicSR's.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from torch import nn

from .official import load_official_state_dict

PARAM_KEYS = ("params_ema", "params")  # in order of preference
# xinntao/ESRGAN RRDBNet_arch.py -> BasicSR rrdbnet_arch.py
ESRGAN_RENAMES = (("RRDB_trunk.", "body."), (".RDB1.", ".rdb1."), (".RDB2.", ".rdb2."), (".RDB3.", ".rdb3."),
                  ("trunk_conv.", "conv_body."), ("upconv1.", "conv_up1."), ("upconv2.", "conv_up2."),
                  ("HRconv.", "conv_hr."))


def basicsr_state_dict(obj: Mapping, source: str = "weights") -> dict:
    """The state dict inside a BasicSR file ({'params_ema'} first, then {'params'}), or `obj` itself when it is a
    bare state dict; ESRGAN-repository names renamed to BasicSR's."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"{source}: expected a dict of weights, found {type(obj).__name__}")
    for key in PARAM_KEYS:
        if key in obj:
            obj = obj[key]
            if not isinstance(obj, Mapping):
                raise ValueError(f"{source}: its {key!r} entry is a {type(obj).__name__}, not a state dict")
            break
    if any(str(key).startswith("RRDB_trunk.") for key in obj):
        return {_renamed(key): value for key, value in obj.items()}
    return dict(obj)


def _renamed(key: str) -> str:
    for old, new in ESRGAN_RENAMES:
        key = key.replace(old, new) if old.startswith(".") else (new + key[len(old):] if key.startswith(old) else key)
    return key


def load_basicsr_state_dict(net: nn.Module, obj: Mapping, source: str = "weights") -> nn.Module:
    """Load a BasicSR file's contents into `net` (built with the matching scale and sizes), all keys or an error
    naming the missing, unexpected and mis-shaped ones."""
    return load_official_state_dict(net, basicsr_state_dict(obj, source), source)


def load_basicsr_file(net: nn.Module, path: str | os.PathLike) -> nn.Module:
    """torch.load (weights_only, onto the CPU) a BasicSR or ESRGAN .pth and load it into `net`."""
    from translation.checkpoint import load_file

    return load_basicsr_state_dict(net, load_file(path), os.fspath(path))
