"""What pix2pix, CycleGAN and pix2pixHD share in code: their image geometry, and pix2pixHD's discriminator and
VGG loss, which the other two take as options (their shared options are ImageTranslationConfig in configs.py)."""
from __future__ import annotations

import torch

from translation.data.transforms import PairTransform
from translation.losses.feature_matching import feature_matching_loss
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


def conditional_d_terms(model, out: dict) -> dict[str, torch.Tensor]:
    """A conditional D's terms (pix2pix, pix2pixHD): generated pairs (A, G(A)) -> fake, real pairs (A, B) -> real;
    fake first, so batch-norm statistics see them in the official order."""
    real_a = out["real_A"]
    pred_fake = model.D(torch.cat([real_a, out["fake_B"].detach()], 1))
    pred_real = model.D(torch.cat([real_a, out["real_B"]], 1))
    loss_real, loss_fake = model.gan.discriminator(pred_real, pred_fake)
    return {"D_real": loss_real, "D_fake": loss_fake}


def conditional_g_terms(model, out: dict, lambda_feat: float, lambda_vgg: float) -> dict[str, torch.Tensor]:
    """G's terms against a conditional D: fool it (G_GAN), and with pix2pixHD's losses match its features on the
    real pair (G_GAN_Feat) and VGG19's on the target (G_VGG, when the model loaded the VGG net)."""
    real_a, fake_b, real_b = out["real_A"], out["fake_B"], out["real_B"]
    pred_fake = model.D(torch.cat([real_a, fake_b], 1))
    needs_real = model.gan.relativistic or lambda_feat > 0
    pred_real = model.D(torch.cat([real_a, real_b], 1)) if needs_real else None
    terms = {"G_GAN": model.gan.generator(pred_fake, pred_real if model.gan.relativistic else None)}
    if lambda_feat > 0:
        terms["G_GAN_Feat"] = feature_matching_loss(pred_fake, pred_real, lambda_feat)
    if model.vgg is not None:
        terms["G_VGG"] = model.vgg(fake_b.float(), real_b.float()) * lambda_vgg
    return terms


def vgg_loss(device) -> torch.nn.Module:
    """The VGG19 perceptual loss on `device`; its weights file missing or unusable is a one-line error, at start-up."""
    from translation.losses.vgg import VGGLoss
    from translation.utils.vgg_weights import VGGWeightsError

    try:
        return VGGLoss().to(device)
    except VGGWeightsError as error:
        raise ValueError(f"{error}\n(or train without the VGG loss: --lambda-vgg 0)") from None
