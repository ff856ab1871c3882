"""What pix2pix and CycleGAN share in code: their image geometry (their shared options are
ImageTranslationConfig in configs.py)."""
from __future__ import annotations

from translation.data.transforms import PairTransform
from translation.models.configs import ImageTranslationConfig


def pair_transform(config: ImageTranslationConfig) -> PairTransform:
    """The training-time geometry the options ask for (resize, crop, flip), applied alike to A and B."""
    return PairTransform(config.preprocess, config.load_size, config.crop_size, config.flip)
