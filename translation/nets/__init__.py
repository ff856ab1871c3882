"""Generators and discriminators with the official pix2pix/CycleGAN architectures.

    create_generator("unet_256", in_channels=3, out_channels=3, ngf=64, norm="batch", dropout=True)
    create_discriminator("basic", in_channels=6, ndf=64, norm="batch")
"""
from . import discriminators, generators  # noqa: F401  (importing registers the architectures)
from .official import (WeightsMismatchError, guess_discriminator_flags, guess_generator_flags,
                       load_official_file, load_official_state_dict)
from .registry import (count_parameters, create_discriminator, create_generator, list_discriminators,
                       list_generators)

__all__ = ["WeightsMismatchError", "count_parameters", "create_discriminator",
           "create_generator", "guess_discriminator_flags", "guess_generator_flags", "list_discriminators",
           "list_generators", "load_official_file", "load_official_state_dict"]
