"""Which weights a checkpoint's generator is run with: its moving average (EMA) or the trained weights.

A generator trained with --ema-decay is saved twice: as trained (obj["nets"]) and averaged (obj["ema"]["nets"]);
its record says weights "ema". Inference takes the average unless the user asks for the raw weights
(--no-ema), as StyleGAN and BigGAN sample from theirs.
"""
from __future__ import annotations

from torch import nn


def choose_weights(record: dict, use_ema: bool) -> str:
    """"ema" when the generator has an average and the user did not turn it off, else "raw"."""
    return "ema" if use_ema and record.get("weights") == "ema" else "raw"


def load_generator_weights(net: nn.Module, obj: dict, key: str, weights: str) -> nn.Module:
    """Load net `key`'s weights of the kind `choose_weights` chose from the checkpoint dict `obj`."""
    net.load_state_dict(obj["ema"]["nets"][key] if weights == "ema" else obj["nets"][key])
    return net
