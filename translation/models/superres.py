"""Super-resolution models as XPixelGroup/BasicSR trains them (its options files train_MSRResNet_x4.yml,
train_MSRGAN_x4.yml, train_RRDBNet_PSNR_x4.yml, train_ESRGAN_x4.yml; models sr_model.py, srgan_model.py,
esrgan_model.py):

    srresnet  G (MSRResNet, or RRDBNet for ESRGAN's PSNR stage) with an L1 pixel loss
    srgan     G from a trained srresnet (--init-from) + the VGG-style D: L1 x 1e-2 + VGG19 conv5_4 x 1 + GAN x 5e-3
    esrgan    the same with RRDBNet and BasicSR's relativistic average GAN terms (losses/relativistic.py)

The data are [-1, 1] as everywhere here (data/superres.py); the nets, D and every loss see [0, 1] images, as
BasicSR's, so its loss weights and released weights mean what they mean there. One step as BasicSR's: G's step,
then D's on the same (detached) output; the moving average of G is the engine's (--ema-decay 0.999).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from translation.checkpoint import read_checkpoint, translates
from translation.losses import adversarial_loss
from translation.losses.relativistic import esrgan_discriminator_terms, esrgan_generator_loss
from translation.models.base import (GANModel, generator_and_discriminator_optimizers, generator_optimizer,
                                     register_model)
from translation.models.configs import ESRGANConfig, SRGANConfig, SRResNetConfig, SuperResConfig
from translation.training.phases import Phase


def generator_options(config: SuperResConfig) -> dict:
    """The generator's architecture options (what its checkpoint spec records)."""
    options = dict(in_channels=config.input_nc, out_channels=config.input_nc, ngf=config.ngf,
                   n_blocks=config.blocks, scale=config.scale)
    if config.netG == "rrdbnet":
        options["growth"] = config.growth
    return options


def describe(spec: dict | None) -> str:
    if spec is None:
        return "no generator G"
    return f"{spec['name']} ({', '.join(f'{k} {v}' for k, v in spec['kwargs'].items())})"


def perceptual_loss(config: SRGANConfig, device) -> torch.nn.Module:
    """The VGG19 conv5_4 loss on `device`; its weights file missing or unusable is a one-line error, at start-up."""
    from translation.losses.perceptual import PerceptualLoss
    from translation.utils.vgg_weights import VGGWeightsError

    try:
        return PerceptualLoss(config.vgg_weights or None).to(device)
    except VGGWeightsError as error:
        raise ValueError(f"{error}\n(or train without the perceptual loss: --lambda-perceptual 0)") from None


