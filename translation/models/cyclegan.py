"""CycleGAN (Zhu et al. 2017): two generators, two discriminators, adversarial + cycle + identity losses.

G_A translates A -> B and G_B translates B -> A. D_A judges domain B (real_B vs G_A's fakes) and D_B judges
domain A, as in the official code, so its loss names (D_A, G_A, cycle_A, idt_A, ...) mean the same here.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from translation.config import TrainConfig, option
from translation.data.transforms import PairTransform
from translation.data.unpaired import UnpairedDataset
from translation.losses import discriminator_loss, generator_loss
from translation.models.base import TranslationModel, register_model, set_requires_grad
from translation.models.image_pool import ImagePool


@dataclass
class CycleGANConfig(TrainConfig):
    # Paper / official defaults; those of TrainConfig not repeated here (Adam 2e-4 beta1 0.5, batch 1,
    # 286 -> 256 crops, flips, 100 + 100 epochs, basic 70x70 PatchGAN) already match CycleGAN.
    netG: str = option("resnet_9blocks", "generator architecture (both generators)", flag="--netG")
    norm: str = option("instance", "normalisation layers", choices=("batch", "instance", "none"))
    dropout: bool = option(False, "dropout in the generators (--dropout to enable)")
    gan_mode: str = option("lsgan", "adversarial loss", choices=("vanilla", "lsgan", "wgan", "hinge"))
    lambda_A: float = option(10.0, "weight of the cycle loss A -> B -> A (paper eq. 2)", flag="--lambda-A")
    lambda_B: float = option(10.0, "weight of the cycle loss B -> A -> B (paper eq. 2)", flag="--lambda-B")
    lambda_identity: float = option(0.5, "weight of the identity loss relative to lambda_A/B (paper sec. 5.2; "
                                         "0 disables it and its forward passes)")
    pool_size: int = option(50, "past fakes each discriminator also sees (Shrivastava et al. 2017; 0 = none)")
    serial_batches: bool = option(False, "take A in file order and pair A[i] with B[i mod |B|] instead of "
                                         "shuffling A and picking a random B")


@register_model("cyclegan")
class CycleGANModel(TranslationModel):
    """CycleGAN: unpaired translation in both directions (trainA/ trainB/ folders)."""

    config_class = CycleGANConfig
    test_mode = "eval"  # instance norm and no dropout: "paper" and "eval" give the same outputs

    def __init__(self, config: CycleGANConfig, device):
        super().__init__(config, device)
        c = config
        if c.lambda_identity > 0 and c.input_nc != c.output_nc:
            raise ValueError(f"the identity loss feeds B images to G_A (A -> B), so it needs --input-nc == "
                             f"--output-nc (got {c.input_nc} and {c.output_nc}); use --lambda-identity 0")
        g = {"ngf": c.ngf, "norm": c.norm, "dropout": c.dropout, "init": c.init, "init_gain": c.init_gain}
        d = {"ndf": c.ndf, "n_layers": c.n_layers_D, "norm": c.norm, "init": c.init, "init_gain": c.init_gain}
        # created in the official order so a seeded init draws the same weights
        self.G_A = self.add_net("G_A", "generator", c.netG, in_channels=c.input_nc, out_channels=c.output_nc, **g)
        self.G_B = self.add_net("G_B", "generator", c.netG, in_channels=c.output_nc, out_channels=c.input_nc, **g)
        self.D_A = self.add_net("D_A", "discriminator", c.netD, in_channels=c.output_nc, **d)
        self.D_B = self.add_net("D_B", "discriminator", c.netD, in_channels=c.input_nc, **d)
        # one Adam over both generators and one over both discriminators, as the official code
        self.optimizers = {"G": self.adam(self.G_A, self.G_B), "D": self.adam(self.D_A, self.D_B)}
        self.pool_A = ImagePool(c.pool_size)  # fakes of domain A, shown to D_B
        self.pool_B = ImagePool(c.pool_size)  # fakes of domain B, shown to D_A
        self._last: dict[str, torch.Tensor] = {}

    @classmethod
    def build_dataset(cls, config: CycleGANConfig) -> UnpairedDataset:
        transform = PairTransform(config.preprocess, config.load_size, config.crop_size, config.flip)
        return UnpairedDataset(config.data, "train", config.input_nc, config.output_nc, transform,
                               config.max_dataset_size, serial=config.serial_batches)

    def translators(self) -> dict[str, str]:
        return {"AtoB": "G_A", "BtoA": "G_B"}

    def _discriminator_loss(self, net, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        # halved to slow D down relative to G (paper sec. 4, "divide the objective by 2")
        loss_real = discriminator_loss(self.config.gan_mode, net(real), real=True)
        loss_fake = discriminator_loss(self.config.gan_mode, net(fake.detach()), real=False)
        return 0.5 * (loss_real + loss_fake)

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        c = self.config
        real_a = batch["A"].to(self.device, non_blocking=True)
        real_b = batch["B"].to(self.device, non_blocking=True)
        fake_b = self.G_A(real_a)
        rec_a = self.G_B(fake_b)
        fake_a = self.G_B(real_b)
        rec_b = self.G_A(fake_a)

        # G step first, with both discriminators frozen (official optimize_parameters order)
        set_requires_grad([self.D_A, self.D_B], False)
        self.optimizers["G"].zero_grad(set_to_none=True)
        losses = {}
        if c.lambda_identity > 0:  # G_A should leave B images unchanged, G_B A images (paper sec. 5.2)
            losses["idt_A"] = F.l1_loss(self.G_A(real_b), real_b) * c.lambda_B * c.lambda_identity
            losses["idt_B"] = F.l1_loss(self.G_B(real_a), real_a) * c.lambda_A * c.lambda_identity
        losses["G_A"] = generator_loss(c.gan_mode, self.D_A(fake_b))  # LSGAN, Mao et al. 2017, eq. 9
        losses["G_B"] = generator_loss(c.gan_mode, self.D_B(fake_a))
        losses["cycle_A"] = F.l1_loss(rec_a, real_a) * c.lambda_A  # cycle consistency, paper eq. 2
        losses["cycle_B"] = F.l1_loss(rec_b, real_b) * c.lambda_B
        sum(losses.values()).backward()  # full objective, paper eq. 3 (+ identity)
        self.optimizers["G"].step()

        # D step on real images vs (pooled) fakes; both discriminators share one optimizer step
        set_requires_grad([self.D_A, self.D_B], True)
        self.optimizers["D"].zero_grad(set_to_none=True)
        losses["D_A"] = self._discriminator_loss(self.D_A, real_b, self.pool_B.query(fake_b))
        losses["D_A"].backward()
        losses["D_B"] = self._discriminator_loss(self.D_B, real_a, self.pool_A.query(fake_a))
        losses["D_B"].backward()
        self.optimizers["D"].step()

        self._last = {"real_A": real_a, "fake_B": fake_b, "rec_A": rec_a,
                      "real_B": real_b, "fake_A": fake_a, "rec_B": rec_b}
        self._last = {k: v.detach() for k, v in self._last.items()}
        return {k: v.detach() for k, v in losses.items()}

    def visuals(self) -> dict[str, torch.Tensor]:
        """Columns real_A | fake_B | rec_A | real_B | fake_A | rec_B: the two cycles side by side."""
        return self._last

    def extra_state(self) -> dict:
        return {"pool_A": self.pool_A.state_dict(), "pool_B": self.pool_B.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        for key, pool in (("pool_A", self.pool_A), ("pool_B", self.pool_B)):
            if key not in state:
                raise KeyError(f"the checkpoint has no {key} (not a CycleGAN run?)")
            pool.load_state_dict(state[key], self.device)
