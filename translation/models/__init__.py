"""Trainable models, registered by name in MODELS ("pix2pix", "cyclegan"); see base.py for what a model declares."""
from translation.models.base import MODELS, GANModel, register_model

# Importing a model module registers it.
from translation.models import pix2pix  # noqa: E402,F401
from translation.models import cyclegan  # noqa: E402,F401

__all__ = ["MODELS", "GANModel", "register_model"]
