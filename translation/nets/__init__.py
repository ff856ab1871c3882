"""Generators and discriminators with the official pix2pix/CycleGAN and StarGAN architectures.

    create_generator("unet_256", in_channels=3, out_channels=3, ngf=64, norm="batch", dropout=True)
    create_discriminator("basic", in_channels=6, ndf=64, norm="batch")
    create_generator("stargan", ngf=64, n_labels=5, n_blocks=6, init="pytorch")   # G(x, labels)
    build_net(spec_of(net))   # the same architecture again, from the description checkpoints store
"""
from . import discriminators, generators, stargan  # noqa: F401  (importing registers the architectures)
from .layers import INITS, NORMS
from .official import (WeightsMismatchError, guess_discriminator_flags, guess_generator_flags, guess_stargan_spec,
                       load_official_file, load_official_state_dict)
from .registry import (build_net, count_parameters, create_discriminator, create_generator, create_net,
                       list_discriminators, list_generators, spec_of)

__all__ = ["INITS", "NORMS", "WeightsMismatchError", "build_net", "count_parameters", "create_discriminator",
           "create_generator", "create_net", "guess_discriminator_flags", "guess_generator_flags",
           "guess_stargan_spec", "list_discriminators", "list_generators", "load_official_file",
           "load_official_state_dict", "spec_of"]
