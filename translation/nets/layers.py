"""Building blocks shared by generators and discriminators: norm factory, weight init, spectral norm, checks.

Norms and init follow the official pytorch-CycleGAN-and-pix2pix `get_norm_layer` / `init_weights`
so that nets built here have the same parameters, buffers and (seeded) initial values.
"""
from __future__ import annotations

import functools
from typing import Callable

import torch
from torch import nn
from torch.nn.utils import parametrize

from translation.names import INITS, NORMS  # noqa: F401  (re-exported: nets.NORMS, nets.INITS)


def norm_layer(kind: str) -> Callable[[int], nn.Module]:
    """Factory `channels -> norm module` for one of NORMS."""
    if kind == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if kind == "instance":
        # Ulyanov et al. 2016: per-image statistics at train and test time, no learned scale/shift.
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if kind == "none":
        return lambda channels: nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose one of {', '.join(NORMS)}")


def conv_bias(norm: str) -> bool:
    """Whether convs followed by `norm` carry a bias, by the official rule.

    Batch norm's shift makes a bias redundant. The official code also gives no bias with
    norm 'none' (its test is `norm_layer == InstanceNorm2d`); kept so their weights load key by key.
    """
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
    return norm == "instance"


def check_init(init: str) -> None:
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


def init_unit_scale(net: nn.Module, seed: int = 0) -> nn.Module:
    """Random conv weights that keep activations at unit scale (std 1.5 / sqrt(fan-in)), for checks that need
    a lively net: the official N(0, 0.02) init gives a near-constant output that hides what a check looks for
    (a tiled image would equal the whole one whatever the tiling does)."""
    torch.manual_seed(seed)
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            fan_in = module.weight[0].numel() * (module.weight.shape[0] / module.weight.shape[1]
                                                 if isinstance(module, nn.ConvTranspose2d) else 1)
            nn.init.normal_(module.weight, std=1.5 * fan_in ** -0.5)
    return net


def init_weights(net: nn.Module, init: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise conv/linear weights and BatchNorm affine params in place, as the official code.

    N(0, gain) conv weights is the DCGAN recipe (Radford et al. 2016); BatchNorm scale ~ N(1, gain).
    Modules are visited in `net.apply` order so a seeded init matches the official one draw for draw.
    "pytorch" keeps the layers' own default initialisation, which is what the official StarGAN trains from;
    "normal_keep_bias" draws conv/linear weights as "normal" and leaves their biases at the layers' default, as
    the official pix2pixHD's weights_init.
    """
    check_init(init)
    if init == "pytorch":
        return net

    def init_module(m: nn.Module) -> None:
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            if init in ("normal", "normal_keep_bias"):
                nn.init.normal_(m.weight, 0.0, gain)
            elif init == "xavier":
                nn.init.xavier_normal_(m.weight, gain=gain)
            elif init == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")  # official ignores gain here
            else:
                nn.init.orthogonal_(m.weight, gain=gain)
            if m.bias is not None and init != "normal_keep_bias":
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:  # 2d, and the MLPs' 1d
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)

    with torch.no_grad():
        net.apply(init_module)
    return net


SPECTRAL_NORM_LAYERS = (nn.modules.conv._ConvNd, nn.Linear, nn.Embedding)


def apply_spectral_norm(net: nn.Module, eps: float = 1e-12, layers: tuple = SPECTRAL_NORM_LAYERS) -> nn.Module:
    """Wrap the weight of every conv, linear and embedding layer in spectral normalisation, in place.

    Miyato et al. 2018: W / sigma(W), sigma estimated by one power iteration per training forward, which
    bounds each layer's Lipschitz constant by 1 (the label embeddings too, as their projection discriminator).
    The weights must already be initialised: init_weights cannot reach them through the parametrization.
    The state dict then holds `<layer>.parametrizations.weight.original` and the power iteration's `_u`, `_v`
    instead of `<layer>.weight`, so such weights load only into a net built with spectral norm as well.
    `eps` guards the power iteration's normalisations; `layers`: the kinds of layer to wrap.
    """
    for module in list(net.modules()):
        if isinstance(module, layers) and not parametrize.is_parametrized(module, "weight"):
            nn.utils.parametrizations.spectral_norm(module, eps=eps)
    return net


def check_count(name: str, value, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_size_multiple(x: torch.Tensor, multiple: int, net_name: str) -> None:
    """Raise a readable error when H or W is not a multiple the network can reproduce exactly."""
    if torch.jit.is_tracing() or torch.compiler.is_compiling():
        return  # shapes are symbolic or baked in; exporters check their own example inputs
    h, w = int(x.shape[-2]), int(x.shape[-1])
    if h % multiple or w % multiple:
        ph, pw = -(-h // multiple) * multiple, -(-w // multiple) * multiple
        raise ValueError(
            f"{net_name} needs input height and width that are multiples of {multiple}, got {h}x{w}; "
            f"pad to {ph}x{pw} (e.g. reflect padding) and crop the output back"
        )
