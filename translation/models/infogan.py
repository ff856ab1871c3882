"""InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative
Adversarial Nets"): G takes z and latent codes c (categorical: one-hot; continuous: uniform in [-1, 1];
nets/latent_codes.py), and a head Q on D's body must recover c from G(z, c). Maximising Q's log-likelihood of c is a
lower bound on the mutual information I(c; G(z, c)),
    L_I = H(c) + E[log Q(c | G(z, c))] <= I(c; G(z, c)),
so G learns to make the codes visible in its images: on digits, the 10-way code tends to pick the digit.

One step (models/gan.py's, plus the information term):
  forward   z ~ N(0, I) and c from its prior give the latent; fakes G(latent) once
  D phase   D's real/fake loss (and the family's penalties and techniques), plus lambda * (-L_I + H(c)) on the
            detached fakes: Q's negative log-likelihood of their codes, which trains Q and D's body
  G phase   every n_critic steps: G's adversarial loss plus the same lambda * (-L_I + H(c)), which trains G
As the official code (openai/InfoGAN): Q's weights are D's ("d_net" scope), trained by D's optimizer (lr 2e-4)
on D's loss with the information term subtracted, and G's loss has the same term (lr 1e-3). The paper says
only that L_I trains G and Q. Q(c | x): a softmax per categorical code, and a Gaussian of standard deviation 1
around Q's mean per continuous code (the official MNIST experiment's fix_std=True). The logged terms D_info_cat,
G_info_cat are lambda x the cross-entropy; the MI estimate is H(c) minus it (ln 10 - CE for one 10-way code);
mutual_information() gives it on fresh samples, with Q's accuracy on the categorical codes.
Where this differs from the official code: z ~ N(0, I) (theirs: uniform in [-1, 1]); the family's DCGAN nets
(theirs: D conv 64, conv 128, FC 1024, Q FC 128 on it; G FC 1024, FC 7x7x128, two deconvs); the continuous
codes' H(c) is the uniform prior's ln 2 (theirs evaluates a N(0, 1) prior's log density there); D sees
images in [-1, 1] through tanh (theirs: a Bernoulli mean in [0, 1]).
"""
from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F

from translation.checkpoint import samples
from translation.nets.latent_codes import LatentCodes
from translation.models.base import generator_and_discriminator_optimizers, register_model
from translation.models.configs import InfoGANConfig
from translation.models.gan import NoiseGAN

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def latent_codes(config: InfoGANConfig) -> LatentCodes:
    categorical = () if config.categorical == [0] else tuple(config.categorical)
    return LatentCodes(config.z_dim, categorical, config.continuous)


def information_terms(codes: LatentCodes, q_out: torch.Tensor, categories: torch.Tensor,
                      continuous: torch.Tensor) -> dict[str, torch.Tensor]:
    """Q's negative log-likelihood of the codes, per kind, batch means summed over the codes:
    "cat": cross-entropy of each categorical code; "cont": -log N(c; Q's mean, 1) of each continuous code.
    The MI lower bound is H(c) minus their sum (entropy())."""
    q_out = q_out.float()
    terms, start = {}, 0
    if codes.categorical:
        ce = 0
        for i, k in enumerate(codes.categorical):
            ce = ce + F.cross_entropy(q_out[:, start:start + k], categories[:, i])
            start += k
        terms["cat"] = ce
    if codes.continuous:
        mean = q_out[:, start:start + codes.continuous]
        terms["cont"] = (0.5 * (continuous.float() - mean) ** 2 + HALF_LOG_2PI).sum(1).mean()
    return terms


def entropy(codes: LatentCodes) -> dict[str, float]:
    """H(c) per kind, in nats: ln k per categorical code, ln 2 per continuous code (uniform on [-1, 1])."""
    out = {}
    if codes.categorical:
        out["cat"] = sum(math.log(k) for k in codes.categorical)
    if codes.continuous:
        out["cont"] = codes.continuous * math.log(2.0)
    return out


