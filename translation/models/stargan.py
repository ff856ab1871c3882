"""StarGAN (Choi et al. 2018): one generator G(x, c) for many domains, a critic with a domain classifier.

One step, as the official solver: target labels are the batch's own labels in random order; D learns real
vs fake (WGAN), to classify real images' domains and a gradient penalty on mixes of real and fake; every
n_critic-th step G learns to fool D, to be classified as the target domains, and to come back to the input
when translated back to its own labels (reconstruction).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from translation.checkpoint import translates_to_domains
from translation.labels import exclusive_indices, one_change_each
from translation.losses import GradientPenalty, adversarial_loss
from translation.models.base import GANModel, generator_and_discriminator_optimizers, register_model
from translation.models.configs import StarGANConfig
from translation.training.phases import Phase


def exclusive_groups(config: StarGANConfig) -> list[list[str]]:
    return [[name.strip() for name in group.split(",") if name.strip()] for group in config.exclusive]


@register_model("stargan")
class StarGANModel(GANModel):
    """StarGAN: one generator for many domains (CelebA attributes or one folder per domain)."""

    config_class = StarGANConfig
    # The official test runs G in train mode: instance statistics of each test image, as in training.
    test_mode = "paper"

    def __init__(self, config: StarGANConfig, device, data=None):
        super().__init__(config, device)
        if data is None:
            raise ValueError("StarGAN takes its domains from its training data: build it with data")
        c = config
        self.domains, self.label_kind = list(data.domains), data.label_kind
        self.exclusive = exclusive_indices(self.domains, exclusive_groups(c))
        init = {"init": c.init, "init_gain": c.init_gain}
        n = len(self.domains)
        self.add_net("G", "generator", "stargan", in_channels=c.input_nc, out_channels=c.input_nc, ngf=c.ngf,
                     n_labels=n, n_blocks=c.g_blocks, **init)
        self.add_net("D", "discriminator", "stargan", in_channels=c.input_nc, image_size=c.image_size, ndf=c.ndf,
                     n_labels=n, n_layers=c.d_layers, spectral_norm=c.spectral_norm, **init)
        self.gan = adversarial_loss(c.gan_mode)
        self.gradient_penalty = GradientPenalty(c.lambda_gp)

    @classmethod
    def build_dataset(cls, config: StarGANConfig):
        from translation.data.labelled import open_labelled_set

        return open_labelled_set(config.data, "train", attrs=config.attrs, crop_size=config.crop_size,
                                 image_size=config.image_size, flip=config.flip, input_nc=config.input_nc,
                                 max_dataset_size=config.max_dataset_size)

    def generators(self) -> dict[str, dict]:
        names = exclusive_groups(self.config)
        return {"G": translates_to_domains(self.domains, self.label_kind,
                                           exclusive=[[n for n in group if n in self.domains] for group in names])}

    def optimizers(self):
        return generator_and_discriminator_optimizers(self.config, ("G",), ("D",))

    def phases(self) -> list[Phase]:
        return [Phase("D", nets=("D",), optimizer="D", loss=self.loss_D),
                Phase("G", nets=("G",), optimizer="G", loss=self.loss_G, every=self.config.n_critic)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        real, label = batch["A"], batch["label"]
        # the targets: the batch's own labels in a random order (official solver), drawn on the CPU
        order = torch.randperm(real.size(0)).to(label.device)
        target, target_index = label[order], batch["label_index"][order]
        return {"real": real, "label": label, "label_index": batch["label_index"], "target": target,
                "target_index": target_index, "fake": self.G(real, target)}

    def classification_loss(self, logits: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Multi-label: binary cross-entropy summed over attributes, averaged over the batch; single-label:
        cross-entropy (the official classification_loss)."""
        logits = logits.float()
        if self.label_kind == "single_label":
            return F.cross_entropy(logits, index)
        return F.binary_cross_entropy_with_logits(logits, labels.float(), reduction="sum") / logits.size(0)

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        real, fake = out["real"], out["fake"].detach()
        score_real, class_real = self.D(real)
        score_fake, _ = self.D(fake)
        loss_real, loss_fake = self.gan.discriminator(score_real, score_fake)
        return {"D_real": loss_real, "D_fake": loss_fake,
                "D_cls": self.config.lambda_cls * self.classification_loss(class_real, out["label"],
                                                                           out["label_index"]),
                "D_gp": self.gradient_penalty(self.D, real, fake)}

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        real, fake = out["real"], out["fake"]
        score_fake, class_fake = self.D(fake)
        score_real = self.D(real)[0] if self.gan.relativistic else None
        back = self.G(fake, out["label"])
        return {"G_fake": self.gan.generator(score_fake, score_real),
                "G_rec": self.config.lambda_rec * F.l1_loss(back.float(), real.float()),
                "G_cls": self.config.lambda_cls * self.classification_loss(class_fake, out["target"],
                                                                           out["target_index"])}

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        """The inputs, then one column per domain (the official sample sheet)."""
        real = outputs["real"]
        columns = {"input": real}
        with torch.no_grad():
            for name, labels in zip(self.domains, one_change_each(outputs["label"], self.label_kind, self.exclusive)):
                columns[name] = self.G(real, labels)
        return columns
