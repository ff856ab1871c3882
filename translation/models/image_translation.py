"""What pix2pix and CycleGAN share in code: their image geometry and their two optimizers (their shared
options are ImageTranslationConfig in configs.py)."""
from __future__ import annotations

from translation.data.transforms import PairTransform
from translation.models.configs import ImageTranslationConfig
from translation.training.phases import OptimizerSpec


def pair_transform(config: ImageTranslationConfig) -> PairTransform:
    """The training-time geometry the options ask for (resize, crop, flip), applied alike to A and B."""
    return PairTransform(config.preprocess, config.load_size, config.crop_size, config.flip)


def generator_and_discriminator_optimizers(config: ImageTranslationConfig, generators: tuple[str, ...],
                                           discriminators: tuple[str, ...]) -> dict[str, OptimizerSpec]:
    """One optimizer over the generators and one over the discriminators, as the official code."""
    common = {"kind": config.optimizer, "betas": (config.beta1, config.beta2)}
    return {"G": OptimizerSpec(generators, lr=config.lr, **common),
            "D": OptimizerSpec(discriminators, lr=config.lr_D if config.lr_D is not None else config.lr, **common)}
