"""CycleGAN (Zhu et al. 2017): two generators, two discriminators, adversarial + cycle + identity losses.

G_A translates A -> B and G_B translates B -> A. D_A judges domain B (real_B vs G_A's fakes) and D_B judges
domain A, as in the official code, so its loss names (D_A, G_A, cycle_A, idt_A, ...) mean the same here.
One step, as the official optimize_parameters(): the four generator passes once; the G phase (both
discriminators frozen) on the full objective; then the D phase on real images vs pooled fakes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from translation.checkpoint import translates
from translation.data.unpaired import UnpairedDataset
from translation.losses import adversarial_loss, feature_matching_loss
from translation.models.base import GANModel, generator_and_discriminator_optimizers, register_model
from translation.models.configs import CycleGANConfig
from translation.models.image_pool import ImagePool
from translation.models.image_translation import discriminator_net, pair_transform, vgg_loss
from translation.training.phases import Phase


@register_model("cyclegan")
class CycleGANModel(GANModel):
    """CycleGAN: unpaired translation in both directions (trainA/ trainB/ folders)."""

    config_class = CycleGANConfig
    test_mode = "eval"  # instance norm and no dropout: "paper" and "eval" give the same outputs

    def __init__(self, config: CycleGANConfig, device, data=None):
        super().__init__(config, device)
        c = config
        g = {"ngf": c.ngf, "norm": c.norm, "dropout": c.dropout, "init": c.init, "init_gain": c.init_gain}
        init = {"init": c.init, "init_gain": c.init_gain}
        # created in the official order so a seeded init draws the same weights
        self.add_net("G_A", "generator", c.netG, in_channels=c.input_nc, out_channels=c.output_nc, **g)
        self.add_net("G_B", "generator", c.netG, in_channels=c.output_nc, out_channels=c.input_nc, **g)
        discriminator_net(self, "D_A", c, c.output_nc, init)
        discriminator_net(self, "D_B", c, c.input_nc, init)
        self.gan = adversarial_loss(c.gan_mode, multiscale=bool(c.multiscale_D))
        self.vgg = vgg_loss(self.device) if c.lambda_vgg > 0 else None
        self.pool_A = ImagePool(c.pool_size)  # fakes of domain A, shown to D_B
        self.pool_B = ImagePool(c.pool_size)  # fakes of domain B, shown to D_A

    @classmethod
    def build_dataset(cls, config: CycleGANConfig) -> UnpairedDataset:
        return UnpairedDataset(config.data, "train", config.input_nc, config.output_nc, pair_transform(config),
                               config.max_dataset_size, serial=config.serial_batches)

    def generators(self) -> dict[str, dict]:
        return {"G_A": translates("AtoB"), "G_B": translates("BtoA")}

    def optimizers(self):
        # one Adam over both generators and one over both discriminators, as the official code
        return generator_and_discriminator_optimizers(self.config, ("G_A", "G_B"), ("D_A", "D_B"))

    def phases(self) -> list[Phase]:
        return [Phase("G", nets=("G_A", "G_B"), optimizer="G", loss=self.loss_G),
                Phase("D", nets=("D_A", "D_B"), optimizer="D", loss=self.loss_D)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        """Both cycles; the key order is the sheets' column order."""
        real_a, real_b = batch["A"], batch["B"]
        fake_b = self.G_A(real_a)
        rec_a = self.G_B(fake_b)
        fake_a = self.G_B(real_b)
        rec_b = self.G_A(fake_a)
        return {"real_A": real_a, "fake_B": fake_b, "rec_A": rec_a, "real_B": real_b, "fake_A": fake_a,
                "rec_B": rec_b}

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        """Full objective, paper eq. 3 (+ identity, sec. 5.2)."""
        c, gan = self.config, self.gan
        real_a, real_b, fake_a, fake_b = out["real_A"], out["real_B"], out["fake_A"], out["fake_B"]
        terms = {}
        if c.lambda_identity > 0:  # G_A should leave B images unchanged, G_B A images
            terms["idt_A"] = F.l1_loss(self.G_A(real_b).float(), real_b.float()) * c.lambda_B * c.lambda_identity
            terms["idt_B"] = F.l1_loss(self.G_B(real_a).float(), real_a.float()) * c.lambda_A * c.lambda_identity
        terms["G_A"] = gan.generator(self.D_A(fake_b), self.D_A(real_b) if gan.relativistic else None)
        terms["G_B"] = gan.generator(self.D_B(fake_a), self.D_B(real_a) if gan.relativistic else None)
        terms["cycle_A"] = F.l1_loss(out["rec_A"].float(), real_a.float()) * c.lambda_A  # paper eq. 2
        terms["cycle_B"] = F.l1_loss(out["rec_B"].float(), real_b.float()) * c.lambda_B
        # pix2pixHD's losses need an image and its target: unpaired, those are each cycle's reconstruction and
        # its input (the discriminator of that domain, D_B for A's cycle, gives the features)
        if c.lambda_feat > 0:
            terms["feat_A"] = feature_matching_loss(self.D_B(out["rec_A"]), self.D_B(real_a), c.lambda_feat)
            terms["feat_B"] = feature_matching_loss(self.D_A(out["rec_B"]), self.D_A(real_b), c.lambda_feat)
        if self.vgg is not None:
            terms["vgg_A"] = self.vgg(out["rec_A"].float(), real_a.float()) * c.lambda_vgg
            terms["vgg_B"] = self.vgg(out["rec_B"].float(), real_b.float()) * c.lambda_vgg
        return terms

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        """Each D on its domain's real images vs (pooled) fakes; both share one optimizer step."""
        return {"D_A": self._discriminator_loss(self.D_A, out["real_B"], self.pool_B.query(out["fake_B"])),
                "D_B": self._discriminator_loss(self.D_B, out["real_A"], self.pool_A.query(out["fake_A"]))}

    def _discriminator_loss(self, net, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        # halved to slow D down relative to G (paper sec. 4, "divide the objective by 2")
        loss_real, loss_fake = self.gan.discriminator(net(real), net(fake.detach()))
        return 0.5 * (loss_real + loss_fake)

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        """Columns real_A | fake_B | rec_A | real_B | fake_A | rec_B: the two cycles side by side."""
        return outputs

    def extra_state(self) -> dict:
        return {"pool_A": self.pool_A.state_dict(), "pool_B": self.pool_B.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        for key, pool in (("pool_A", self.pool_A), ("pool_B", self.pool_B)):
            if key not in state:
                raise KeyError(f"the checkpoint has no {key} (not a CycleGAN run?)")
            pool.load_state_dict(state[key], self.device)