@register_model("srresnet")
class SRResNetModel(GANModel):
    """srresnet: a super-resolution generator trained with the L1 pixel loss alone (PSNR-oriented)."""

    config_class = SRResNetConfig
    test_mode = "eval"  # no dropout or batch norm in the generators

    def __init__(self, config: SuperResConfig, device, data=None):
        super().__init__(config, device)
        self.add_net("G", "generator", config.netG, init=config.init, init_gain=config.init_gain,
                     **generator_options(config))
        if config.init_from:
            self._init_generator(config.init_from)

    def _init_generator(self, run: str) -> None:
        """G's weights from a trained run (its raw weights, as BasicSR's pretrain_network_g 'params')."""
        state = read_checkpoint(run)
        theirs, mine = state["net_specs"].get("G"), self.net_specs["G"]
        if theirs != mine:
            raise ValueError(f"--init-from {run}: its generator is {describe(theirs)}, this run's is "
                             f"{describe(mine)}; give the same --netG, --scale, --ngf, --n-blocks (and --growth)")
        self.nets["G"].load_state_dict(state["nets"]["G"])

    @classmethod
    def build_dataset(cls, config: SuperResConfig):
        from translation.data.superres import SuperResDataset

        return SuperResDataset(config.data, "train", scale=config.scale, gt_size=config.gt_size, augment=True,
                               channels=config.input_nc, max_size=config.max_dataset_size)

    def generators(self) -> dict[str, dict]:
        # LR -> HR; inference reads the scale (the output is scale x the input) and the net's value_range
        return {"G": {**translates("AtoB", paired=True), "scale": self.config.scale}}

    def optimizers(self):
        return {"G": generator_optimizer(self.config, ("G",))}

    def phases(self) -> list[Phase]:
        return [Phase("G", nets=("G",), optimizer="G", loss=self.loss_G)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        low, high = batch["A"], batch["B"]
        sr = self.G((low + 1) / 2)
        # fake_B / real_B in [-1, 1] for sheets and the health probe; sr / hr in [0, 1] for the losses and D
        return {"real_A": low, "fake_B": sr * 2 - 1, "real_B": high, "sr": sr, "hr": (high + 1) / 2}

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        return self.pixel_terms(out)

    def pixel_terms(self, out: dict) -> dict[str, torch.Tensor]:
        if self.config.lambda_l1 == 0:
            return {}
        return {"G_L1": F.l1_loss(out["sr"].float(), out["hr"].float()) * self.config.lambda_l1}

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        shown = F.interpolate(outputs["real_A"], scale_factor=self.config.scale, mode="nearest")
        return {"input (nearest)": shown, "output": outputs["fake_B"], "target": outputs["real_B"]}


@register_model("srgan")
class SRGANModel(SRResNetModel):
    """srgan: the generator against BasicSR's VGG-style discriminator, with the perceptual and L1 losses."""

    config_class = SRGANConfig

    def __init__(self, config: SRGANConfig, device, data=None):
        super().__init__(config, device, data)
        self.add_net("D", "discriminator", config.netD, in_channels=config.input_nc, ndf=config.ndf,
                     init=config.init, init_gain=config.init_gain)
        self.gan = adversarial_loss(config.gan_mode)
        self.perceptual = None
        if config.lambda_perceptual > 0:  # a missing weights file stops the run here, before its first step
            self.perceptual = perceptual_loss(config, self.device)

    def optimizers(self):
        return generator_and_discriminator_optimizers(self.config, ("G",), ("D",))

    def phases(self) -> list[Phase]:
        # BasicSR's order: G's step against D as it was, then D's
        return [Phase("G", nets=("G",), optimizer="G", loss=self.loss_G),
                Phase("D", nets=("D",), optimizer="D", loss=self.loss_D)]

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        c, terms = self.config, self.pixel_terms(out)
        if self.perceptual is not None:
            terms["G_perceptual"] = self.perceptual(out["sr"], out["hr"]) * c.lambda_perceptual
        terms["G_GAN"] = self.generator_adversarial(out) * c.lambda_gan
        return terms

    def generator_adversarial(self, out: dict) -> torch.Tensor:
        return self.gan.generator(self.D(out["sr"]))

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        # BasicSR's order: real, then fake (D's batch norm sees each batch on its own)
        pred_real = self.D(out["hr"])
        pred_fake = self.D(out["sr"].detach())
        loss_real, loss_fake = self.gan.discriminator(pred_real, pred_fake)
        return {"D_real": loss_real, "D_fake": loss_fake}


@register_model("esrgan")
class ESRGANModel(SRGANModel):
    """esrgan: RRDBNet and the relativistic average GAN (ESRGAN, Wang et al. 2018)."""

    config_class = ESRGANConfig

    def generator_adversarial(self, out: dict) -> torch.Tensor:
        pred_real = self.D(out["hr"])  # BasicSR's order: D(gt), then D(output)
        return esrgan_generator_loss(pred_real, self.D(out["sr"]))

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        pred_real = self.D(out["hr"])
        pred_fake = self.D(out["sr"].detach())
        loss_real, loss_fake = esrgan_discriminator_terms(pred_real, pred_fake)
        return {"D_real": loss_real, "D_fake": loss_fake}
