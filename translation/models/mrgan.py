"""MRGAN (Che et al. 2017, "Mode Regularized Generative Adversarial Networks"), in the paper's
manifold-diffusion form (MDGAN, its Algorithm 1). An encoder E maps images to z, so G(E(x)) is a
reconstruction of x: a point of G's manifold tied to each real image, which G cannot drop the way it can
drop a mode of G(z).

One step, one iteration of the algorithm:
  manifold step   D_M learns x (real) vs G(E(x)) (fake); then G and E together minimise
                  G's adversarial loss against D_M on G(E(x)) + lambda * d(x, G(E(x)))   (the geometric
                  regularizer, --lambda-geometric; d = ||x - G(E(x))||^2, the squared L2 distance per image)
  diffusion step  D learns G(E(x)) ("real") vs G(z) (fake); then G alone minimises its adversarial loss against
                  D on G(z), which spreads G(z) over the manifold the reconstructions now lie on
The diffusion step draws G(E(x)) and G(z) again after the manifold step changed G and E, as the algorithm does.
D_M and D train every step; G (and E) every n_critic steps. Each discriminator is built alike and gets the
loss, penalties, clipping and input techniques of models/gan.py; feature matching and UnrolledGAN join the
diffusion step (their "real" data: G(E(x))).
E is the discriminator architecture with z_dim outputs (batch norm, no dropout), trained in the manifold step
only, as in the paper.
"""
from __future__ import annotations

import torch

from translation.losses import WeightClipping
from translation.models.base import discriminator_optimizer, generator_optimizer, register_model
from translation.models.configs import MRGANConfig
from translation.models.gan import NoiseGAN
from translation.training.phases import Phase


@register_model("mrgan")
class MRGAN(NoiseGAN):
    config_class = MRGANConfig
    # for the health monitor: G's adversarial term is the diffusion step's, judged by D
    adversarial_terms = {"D": ("D_real", "D_fake"), "G": ("G",), "D_M": ("D_M_real", "D_M_fake")}

    def __init__(self, config: MRGANConfig, device, data=None):
        super().__init__(config, device, data)  # G, and D of the diffusion step
        c = config
        twin = self.net_specs["D"]["kwargs"]  # D_M: built as D
        self.add_net("D_M", "discriminator", c.arch, init=c.init, init_gain=c.init_gain, **twin)
        self.add_net("E", "discriminator", c.arch, in_channels=self.channels, image_size=c.image_size, ndf=c.ndf,
                     norm="batch", n_outputs=c.z_dim, init=c.init, init_gain=c.init_gain,
                     **({"dropout": 0.0} if c.arch == "mlp" else {}))  # an encoder: deterministic

    def optimizers(self):
        # one optimizer for G and E: the manifold step trains both, the diffusion step G alone
        c = self.config
        return {"G": generator_optimizer(c, ("G", "E")),
                "D_M": discriminator_optimizer(c, ("D_M",)), "D": discriminator_optimizer(c, ("D",))}

    def phases(self) -> list[Phase]:
        c = self.config

        def clip(key):
            return (WeightClipping(self.nets[key], c.clip),) if c.clip > 0 else ()

        return [Phase("D_M", nets=("D_M",), optimizer="D_M", loss=self.loss_D_M, after_step=clip("D_M")),
                Phase("manifold", nets=("G", "E"), optimizer="G", loss=self.loss_manifold, every=c.n_critic),
                Phase("D", nets=("D",), optimizer="D", loss=self.loss_D, after_step=clip("D")),
                Phase("G", nets=("G",), optimizer="G", loss=self.loss_G, every=c.n_critic)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        real = batch["image"]
        labels = batch["label"] if self.classes else None
        z = torch.randn(real.size(0), self.config.z_dim, device=real.device)
        return {"real": real, "labels": labels, "z": z, "recon": self.G(self.E(real), labels),
                "fake": self.G(z, labels)}

    # --- what the steps share -------------------------------------------------------------------------
    def geometric(self, real: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
        """lambda * d(x, G(E(x))), d the squared L2 distance of two images (summed over pixels: a mean per
        pixel makes lambda 0.2 so weak that E and G learn one blurred image for every input)."""
        return self.config.lambda_geometric * (real.float() - recon.float()).pow(2).flatten(1).sum(1).mean()

    def critic_terms(self, key: str, real: torch.Tensor, fake: torch.Tensor, labels) -> dict[str, torch.Tensor]:
        """Discriminator `key`'s terms on (real, fake), named after it: key_real, key_fake, key_gp, ..."""
        critic = getattr(self, key)
        real_target, fake_target = self.d_targets(real.size(0), real.device)
        loss_real, loss_fake = self.gan.discriminator(critic(self.d_input(real), labels),
                                                      critic(self.d_input(fake), labels), real_target, fake_target)
        terms = {f"{key}_real": loss_real, f"{key}_fake": loss_fake}
        extra = () if labels is None else (labels,)
        for name, penalty in self.penalties:  # "D_gp" -> "D_M_gp" for D_M
            terms[key + name[1:]] = penalty(critic, real, fake, *extra)
        return terms

    def redrawn(self, out: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """G(E(x)) and G(z) from the nets as they are now, detached (the diffusion step's inputs)."""
        return (self.G(self.E(out["real"]), out["labels"]).detach(), self.G(out["z"], out["labels"]).detach())

    # --- manifold step ---------------------------------------------------------------------------------
    def loss_D_M(self, out: dict) -> dict[str, torch.Tensor]:
        return self.critic_terms("D_M", out["real"], out["recon"].detach(), out["labels"])

    def loss_manifold(self, out: dict) -> dict[str, torch.Tensor]:
        real, recon, labels = out["real"], out["recon"], out["labels"]
        score_real = self.D_M(self.d_input(real), labels) if self.gan.relativistic else None
        return {"G_manifold": self.gan.generator(self.D_M(self.d_input(recon), labels), score_real),
                "G_geometric": self.geometric(real, recon)}

    # --- diffusion step: models/gan.py's step with G(E(x)) in the place of the data ------------------------
    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        recon, fake = self.redrawn(out)
        return self.critic_terms("D", recon, fake, out["labels"])

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        c = self.config
        needs_real = self.gan.relativistic or c.feature_matching > 0 or c.unrolled_steps > 0
        recon = self.G(self.E(out["real"]), out["labels"]).detach() if needs_real else None
        return super().loss_G({"real": recon, "fake": self.G(out["z"], out["labels"]), "labels": out["labels"]})

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        return {"real": outputs["real"][:8], "reconstructed": outputs["recon"][:8], "samples": outputs["fake"][:8]}
