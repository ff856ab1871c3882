"""EBGAN (Zhao, Mathieu & LeCun 2017, "Energy-based Generative Adversarial Network"): D is an auto-encoder and
its reconstruction error the energy, E(x) = ||Dec(Enc(x)) - x|| (nets/autoencoder.py), low near the data.

One step (models/gan.py's, with energies in the place of logits):
  D phase   L_D = E(x) + max(0, m - E(G(z))): pull the energy of real images down and push that of fakes up,
            up to the margin m (--margin) only; a fake beyond it adds nothing and gives D no gradient
  G phase   every n_critic steps: L_G = E(G(z)) + lambda_PT * f_PT(S) (--lambda-pt; 0: plain EBGAN), S the
            encoder's codes of the fake batch and f_PT the pulling-away term, the mean squared cosine similarity
            of every two of them: orthogonal codes give 0, identical ones 1. It pushes G's samples apart in D's
            code space, against mode collapse
Each term is the mean over the batch. D judges reals and fakes in separate calls, as models/gan.py's D does.
DiffAugment, instance noise, spectral norm, clipping, TTUR and the penalties (on the energy as D's score) work
as in models/gan.py; options that need a classifier's labels, head or hidden layer are refused (configs.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from translation.models.base import register_model
from translation.models.configs import EBGANConfig
from translation.models.gan import NoiseGAN

# health: D "has won" when the mean of its terms, E(real) and the fakes' hinge, stays below this fraction of the
# margin, i.e. D reconstructs the data almost perfectly and holds nearly every fake beyond the margin
NEAR_ZERO_FRACTION = 0.05


def margin_loss(energies: torch.Tensor, margin: float) -> torch.Tensor:
    """D's term on fakes, mean of max(0, m - E(G(z))): 0, with no gradient, for a fake beyond the margin."""
    return F.relu(margin - energies.float()).mean()


def pulling_away(codes: torch.Tensor) -> torch.Tensor:
    """f_PT(S) = 1 / (N (N - 1)) * sum over i != j of (S_i . S_j / (|S_i| |S_j|))^2, for codes S (N, F); a zero
    code counts as orthogonal to every other. A batch of one has no pair: 0."""
    n = codes.size(0)
    if n < 2:
        return codes.float().sum() * 0.0  # still in the graph, so the term's gradient is defined
    unit = F.normalize(codes.float().flatten(1), dim=1)
    cosines = unit @ unit.t()
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=codes.device)
    return cosines.pow(2).masked_select(off_diagonal).sum() / (n * (n - 1))


@register_model("ebgan")
class EBGAN(NoiseGAN):
    config_class = EBGANConfig
    # for the health monitor: D's terms are energies, G's adversarial term is "G" (G_pt is a regularizer)
    adversarial_terms = {"D": ("D_real", "D_fake"), "G": ("G",)}

    def __init__(self, config: EBGANConfig, device, data=None):
        super().__init__(config, device, data)  # the family's G (and its D, replaced here)
        c = config
        self.remove_net("D")
        self.add_net("D", "discriminator", f"{c.arch}_ae", init=c.init, init_gain=c.init_gain,
                     in_channels=self.channels, image_size=c.image_size, ndf=c.ndf, norm=c.norm_D,
                     n_classes=len(self.classes), spectral_norm=c.spectral_norm)

    @property
    def health_near_zero(self) -> float:
        """What "near 0" is for D's loss (training/health.py): a fraction of the margin, the energies' scale."""
        return NEAR_ZERO_FRACTION * self.config.margin

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        real, fake, labels = out["real"], out["fake"].detach(), out["labels"]
        terms = {"D_real": self.D(self.d_input(real), labels).mean(),
                 "D_fake": margin_loss(self.D(self.d_input(fake), labels), self.config.margin)}
        extra = () if labels is None else (labels,)
        for name, penalty in self.penalties:  # on the energy, D's score
            terms[name] = penalty(self.D, real, fake, *extra)
        return terms

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        energies, codes = self.D(self.d_input(out["fake"]), out["labels"], return_codes=True)
        terms = {"G": energies.mean()}
        if self.config.lambda_pt > 0:
            terms["G_pt"] = self.config.lambda_pt * pulling_away(codes)
        return terms
