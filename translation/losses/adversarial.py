"""Adversarial losses as objects in one registry: `adversarial_loss("lsgan")`.

Each loss takes raw discriminator outputs (logits / critic scores, any shape) and gives
  discriminator(real, fake) -> (term on real data, term on fake data): the discriminator minimises their sum
  generator(fake, real)     -> the generator's loss; `real` is used by the relativistic losses only
Predictions are taken in float32 whatever precision the nets ran at: the logs and squares of a loss
are where half precision loses most.
"""
from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F

from translation.names import GAN_MODES, check_registered

_LOSSES: dict[str, type["AdversarialLoss"]] = {}


def register_loss(*names: str):
    def decorator(cls):
        for name in names:
            check_registered("adversarial loss", name, GAN_MODES)
            if name in _LOSSES:
                raise ValueError(f"adversarial loss {name!r} is registered twice")
            _LOSSES[name] = cls
        return cls
    return decorator


def adversarial_losses() -> list[str]:
    """Registered names, in registration order (the order --help shows)."""
    return list(_LOSSES)


def adversarial_loss(name: str) -> "AdversarialLoss":
    if name not in _LOSSES:
        raise ValueError(f"unknown GAN loss {name!r}; choose one of {', '.join(_LOSSES)}")
    return _LOSSES[name]()


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class AdversarialLoss:
    relativistic: ClassVar[bool] = False  # the generator's loss needs D's predictions on real data too

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def generator(self, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


class _BinaryCrossEntropyD(AdversarialLoss):
    def discriminator(self, real, fake):  # Goodfellow et al. 2014, eq. 1: log D(x) + log(1 - D(G(z)))
        return _bce(real.float(), 1.0), _bce(fake.float(), 0.0)


@register_loss("minimax")
class Minimax(_BinaryCrossEntropyD):
    """The original saturating game: G minimises log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1)."""

    def generator(self, fake, real=None):
        return -F.softplus(fake.float()).mean()  # log(1 - sigmoid(l)) = -softplus(l)


@register_loss("vanilla", "nonsaturating")
class NonSaturating(_BinaryCrossEntropyD):
    """G maximises log D(G(z)) instead (Goodfellow et al. 2014, sec. 3): the official pix2pix/CycleGAN 'vanilla'."""

    def generator(self, fake, real=None):
        return _bce(fake.float(), 1.0)


@register_loss("lsgan")
class LeastSquares(AdversarialLoss):
    """Mao et al. 2017, eq. 9 with a = 0, b = c = 1."""

    def discriminator(self, real, fake):
        real, fake = real.float(), fake.float()
        return F.mse_loss(real, torch.ones_like(real)), F.mse_loss(fake, torch.zeros_like(fake))

    def generator(self, fake, real=None):
        fake = fake.float()
        return F.mse_loss(fake, torch.ones_like(fake))


@register_loss("wgan")
class Wasserstein(AdversarialLoss):
    """Arjovsky et al. 2017: the critic maximises E[D(real)] - E[D(fake)]; needs clipping or a penalty."""

    def discriminator(self, real, fake):
        return -real.float().mean(), fake.float().mean()

    def generator(self, fake, real=None):
        return -fake.float().mean()


@register_loss("hinge")
class Hinge(AdversarialLoss):
    """Lim & Ye 2017; Miyato et al. 2018, eq. 16-17."""

    def discriminator(self, real, fake):
        return F.relu(1.0 - real.float()).mean(), F.relu(1.0 + fake.float()).mean()

    def generator(self, fake, real=None):
        return -fake.float().mean()


@register_loss("ragan")
class RelativisticAverage(AdversarialLoss):
    """RaGAN (Jolicoeur-Martineau 2019, eq. 11-12): is real data more realistic than the average fake?"""

    relativistic = True

    def discriminator(self, real, fake):
        real, fake = real.float(), fake.float()
        return _bce(real - fake.mean(), 1.0), _bce(fake - real.mean(), 0.0)

    def generator(self, fake, real=None):
        real, fake = _need_real(real).float(), fake.float()
        return _bce(fake - real.mean(), 1.0) + _bce(real - fake.mean(), 0.0)


@register_loss("ralsgan")
class RelativisticAverageLeastSquares(AdversarialLoss):
    """RaLSGAN (Jolicoeur-Martineau 2019, eq. 15-16)."""

    relativistic = True

    def discriminator(self, real, fake):
        real, fake = real.float(), fake.float()
        return ((real - fake.mean() - 1) ** 2).mean(), ((fake - real.mean() + 1) ** 2).mean()

    def generator(self, fake, real=None):
        real, fake = _need_real(real).float(), fake.float()
        return ((fake - real.mean() - 1) ** 2).mean() + ((real - fake.mean() + 1) ** 2).mean()


def _need_real(real):
    if real is None:
        raise ValueError("a relativistic loss needs the discriminator's predictions on real data for the "
                         "generator's loss too")
    return real
