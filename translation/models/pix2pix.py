"""pix2pix (Isola et al. 2017): U-Net generator, conditional PatchGAN, loss cGAN + lambda_L1 * L1."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from translation.config import TrainConfig, option
from translation.data.datasets import PairedDataset
from translation.data.transforms import PairTransform
from translation.losses import discriminator_loss, generator_loss
from translation.models.base import TranslationModel, register_model, set_requires_grad


@dataclass
class Pix2PixConfig(TrainConfig):
    # Paper / official defaults; those of TrainConfig not repeated here already match pix2pix.
    netG: str = option("unet_256", "generator architecture", flag="--netG")
    norm: str = option("batch", "normalisation layers", choices=("batch", "instance", "none"))
    dropout: bool = option(True, "dropout in the generator, also at test time in the paper (--no-dropout)")
    gan_mode: str = option("vanilla", "adversarial loss", choices=("vanilla", "lsgan", "wgan", "hinge"))
    lambda_l1: float = option(100.0, "weight of the L1 reconstruction loss (paper eq. 4)", flag="--lambda-l1")
    direction: str = option("AtoB", "AtoB: left/A images are inputs; BtoA: the reverse", choices=("AtoB", "BtoA"))


@register_model("pix2pix")
class Pix2PixModel(TranslationModel):
    """pix2pix: paired translation (aligned A|B files or A/ B/ folders)."""

    config_class = Pix2PixConfig
    # The paper runs G at test time as in training (dropout on, batch statistics of the test image).
    test_mode = "paper"

    def __init__(self, config: Pix2PixConfig, device):
        super().__init__(config, device)
        c = config
        init = {"init": c.init, "init_gain": c.init_gain}
        self.G = self.add_net("G", "generator", c.netG, in_channels=c.input_nc, out_channels=c.output_nc,
                              ngf=c.ngf, norm=c.norm, dropout=c.dropout, **init)
        # conditional D sees the input and the (real or fake) output stacked on channels
        self.D = self.add_net("D", "discriminator", c.netD, in_channels=c.input_nc + c.output_nc, ndf=c.ndf,
                              n_layers=c.n_layers_D, norm=c.norm, **init)
        self.optimizers = {"G": self.adam(self.G), "D": self.adam(self.D)}
        self._last: dict[str, torch.Tensor] = {}

    @classmethod
    def build_dataset(cls, config: Pix2PixConfig) -> PairedDataset:
        transform = PairTransform(config.preprocess, config.load_size, config.crop_size, config.flip)
        return PairedDataset(config.data, "train", config.direction, config.input_nc, config.output_nc,
                             transform, config.max_dataset_size)

    def translators(self) -> dict[str, str]:
        return {self.config.direction: "G"}

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        c = self.config
        real_a = batch["A"].to(self.device, non_blocking=True)
        real_b = batch["B"].to(self.device, non_blocking=True)
        fake_b = self.G(real_a)

        # D step: real pairs -> real, generated pairs -> fake; halved to slow D relative to G (paper sec. 3.3)
        set_requires_grad([self.D], True)
        self.optimizers["D"].zero_grad(set_to_none=True)
        pred_fake = self.D(torch.cat([real_a, fake_b.detach()], 1))
        pred_real = self.D(torch.cat([real_a, real_b], 1))
        loss_d_fake = discriminator_loss(c.gan_mode, pred_fake, real=False)
        loss_d_real = discriminator_loss(c.gan_mode, pred_real, real=True)
        loss_d = 0.5 * (loss_d_fake + loss_d_real)
        loss_d.backward()
        self.optimizers["D"].step()

        # G step: fool D and stay close to the target in L1 (paper eq. 4)
        set_requires_grad([self.D], False)
        self.optimizers["G"].zero_grad(set_to_none=True)
        loss_g_gan = generator_loss(c.gan_mode, self.D(torch.cat([real_a, fake_b], 1)))
        loss_g_l1 = F.l1_loss(fake_b, real_b) * c.lambda_l1
        loss_g = loss_g_gan + loss_g_l1
        loss_g.backward()
        self.optimizers["G"].step()

        self._last = {"input": real_a.detach(), "output": fake_b.detach(), "target": real_b.detach()}
        return {"G_GAN": loss_g_gan.detach(), "G_L1": loss_g_l1.detach(),
                "D_real": loss_d_real.detach(), "D_fake": loss_d_fake.detach()}

    def visuals(self) -> dict[str, torch.Tensor]:
        return self._last
