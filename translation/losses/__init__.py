"""Losses: adversarial losses (one registry), the regularizers phases add, UnrolledGAN's look-ahead critic, and
pix2pixHD's discriminator feature matching and VGG perceptual loss (any image model may add them)."""
from .adversarial import AdversarialLoss, MultiScale, adversarial_loss, adversarial_losses, register_loss
from .feature_matching import feature_matching_loss
from .regularizers import DRAGAN, R1, GradientPenalty, WeightClipping, orthogonal_regularization
from .unrolled import unrolled_critic
from .vgg import VGGLoss

__all__ = ["DRAGAN", "R1", "AdversarialLoss", "GradientPenalty", "MultiScale", "WeightClipping", "adversarial_loss",
           "adversarial_losses", "feature_matching_loss", "orthogonal_regularization", "register_loss",
           "unrolled_critic", "VGGLoss"]
