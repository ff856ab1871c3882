"""ESRGAN's relativistic average GAN terms as BasicSR's esrgan_model.py computes them (Wang et al. 2018, eq. 1-2;
Jolicoeur-Martineau 2019): D judges whether a real patch is more realistic than the average fake, and a fake
than the average real, with binary cross-entropy on the logit differences.

They differ from the "ragan" loss of adversarial.py in what BasicSR does around the formula: G's two terms are
averaged (not summed), D's two terms are each halved, and in each of D's terms the other side's mean is a
constant (BasicSR detaches it), so the real term trains D through its real logits only and the fake term
through its fake logits only.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def esrgan_generator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """G's loss from D's logits on real and generated patches: (BCE(real - mean fake, 0) + BCE(fake - mean real,
    1)) / 2, the real logits a constant (G cannot change them)."""
    real, fake = real.detach().float(), fake.float()
    return (_bce(real - fake.mean(), 0.0) + _bce(fake - real.mean(), 1.0)) / 2


def esrgan_discriminator_terms(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D's (real, fake) terms: BCE(real - mean fake, 1) / 2 and BCE(fake - mean real, 0) / 2, each mean detached."""
    real, fake = real.float(), fake.float()
    return 0.5 * _bce(real - fake.detach().mean(), 1.0), 0.5 * _bce(fake - real.detach().mean(), 0.0)
