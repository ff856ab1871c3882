"""Losses: adversarial losses (one registry) and the regularizers phases add; small and pure."""
from .adversarial import AdversarialLoss, adversarial_loss, adversarial_losses, register_loss
from .regularizers import DRAGAN, R1, GradientPenalty, WeightClipping

__all__ = ["DRAGAN", "R1", "AdversarialLoss", "GradientPenalty", "WeightClipping", "adversarial_loss",
           "adversarial_losses", "register_loss"]
