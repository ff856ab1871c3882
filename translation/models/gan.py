"""GANs that draw images from noise, unconditional or given a class label, and the named models of the
literature as their configurations (configs.py holds each one's defaults; this file, what a step does).

One step: z ~ N(0, I) (and the batch's own labels for a conditional GAN) gives fakes once; the D phase
learns real vs fake, with any penalty (WGAN-GP, DRAGAN, R1) and the input-side techniques (label
smoothing, flipped labels, instance noise, DiffAugment); every n_critic-th step the G phase learns to fool
the just-updated D (plus feature matching). WGAN's weight clipping runs after each D step.

    gan      MLP G/D, non-saturating loss                 wgan     weight clipping 0.01, RMSprop 5e-5, n_critic 5
    dcgan    DCGAN G/D, non-saturating, Adam 2e-4 β1 0.5  wgan-gp  penalty 10, Adam 1e-4 β (0, 0.9), n_critic 5
    lsgan    least squares                                sngan    hinge, spectral norm in D
    cgan     G and D see the class label
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from translation.checkpoint import samples
from translation.losses import DRAGAN, R1, GradientPenalty, WeightClipping, adversarial_loss, unrolled_critic
from translation.models.base import (GANModel, discriminator_lr, generator_and_discriminator_optimizers,
                                    register_model)
from translation.models.configs import (CGANConfig, DCGANConfig, LSGANConfig, NoiseGANConfig, SNGANConfig,
                                        VanillaGANConfig, WGANConfig, WGANGPConfig)
from translation.training.augment import diff_augment, instance_noise
from translation.training.phases import Phase


class NoiseGAN(GANModel):
    """The family's model; the registered names below are its configurations."""

    config_class = NoiseGANConfig
    test_mode = "eval"

    def __init__(self, config: NoiseGANConfig, device, data=None):
        super().__init__(config, device)
        c = config
        self.classes = list(data.classes) if (c.conditional and data is not None) else []
        if c.conditional and not self.classes:
            raise ValueError("--conditional needs labelled data (class sub-folders, or digits/MNIST/CIFAR-10)")
        self.channels = c.channels or (data.channels if data is not None else 3)
        self.add_players()
        self.gan = adversarial_loss(c.gan_mode)
        self.penalties = [(name, penalty) for name, penalty, weight in (
            ("D_gp", GradientPenalty(c.lambda_gp), c.lambda_gp), ("D_dragan", DRAGAN(c.lambda_dragan), c.lambda_dragan),
            ("D_r1", R1(c.lambda_r1), c.lambda_r1)) if weight > 0]

    def add_players(self) -> None:
        """Nets G and D of --arch with the family's options (a model with nets of its own overrides this)."""
        c = self.config
        common = {"image_size": c.image_size, "n_classes": len(self.classes), "init": c.init,
                  "init_gain": c.init_gain, **({"attention": c.attention} if c.attention else {})}
        self.add_net("G", "generator", c.arch, z_dim=c.z_dim, out_channels=self.channels, ngf=c.ngf, **common)
        self.add_net("D", "discriminator", c.arch, in_channels=self.channels, ndf=c.ndf, norm=c.norm_D,
                     condition=c.condition, spectral_norm=c.spectral_norm, minibatch_std=c.minibatch_std,
                     minibatch_discrimination=c.minibatch_discrimination, **common)

    @classmethod
    def build_dataset(cls, config: NoiseGANConfig):
        from translation.data.image_sets import open_image_set

        return open_image_set(config.data, config.image_size, channels=config.channels or None,
                              labels=config.conditional, max_dataset_size=config.max_dataset_size)

    def generators(self) -> dict[str, dict]:
        return {"G": samples(self.config.z_dim, self.classes or None)}

    def optimizers(self):
        return generator_and_discriminator_optimizers(self.config, ("G",), ("D",))

    def phases(self) -> list[Phase]:
        clip = (WeightClipping(self.nets["D"], self.config.clip),) if self.config.clip > 0 else ()
        return [Phase("D", nets=("D",), optimizer="D", loss=self.loss_D, after_step=clip),
                Phase("G", nets=("G",), optimizer="G", loss=self.loss_G, every=self.config.n_critic)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        real = batch["image"]
        labels = batch["label"] if self.classes else None
        z = torch.randn(real.size(0), self.config.z_dim, device=real.device)
        return {"real": real, "labels": labels, "fake": self.G(z, labels)}

    # --- what D sees ----------------------------------------------------------------------------------
    def d_input(self, images: torch.Tensor) -> torch.Tensor:
        c = self.config
        if c.diffaugment:
            images = diff_augment(images, c.diffaugment)
        return instance_noise(images, c.instance_noise * (1.0 - self.progress))

    def d_targets(self, n: int, device) -> tuple:
        """(real, fake) targets for D: None (the loss's own 1 and 0) unless smoothing or flips ask."""
        c = self.config
        if c.smooth_real is None and c.flip_labels == 0:
            return None, None
        if c.smooth_real is None:
            real = torch.ones(n, device=device)
        elif len(c.smooth_real) == 1:
            real = torch.full((n,), c.smooth_real[0], device=device)
        else:
            low, high = c.smooth_real
            real = low + (high - low) * torch.rand(n, device=device)
        fake = torch.zeros(n, device=device)
        if c.flip_labels > 0:  # swap the two targets of the images picked
            flip = torch.rand(n, device=device) < c.flip_labels
            real, fake = torch.where(flip, fake, real), torch.where(flip, real, fake)
        return real, fake

    # --- the two phases --------------------------------------------------------------------------------
    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        real, fake, labels = out["real"], out["fake"].detach(), out["labels"]
        score_real = self.D(self.d_input(real), labels)
        score_fake = self.D(self.d_input(fake), labels)
        real_target, fake_target = self.d_targets(real.size(0), real.device)
        loss_real, loss_fake = self.gan.discriminator(score_real, score_fake, real_target, fake_target)
        terms = {"D_real": loss_real, "D_fake": loss_fake}
        extra = () if labels is None else (labels,)
        for name, penalty in self.penalties:
            terms[name] = penalty(self.D, real, fake, *extra)
        return terms

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        real, fake, labels = out["real"], out["fake"], out["labels"]
        if self.config.unrolled_steps:  # against D some steps ahead (UnrolledGAN)
            def objective(critic):
                return sum(self.gan.discriminator(critic(self.d_input(real), labels),
                                                  critic(self.d_input(fake), labels)))

            critic = unrolled_critic(self.nets["D"], objective, self.config.unrolled_steps,
                                     discriminator_lr(self.config))
            score_fake = critic(self.d_input(fake), labels)
            score_real = critic(self.d_input(real), labels) if self.gan.relativistic else None
            return {"G": self.gan.generator(score_fake, score_real)}
        score_fake = self.D(self.d_input(fake), labels)
        score_real = self.D(self.d_input(real), labels) if self.gan.relativistic else None
        terms = {"G": self.gan.generator(score_fake, score_real)}
        if self.config.feature_matching > 0:  # match the mean of D's last hidden features (Salimans 2016)
            _, real_features = self.D(self.d_input(real), labels, return_features=True)
            _, fake_features = self.D(self.d_input(fake), labels, return_features=True)
            terms["G_feature_matching"] = self.config.feature_matching * F.mse_loss(
                fake_features.float().mean(0), real_features.float().mean(0).detach())
        return terms

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        return {"real": outputs["real"][:8], "samples": outputs["fake"][:8]}


def _named(name: str, config_class, summary: str):
    model = type(config_class.__name__.replace("Config", "Model"), (NoiseGAN,),
                 {"config_class": config_class, "__doc__": summary, "__module__": __name__})
    return register_model(name)(model)


VanillaGAN = _named("gan", VanillaGANConfig, "The original GAN (Goodfellow et al. 2014).")
DCGAN = _named("dcgan", DCGANConfig, "Deep convolutional GAN (Radford et al. 2016).")
WGAN = _named("wgan", WGANConfig, "Wasserstein GAN with weight clipping (Arjovsky et al. 2017).")
WGANGP = _named("wgan-gp", WGANGPConfig, "Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).")
LSGAN = _named("lsgan", LSGANConfig, "Least squares GAN (Mao et al. 2017).")
SNGAN = _named("sngan", SNGANConfig, "Spectrally normalised GAN (Miyato et al. 2018).")
CGAN = _named("cgan", CGANConfig, "Conditional GAN (Mirza & Osindero 2014).")
