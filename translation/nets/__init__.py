"""Generators and discriminators: the official pix2pix/CycleGAN, pix2pixHD and StarGAN architectures, noise GANs.

    create_generator("unet_256", in_channels=3, out_channels=3, ngf=64, norm="batch", dropout=True)
    create_discriminator("basic", in_channels=6, ndf=64, norm="batch")
    create_generator("global", ngf=64, n_downsample_global=4, n_blocks_global=9)       # pix2pixHD's G1
    create_discriminator("multiscale", in_channels=6, num_D=2)   # D(x) -> per scale, its layers' outputs
    create_generator("stargan", ngf=64, n_labels=5, n_blocks=6, init="pytorch")   # G(x, labels)
    create_generator("rrdbnet", scale=4, init="pytorch")   # ESRGAN's G, BasicSR's layout and init
    create_generator("deepfill", cnum=48, init="pytorch")  # G(image, mask) -> (coarse, refined); GLCIC's: "glcic"
    create_generator("dcgan", z_dim=100, image_size=64, n_classes=10)                 # G(z, labels) -> images
    create_discriminator("dcgan", image_size=64, norm="none", spectral_norm=True)     # D(x) -> logits (N,)
    build_net(spec_of(net))   # the same architecture again, from the description checkpoints store
"""
# importing registers the architectures
from . import dcgan, deepfill, discriminators, generators, glcic, mlp, pix2pixhd, stargan, superres  # noqa: F401
from . import info_head  # noqa: F401  (InfoGAN's Q head)
from . import autoencoder  # noqa: F401  (EBGAN's discriminators)
from . import biggan  # noqa: F401  (BigGAN's generator and discriminator)
from .layers import INITS, NORMS, apply_spectral_norm
from .minibatch import MinibatchDiscrimination, MinibatchStdDev
from .noise import CONDITIONS, NoiseGenerator, SampleDiscriminator
from .official import (WeightsMismatchError, guess_discriminator_flags, guess_generator_flags, guess_stargan_spec,
                       load_official_file, load_official_state_dict)
from .registry import (build_net, count_parameters, create_discriminator, create_generator, create_net,
                       list_discriminators, list_generators, spec_of)

__all__ = ["CONDITIONS", "INITS", "MinibatchDiscrimination", "MinibatchStdDev", "NORMS", "NoiseGenerator",
           "SampleDiscriminator", "WeightsMismatchError", "apply_spectral_norm", "build_net", "count_parameters",
           "create_discriminator", "create_generator", "create_net", "guess_discriminator_flags",
           "guess_generator_flags", "guess_stargan_spec", "list_discriminators", "list_generators",
           "load_official_file", "load_official_state_dict", "spec_of"]
