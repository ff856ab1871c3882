"""Adversarial losses and penalties: small pure functions of discriminator outputs.

Each loss takes raw discriminator outputs (logits / critic scores, any shape) and returns a scalar.
The discriminator side and the generator side are separate functions because hinge and WGAN are
not symmetric in "real" and "fake".
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

GAN_MODES = ("vanilla", "lsgan", "wgan", "hinge")


def _check_mode(mode: str) -> None:
    if mode not in GAN_MODES:
        raise ValueError(f"unknown GAN loss {mode!r}; choose one of {', '.join(GAN_MODES)}")


def discriminator_loss(mode: str, pred: torch.Tensor, real: bool) -> torch.Tensor:
    """Loss of the discriminator on predictions for a real (real=True) or fake batch."""
    _check_mode(mode)
    if mode == "vanilla":  # Goodfellow et al. 2014, binary cross-entropy on logits
        target = torch.ones_like(pred) if real else torch.zeros_like(pred)
        return F.binary_cross_entropy_with_logits(pred, target)
    if mode == "lsgan":  # Mao et al. 2017, eq. 9 with a=0, b=1
        return F.mse_loss(pred, torch.ones_like(pred) if real else torch.zeros_like(pred))
    if mode == "wgan":  # Arjovsky et al. 2017: critic maximises E[D(real)] - E[D(fake)]
        return -pred.mean() if real else pred.mean()
    # hinge: Lim & Ye 2017 / Miyato et al. 2018
    return F.relu(1.0 - pred).mean() if real else F.relu(1.0 + pred).mean()


def generator_loss(mode: str, pred_fake: torch.Tensor) -> torch.Tensor:
    """Loss of the generator given the discriminator's predictions on its fakes."""
    _check_mode(mode)
    if mode == "vanilla":  # non-saturating form, as in the official pix2pix/CycleGAN code
        return F.binary_cross_entropy_with_logits(pred_fake, torch.ones_like(pred_fake))
    if mode == "lsgan":  # Mao et al. 2017, eq. 9 with c=1
        return F.mse_loss(pred_fake, torch.ones_like(pred_fake))
    return -pred_fake.mean()  # wgan and hinge share the generator objective


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, *extra_inputs) -> torch.Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017, eq. 3): (||grad D(x_hat)||_2 - 1)^2 on interpolates."""
    alpha = torch.rand(real.size(0), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = critic(mixed, *extra_inputs)
    out = out[0] if isinstance(out, (tuple, list)) else out
    (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()
