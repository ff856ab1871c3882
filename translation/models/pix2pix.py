"""pix2pix (Isola et al. 2017): U-Net generator, conditional PatchGAN, loss cGAN + lambda_L1 * L1.

One step, as the official optimize_parameters(): fake_B = G(A) once; the D phase on (A, fake_B) vs (A, B),
halved; then the G phase against the just-updated D, plus L1 to the target.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from translation.checkpoint import translates
from translation.data.datasets import PairedDataset
from translation.losses import adversarial_loss
from translation.models.base import GANModel, generator_and_discriminator_optimizers, register_model
from translation.models.configs import Pix2PixConfig
from translation.models.image_translation import (conditional_d_terms, conditional_g_terms, discriminator_net,
                                                   pair_transform, vgg_loss)
from translation.training.phases import Phase


@register_model("pix2pix")
class Pix2PixModel(GANModel):
    """pix2pix: paired translation (aligned A|B files or A/ B/ folders)."""

    config_class = Pix2PixConfig
    # The paper runs G at test time as in training (dropout on, batch statistics of the test image).
    test_mode = "paper"

    def __init__(self, config: Pix2PixConfig, device, data=None):
        super().__init__(config, device)
        c = config
        init = {"init": c.init, "init_gain": c.init_gain}
        self.add_net("G", "generator", c.netG, in_channels=c.input_nc, out_channels=c.output_nc, ngf=c.ngf,
                     norm=c.norm, dropout=c.dropout, **init)
        # conditional D sees the input and the (real or fake) output stacked on channels
        discriminator_net(self, "D", c, c.input_nc + c.output_nc, init)
        self.gan = adversarial_loss(c.gan_mode, multiscale=bool(c.multiscale_D))
        self.vgg = vgg_loss(self.device) if c.lambda_vgg > 0 else None

    @classmethod
    def build_dataset(cls, config: Pix2PixConfig) -> PairedDataset:
        return PairedDataset(config.data, "train", config.direction, config.input_nc, config.output_nc,
                             pair_transform(config), config.max_dataset_size)

    def generators(self) -> dict[str, dict]:
        return {"G": translates(self.config.direction, paired=True)}

    def optimizers(self):
        return generator_and_discriminator_optimizers(self.config, ("G",), ("D",))

    def phases(self) -> list[Phase]:
        # D's objective is halved to slow it down relative to G (paper sec. 3.3)
        return [Phase("D", nets=("D",), optimizer="D", loss=self.loss_D, weight=0.5),
                Phase("G", nets=("G",), optimizer="G", loss=self.loss_G)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        return {"real_A": batch["A"], "fake_B": self.G(batch["A"]), "real_B": batch["B"]}

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        """Real pairs -> real, generated pairs -> fake."""
        return conditional_d_terms(self, out)

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        """Fool D and stay close to the target in L1 (paper eq. 4), plus pix2pixHD's losses when asked for."""
        c = self.config
        adversarial = conditional_g_terms(self, out, c.lambda_feat, c.lambda_vgg)
        l1 = F.l1_loss(out["fake_B"].float(), out["real_B"].float()) * c.lambda_l1
        return {"G_GAN": adversarial.pop("G_GAN"), "G_L1": l1, **adversarial}  # the terms in the logs' order

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        return {"input": outputs["real_A"], "output": outputs["fake_B"], "target": outputs["real_B"]}
