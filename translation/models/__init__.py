"""Trainable models, registered by name: `create_model("pix2pix", config, device)`."""
from translation.models.base import MODELS, TranslationModel, build_net, register_model


def get_model_class(name: str):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name]


# Importing a model module registers it.
from translation.models import pix2pix  # noqa: E402,F401
from translation.models import cyclegan  # noqa: E402,F401

__all__ = ["MODELS", "TranslationModel", "build_net", "get_model_class", "register_model"]
