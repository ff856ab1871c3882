"""Losses: adversarial losses (one registry), the regularizers phases add, and UnrolledGAN's look-ahead critic."""
from .adversarial import AdversarialLoss, adversarial_loss, adversarial_losses, register_loss
from .regularizers import DRAGAN, R1, GradientPenalty, WeightClipping
from .unrolled import unrolled_critic

__all__ = ["DRAGAN", "R1", "AdversarialLoss", "GradientPenalty", "WeightClipping", "adversarial_loss",
           "adversarial_losses", "register_loss", "unrolled_critic"]
