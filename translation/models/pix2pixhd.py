"""pix2pixHD (Wang et al. 2018): coarse-to-fine generator, multi-scale discriminators, feature matching and a
VGG perceptual loss, as the official NVIDIA/pix2pixHD.

One step, as the official train.py: fake = G(input) once; the G phase (GAN + lambda_feat * feature matching +
lambda_vgg * VGG) against D as it was, then the D phase on the same (detached) fake, its loss halved. D sees
cat(input, image), the input being the one-hot label map (+ instance boundaries) or the input image.

Coarse to fine: train --netG global, then --netG local --init-from THAT_RUN; --niter-fix-global K trains only the
local enhancer for K epochs (the G phase holds the global part back: Phase.frozen_until, no gradient code here).
"""
from __future__ import annotations

import math

import torch

from translation.checkpoint import read_checkpoint, translates
from translation.data.datasets import PairedDataset
from translation.data.label_maps import show_labels
from translation.data.transforms import PairTransform
from translation.losses import adversarial_loss
from translation.models.base import GANModel, generator_and_discriminator_optimizers, register_model
from translation.models.configs import Pix2PixHDConfig
from translation.models.image_translation import conditional_d_terms, conditional_g_terms, vgg_loss
from translation.nets.pix2pixhd import init_local_from_global
from translation.training.phases import Phase

GLOBAL_PART = "G.model."  # the local enhancer's global generator (its parameters are named model.N.*)


def input_channels(config: Pix2PixHDConfig) -> int:
    """What G reads: the one-hot label map or the input image, plus the instance boundaries."""
    return (config.label_nc or config.input_nc) + int(config.instance)


@register_model("pix2pixhd")
class Pix2PixHDModel(GANModel):
    """pix2pixHD: paired translation at high resolution (label maps or images)."""

    config_class = Pix2PixHDConfig
    test_mode = "eval"  # instance norm without running statistics and no dropout: eval and paper agree

    def __init__(self, config: Pix2PixHDConfig, device, data=None):
        super().__init__(config, device)
        c = config
        init = {"init": c.init, "init_gain": c.init_gain}
        g_in = input_channels(c)
        shape = dict(in_channels=g_in, out_channels=c.output_nc, ngf=c.ngf, n_downsample_global=c.n_downsample_global,
                     n_blocks_global=c.n_blocks_global, norm=c.norm)
        if c.netG == "local":
            shape.update(n_local_enhancers=c.n_local_enhancers, n_blocks_local=c.n_blocks_local)
        self.add_net("G", "generator", c.netG, **shape, **init)
        self.add_net("D", "discriminator", "multiscale", in_channels=g_in + c.output_nc, ndf=c.ndf,
                     n_layers=c.n_layers_D, num_D=c.num_D, norm=c.norm, spectral_norm=c.spectral_norm, **init)
        if c.init_from:
            self._init_global_part(c.init_from)
        self.gan = adversarial_loss(c.gan_mode, multiscale=True)
        self.lambda_feat = c.lambda_feat if c.ganFeat_loss else 0.0
        self.lambda_vgg = c.lambda_vgg if c.vgg_loss else 0.0
        self.vgg = None
        if self.lambda_vgg > 0:  # a missing weights file stops the run here, before its first step
            self.vgg = vgg_loss(self.device)
        # --niter-fix-global epochs, in steps as the trainer counts them (an epoch: the data set in batches)
        steps_per_epoch = max(1, math.ceil(len(data) / c.batch_size)) if data is not None else 1
        self.fix_global_steps = c.niter_fix_global * steps_per_epoch

    def _init_global_part(self, run: str) -> None:
        state = read_checkpoint(run)
        if state.get("model") != "pix2pixhd" or state["net_specs"]["G"]["name"] != "global":
            raise ValueError(f"--init-from {run}: not a pix2pixhd --netG global run")
        init_local_from_global(self.nets["G"], state["nets"]["G"])

    @classmethod
    def build_dataset(cls, config: Pix2PixHDConfig) -> PairedDataset:
        ids = (("A",) if config.label_nc else ()) + (("inst",) if config.instance else ())
        targets = ("A", "B", "inst") if config.instance else ("A", "B")
        transform = PairTransform(config.preprocess, config.load_size, config.crop_size, config.flip,
                                  targets=targets, ids=ids, multiple=config.size_multiple)
        return PairedDataset(config.data, "train", config.direction, config.input_nc, config.output_nc, transform,
                             config.max_dataset_size, label_nc=config.label_nc, instance=config.instance)

    def generators(self) -> dict[str, dict]:
        # what translate must feed G: label maps one-hot, instance maps' boundaries
        inputs = {"label_nc": self.config.label_nc} if self.config.label_nc else {}
        inputs.update({"instance": True} if self.config.instance else {})
        return {"G": {**translates(self.config.direction, paired=True), **inputs}}

    def optimizers(self):
        return generator_and_discriminator_optimizers(self.config, ("G",), ("D",))

    def phases(self) -> list[Phase]:
        held = ((GLOBAL_PART, self.fix_global_steps),) if self.fix_global_steps else ()
        # the official order: G against D as it was, then D; D's objective halved (train.py: loss_D * 0.5)
        return [Phase("G", nets=("G",), optimizer="G", loss=self.loss_G, frozen_until=held),
                Phase("D", nets=("D",), optimizer="D", loss=self.loss_D, weight=0.5)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        return {"real_A": batch["A"], "fake_B": self.G(batch["A"]), "real_B": batch["B"]}

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        return conditional_g_terms(self, out, self.lambda_feat, self.lambda_vgg)

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        return conditional_d_terms(self, out)

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        real_a = outputs["real_A"]
        shown = show_labels(real_a, self.config.label_nc) if self.config.label_nc else real_a[:, :self.config.input_nc]
        return {"input": shown, "output": outputs["fake_B"], "target": outputs["real_B"]}
