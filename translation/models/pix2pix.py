"""pix2pix (Isola et al. 2017): U-Net generator, conditional PatchGAN, loss cGAN + lambda_L1 * L1.

One step, as the official optimize_parameters(): fake_B = G(A) once; the D phase on (A, fake_B) vs (A, B),
halved; then the G phase against the just-updated D, plus L1 to the target.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from translation.checkpoint import translates
from translation.data.datasets import PairedDataset
from translation.losses import adversarial_loss, feature_matching_loss
from translation.models.base import GANModel, generator_and_discriminator_optimizers, register_model
from translation.models.configs import Pix2PixConfig
from translation.models.image_translation import discriminator_net, pair_transform, vgg_loss
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
        """Real pairs -> real, generated pairs -> fake (fake first: D's batch-norm statistics see them in the
        official order)."""
        real_a = out["real_A"]
        pred_fake = self.D(torch.cat([real_a, out["fake_B"].detach()], 1))
        pred_real = self.D(torch.cat([real_a, out["real_B"]], 1))
        loss_real, loss_fake = self.gan.discriminator(pred_real, pred_fake)
        return {"D_real": loss_real, "D_fake": loss_fake}

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        """Fool D and stay close to the target in L1 (paper eq. 4)."""
        c = self.config
        real_a, fake_b, real_b = out["real_A"], out["fake_B"], out["real_B"]
        pred_fake = self.D(torch.cat([real_a, fake_b], 1))
        needs_real = self.gan.relativistic or c.lambda_feat > 0
        pred_real = self.D(torch.cat([real_a, real_b], 1)) if needs_real else None
        terms = {"G_GAN": self.gan.generator(pred_fake, pred_real if self.gan.relativistic else None),
                 "G_L1": F.l1_loss(fake_b.float(), real_b.float()) * c.lambda_l1}
        if c.lambda_feat > 0:  # pix2pixHD's upgrades (--lambda-feat, --lambda-vgg)
            terms["G_GAN_Feat"] = feature_matching_loss(pred_fake, pred_real, c.lambda_feat)
        if self.vgg is not None:
            terms["G_VGG"] = self.vgg(fake_b.float(), real_b.float()) * c.lambda_vgg
        return terms

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        return {"input": outputs["real_A"], "output": outputs["fake_B"], "target": outputs["real_B"]}
