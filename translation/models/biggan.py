"""BigGAN (Brock et al. 2019, "Large Scale GAN Training for High Fidelity Natural Image Synthesis") at CPU sizes,
as ajbrock/BigGAN-PyTorch trains CIFAR-10 (scripts/launch_cifar_ema.sh); the nets are nets/biggan.py's.

One step is models/gan.py's with BigGAN's settings as defaults: hinge loss, D every step and G every 4th
(--n-critic 4: the reference's 4 D steps per iteration, each on its own batch), Adam 2e-4 betas (0, 0.999) for
both, spectral norm in G and D, class-conditional G and projection D, an EMA of G's weights (decay 0.9999) that
`sample` and `translate` use. With --lambda-ortho, G's phase adds BigGAN's orthogonal regularization of every G
weight of two or more axes but the shared class embedding (term G_ortho; losses/regularizers.py).

Where this differs from the reference (each the family's way of doing it):
  - fakes are drawn for the real batch's labels, and G's phase judges the fakes D has just seen; the reference
    draws new z and uniformly random classes for each D step and for G's step;
  - the EMA warms up as training/ema.py's does (decay min(0.9999, (1 + n) / (10 + n)) after n updates) instead of
    copying the weights for the first 1,000 iterations (--ema_start 1000) and then averaging at 0.9999;
  - the orthogonal regularization is a loss term whose gradient is the one the reference adds directly;
  - sampling uses G's batch-norm running statistics (eval mode, the reference's --G_eval_mode), so an image does
    not depend on the others drawn with it; the reference's CIFAR sample script uses each batch's statistics.
"""
from __future__ import annotations

import torch

from translation.losses import orthogonal_regularization
from translation.models.base import register_model
from translation.models.configs import BigGANConfig, biggan_resolutions
from translation.models.gan import NoiseGAN


@register_model("biggan")
class BigGAN(NoiseGAN):
    config_class = BigGANConfig

    def add_players(self) -> None:
        c = self.config
        g_sides, d_sides = biggan_resolutions(c.image_size)
        # the nets initialise their own weights (they are spectrally normalised when made): init "pytorch" keeps it
        common = {"image_size": c.image_size, "n_classes": len(self.classes), "init": "pytorch",
                  "weight_init": c.init, "weight_gain": c.init_gain}
        self.add_net("G", "generator", "biggan", z_dim=c.z_dim, out_channels=self.channels, ch=c.ch or c.ngf,
                     shared_dim=c.shared_dim, hier=c.hier,
                     attention=c.attention if c.attention in g_sides else 0, **common)
        self.add_net("D", "discriminator", "biggan", in_channels=self.channels, ch=c.ch or c.ndf, spectral_norm=True,
                     attention=c.attention if c.attention in d_sides else 0, **common)

    def ortho_weights(self) -> list[torch.Tensor]:
        """G's weights the orthogonal regularization reaches: all of two or more axes but the shared embedding
        (the reference's blacklist); spectrally normalised layers give their unnormalised weights."""
        g = self.nets["G"]
        shared = {id(p) for p in g.embed.parameters()} if g.embed is not None else set()
        return [p for p in g.parameters() if p.dim() >= 2 and id(p) not in shared]

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        terms = super().loss_G(out)
        if self.config.lambda_ortho > 0:
            terms["G_ortho"] = self.config.lambda_ortho * orthogonal_regularization(self.ortho_weights())
        return terms
