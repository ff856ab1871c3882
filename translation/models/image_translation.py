"""What pix2pix, CycleGAN and pix2pixHD share in code: their image geometry, and pix2pixHD's discriminator and
VGG loss, which the other two take as options (their shared options are ImageTranslationConfig in configs.py)."""
from __future__ import annotations

import torch

from translation.data.transforms import PairTransform
from translation.models.configs import ImageTranslationConfig


def pair_transform(config: ImageTranslationConfig) -> PairTransform:
    """The training-time geometry the options ask for (resize, crop, flip), applied alike to A and B."""
    return PairTransform(config.preprocess, config.load_size, config.crop_size, config.flip)


def discriminator_net(model, key: str, config: ImageTranslationConfig, in_channels: int, init: dict) -> None:
    """Add D `key`: --netD's PatchGAN, or with --multiscale-D N pix2pixHD's multi-scale D of N scales."""
    c = config
    if c.multiscale_D:
        model.add_net(key, "discriminator", "multiscale", in_channels=in_channels, ndf=c.ndf, n_layers=c.n_layers_D,
                      num_D=c.multiscale_D, norm=c.norm, spectral_norm=c.spectral_norm, **init)
    else:
        model.add_net(key, "discriminator", c.netD, in_channels=in_channels, ndf=c.ndf, n_layers=c.n_layers_D,
                      norm=c.norm, spectral_norm=c.spectral_norm, **init)


def vgg_loss(device) -> torch.nn.Module:
    """The VGG19 perceptual loss on `device`; its weights file missing or unusable is a one-line error, at start-up."""
    from translation.losses.vgg import VGGLoss
    from translation.utils.vgg_weights import VGGWeightsError

    try:
        return VGGLoss().to(device)
    except VGGWeightsError as error:
        raise ValueError(f"{error}\n(or train without the VGG loss: --lambda-vgg 0)") from None
