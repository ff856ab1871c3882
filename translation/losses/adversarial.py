"""Adversarial losses as objects in one registry: `adversarial_loss("lsgan")`.

Each loss takes raw discriminator outputs (logits / critic scores, any shape) and gives
  discriminator(real, fake) -> (term on real data, term on fake data): the discriminator minimises their sum
  generator(fake, real)     -> the generator's loss; `real` is used by the relativistic losses only
Predictions are taken in float32 whatever precision the nets ran at: the logs and squares of a loss
are where half precision loses most. `adversarial_loss(name, multiscale=True)` takes a multi-scale
discriminator's output instead (pix2pixHD's: per scale, a list of layer outputs ending in the scores).
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


def adversarial_loss(name: str, multiscale: bool = False) -> "AdversarialLoss":
    """The loss `name`; multiscale=True: for a multi-scale discriminator's output (see MultiScale)."""
    if name not in _LOSSES:
        raise ValueError(f"unknown GAN loss {name!r}; choose one of {', '.join(_LOSSES)}")
    loss = _LOSSES[name]()
    return MultiScale(loss) if multiscale else loss


def _bce(logits: torch.Tensor, target) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, _target_like(logits, target))


def _target_like(scores: torch.Tensor, target) -> torch.Tensor:
    """A target for each score: a number for all, or one per sample (label smoothing, flipped labels)."""
    if not isinstance(target, torch.Tensor):
        return torch.full_like(scores, float(target))
    target = target.to(scores.device, scores.dtype)
    return target.reshape(-1, *[1] * (scores.dim() - 1)).expand_as(scores)


def _no_targets(loss, real_target, fake_target) -> None:
    if real_target is not None or fake_target is not None:
        raise ValueError(f"{type(loss).__name__} has scores, not labels: label smoothing and flips do not apply")


class AdversarialLoss:
    relativistic: ClassVar[bool] = False  # the generator's loss needs D's predictions on real data too
    has_targets: ClassVar[bool] = False  # D learns labels (1 real, 0 fake) that smoothing or flips may change

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor, real_target=None,
                      fake_target=None) -> tuple[torch.Tensor, torch.Tensor]:
        """D's (real, fake) terms. `real_target`/`fake_target` (a number, or one per sample) replace the labels
        1 and 0 of the losses that have labels."""
        raise NotImplementedError

    def generator(self, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


class _BinaryCrossEntropyD(AdversarialLoss):
    has_targets = True

    def discriminator(self, real, fake, real_target=None, fake_target=None):
        # Goodfellow et al. 2014, eq. 1: log D(x) + log(1 - D(G(z)))
        return (_bce(real.float(), 1.0 if real_target is None else real_target),
                _bce(fake.float(), 0.0 if fake_target is None else fake_target))


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

    has_targets = True

    def discriminator(self, real, fake, real_target=None, fake_target=None):
        real, fake = real.float(), fake.float()
        return (F.mse_loss(real, _target_like(real, 1.0 if real_target is None else real_target)),
                F.mse_loss(fake, _target_like(fake, 0.0 if fake_target is None else fake_target)))

    def generator(self, fake, real=None):
        fake = fake.float()
        return F.mse_loss(fake, torch.ones_like(fake))


@register_loss("wgan")
class Wasserstein(AdversarialLoss):
    """Arjovsky et al. 2017: the critic maximises E[D(real)] - E[D(fake)]; needs clipping or a penalty."""

    def discriminator(self, real, fake, real_target=None, fake_target=None):
        _no_targets(self, real_target, fake_target)
        return -real.float().mean(), fake.float().mean()

    def generator(self, fake, real=None):
        return -fake.float().mean()


@register_loss("hinge")
class Hinge(AdversarialLoss):
    """Lim & Ye 2017; Miyato et al. 2018, eq. 16-17."""

    def discriminator(self, real, fake, real_target=None, fake_target=None):
        _no_targets(self, real_target, fake_target)
        return F.relu(1.0 - real.float()).mean(), F.relu(1.0 + fake.float()).mean()

    def generator(self, fake, real=None):
        return -fake.float().mean()


@register_loss("ragan")
class RelativisticAverage(AdversarialLoss):
    """RaGAN (Jolicoeur-Martineau 2019, eq. 11-12): is real data more realistic than the average fake?"""

    relativistic = True

    def discriminator(self, real, fake, real_target=None, fake_target=None):
        _no_targets(self, real_target, fake_target)
        real, fake = real.float(), fake.float()
        return _bce(real - fake.mean(), 1.0), _bce(fake - real.mean(), 0.0)

    def generator(self, fake, real=None):
        real, fake = _need_real(real).float(), fake.float()
        return _bce(fake - real.mean(), 1.0) + _bce(real - fake.mean(), 0.0)


@register_loss("ralsgan")
class RelativisticAverageLeastSquares(AdversarialLoss):
    """RaLSGAN (Jolicoeur-Martineau 2019, eq. 15-16)."""

    relativistic = True

    def discriminator(self, real, fake, real_target=None, fake_target=None):
        _no_targets(self, real_target, fake_target)
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


def scale_scores(outputs) -> list[torch.Tensor]:
    """Each scale's scores in a multi-scale discriminator's output: the last of each scale's layer outputs (a
    scale given as one tensor is its scores; a single tensor is one scale)."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [scale[-1] if isinstance(scale, (list, tuple)) else scale for scale in outputs]


class MultiScale(AdversarialLoss):
    """A loss applied to each scale of a multi-scale discriminator, each term summed over the scales, as
    pix2pixHD's GANLoss (a sum, not a mean: more scales weigh more). Label targets pass through to each scale."""

    def __init__(self, loss: AdversarialLoss):
        self.loss = loss

    @property
    def relativistic(self) -> bool:
        return self.loss.relativistic

    @property
    def has_targets(self) -> bool:
        return self.loss.has_targets

    def discriminator(self, real, fake, real_target=None, fake_target=None):
        terms = [self.loss.discriminator(r, f, real_target, fake_target)
                 for r, f in zip(scale_scores(real), scale_scores(fake), strict=True)]
        return sum(term[0] for term in terms), sum(term[1] for term in terms)

    def generator(self, fake, real=None):
        fakes = scale_scores(fake)
        reals = scale_scores(real) if real is not None else [None] * len(fakes)
        return sum(self.loss.generator(f, r) for f, r in zip(fakes, reals, strict=True))