@register_model("infogan")
class InfoGAN(NoiseGAN):
    config_class = InfoGANConfig

    def __init__(self, config: InfoGANConfig, device, data=None):
        super().__init__(config, device, data)  # the family's G and D, loss and penalties
        c = config
        self.codes = latent_codes(c)
        template = self.remove_net("G")  # G takes the whole latent: z and the codes
        self.add_net("G", "generator", template["name"], init=c.init, init_gain=c.init_gain,
                     **{**template["kwargs"], "z_dim": self.codes.dim})
        self.add_net("Q", "discriminator", "infogan_q", init=c.init, init_gain=c.init_gain,
                     in_features=self._feature_size(),
                     n_outputs=sum(self.codes.categorical) + self.codes.continuous)

    def _feature_size(self) -> int:
        """Width of D's last hidden features, from one image in eval mode (no statistics or RNG touched)."""
        D, size = self.nets["D"], self.config.image_size
        with torch.no_grad():
            D.eval()
            width = D.features(torch.zeros(1, self.channels, size, size, device=self.device)).shape[1]
            D.train()
        return width

    def generators(self) -> dict[str, dict]:
        return {"G": {**samples(self.codes.dim), "codes": self.codes.record()}}

    def optimizers(self):
        return generator_and_discriminator_optimizers(self.config, ("G",), ("D", "Q"))  # Q: D's optimizer

    def phases(self):
        d_phase, g_phase = super().phases()
        return [dataclasses.replace(d_phase, nets=("D", "Q")), g_phase]  # Q learns with D's body

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        real = batch["image"]
        n, device = real.size(0), real.device
        noise = torch.randn(n, self.config.z_dim, device=device)
        categories, continuous = self.codes.draw_codes(n, device=device)
        latent = self.codes.compose(noise, categories, continuous)
        return {"real": real, "labels": None, "fake": self.G(latent), "categories": categories,
                "continuous": continuous}

    def info_terms(self, prefix: str, features: torch.Tensor, out: dict) -> dict[str, torch.Tensor]:
        """lambda x Q's negative log-likelihood of the fakes' codes, as terms prefix_info_cat, prefix_info_cont."""
        terms = information_terms(self.codes, self.Q(features), out["categories"], out["continuous"])
        return {f"{prefix}_info_{kind}": self.config.lambda_info * value for kind, value in terms.items()}

    # --- the two phases: one D call on the fakes gives D's score and the features Q reads ----------------------
    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        real, fake = out["real"], out["fake"].detach()
        score_real = self.D(self.d_input(real))
        score_fake, features = self.D(self.d_input(fake), return_features=True)
        real_target, fake_target = self.d_targets(real.size(0), real.device)
        loss_real, loss_fake = self.gan.discriminator(score_real, score_fake, real_target, fake_target)
        terms = {"D_real": loss_real, "D_fake": loss_fake}
        for name, penalty in self.penalties:
            terms[name] = penalty(self.D, real, fake)
        return {**terms, **self.info_terms("D", features, out)}

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        c, real, fake = self.config, out["real"], out["fake"]
        if c.unrolled_steps or c.feature_matching > 0:  # the family's G loss, then D's features once more for Q
            terms = super().loss_G(out)
            features = self.D.features(self.d_input(fake))
        else:
            score_fake, features = self.D(self.d_input(fake), return_features=True)
            score_real = self.D(self.d_input(real)) if self.gan.relativistic else None
            terms = {"G": self.gan.generator(score_fake, score_real)}
        return {**terms, **self.info_terms("G", features, out)}


@torch.no_grad()
def mutual_information(model: InfoGAN, n: int = 1000, seed: int = 0) -> dict[str, float]:
    """On n fresh samples (nets in eval mode, restored after): the MI lower bound per kind of code (H(c) minus
    Q's negative log-likelihood, nats), their sum "mi", and Q's accuracy on each categorical code ("accuracy_c0")."""
    codes, nets = model.codes, [model.nets[key] for key in ("G", "D", "Q")]
    modes = [net.training for net in nets]
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, codes.noise, generator=generator)
    categories, continuous = codes.draw_codes(n, generator)
    try:
        for net in nets:
            net.eval()
        G, D, Q = nets
        fake = G(codes.compose(noise, categories, continuous).to(model.device))
        q_out = Q(D.features(fake)).cpu()
    finally:
        for net, mode in zip(nets, modes):
            net.train(mode)
    nll = information_terms(codes, q_out, categories, continuous)
    result = {f"mi_{kind}": h - nll[kind].item() for kind, h in entropy(codes).items()}
    result["mi"] = sum(result.values())
    start = 0
    for i, k in enumerate(codes.categorical):
        guess = q_out[:, start:start + k].argmax(1)
        result[f"accuracy_c{i}"] = (guess == categories[:, i]).float().mean().item()
        start += k
    return result
