"""MAD-GAN (Ghosh et al. 2018, "Multi-Agent Diverse Generative Adversarial Networks"): k generators and one
discriminator that tells which generator made a sample, or that it is real. To win, D pushes the generators
towards different modes of the data; the generators together are a mixture model of it.

One step (models/gan.py's, for k generators):
  forward   one z per image, the same for every generator: G_i(z) for i < k (MAD-GAN-Sim compares the
            generators on the same z)
  D phase   cross-entropy over k + 1 classes, G_i's samples class i and real images class k; the real batch
            and each generator's weigh the same, as the paper's D sees a uniform mixture of the k + 1 sources.
            D judges one source per call (reals, then each generator's batch), as models/gan.py does
  G phase   every n_critic steps: G_i minimises -log D_real(G_i(z)), where D_real = softmax(D(x))[k]
            (--gan-mode vanilla/nonsaturating, the paper's practice; minimax: log(1 - D_real), its equation);
            with --lambda-diversity, plus MAD-GAN-Sim's competing objective (diversity below)

One optimizer over all generators: G_i's terms depend on its own weights only (the other generators' samples
are detached where G_i's terms read them), and Adam, RMSprop and SGD update each weight on its own, so this
is the same as one optimizer per generator. The generators share no layers (the paper shares all but the
last between its image generators; not done here). DiffAugment, instance noise, feature matching (per
generator), the minibatch layers, spectral norm, TTUR and the penalties work as in models/gan.py; the
penalties see D's log-odds of "real" against "any generator".
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from translation.checkpoint import samples
from translation.losses import WeightClipping
from translation.models.base import generator_and_discriminator_optimizers, register_model
from translation.models.configs import MADGANConfig
from translation.models.gan import NoiseGAN
from translation.training.phases import Phase

MARGIN = 1.0  # MAD-GAN-Sim's margin scale: the margin is MARGIN x the cosine similarity of two samples


def real_logit(logits: torch.Tensor) -> torch.Tensor:
    """log(D_real / (1 - D_real)) from D's k + 1 logits (the last one real): a binary D's logit, so the
    binary losses and penalties apply to it unchanged."""
    return logits[:, -1] - torch.logsumexp(logits[:, :-1], dim=1)


def diversity(real_prob: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """MAD-GAN-Sim's competing objective per generator, (k,): for the same z, G_i's sample should be judged
    more real than G_j's by a margin that grows with their similarity,
        mean over z and j != i of max(0, MARGIN * cos(phi_i, phi_j) - D_real(G_i(z)) + D_real(G_j(z))),
    phi being D's last hidden features. G_j's side is detached: each generator minimises its own objective.
    real_prob: (k, N); features: (k, N, F)."""
    k = real_prob.size(0)
    unit = F.normalize(features.float(), dim=2)
    similarity = torch.einsum("inf,jnf->ijn", unit, unit.detach())
    p = real_prob.float()
    hinge = F.relu(MARGIN * similarity - p[:, None, :] + p.detach()[None, :, :])
    others = ~torch.eye(k, dtype=torch.bool, device=hinge.device)
    return (hinge * others[:, :, None]).sum(1).mean(1) / (k - 1)


@register_model("madgan")
class MADGAN(NoiseGAN):
    config_class = MADGANConfig

    def __init__(self, config: MADGANConfig, device, data=None):
        super().__init__(config, device, data)  # the family's G and D, its loss and penalties
        k = config.generators
        self.keys = tuple(f"G{i}" for i in range(k))
        template = self.remove_net("G")  # k generators like the family's G ...
        for key in self.keys:
            self.add_net(key, "generator", template["name"], init=config.init, init_gain=config.init_gain,
                         **template["kwargs"])
        # ... and its D with k + 1 outputs
        self.add_net("D", "discriminator", config.arch, init=config.init, init_gain=config.init_gain,
                     **{**self.net_specs["D"]["kwargs"], "n_outputs": k + 1})

    def generators(self) -> dict[str, dict]:
        return {key: samples(self.config.z_dim, self.classes or None) for key in self.keys}

    def optimizers(self):
        return generator_and_discriminator_optimizers(self.config, self.keys, ("D",))

    def phases(self) -> list[Phase]:
        clip = (WeightClipping(self.nets["D"], self.config.clip),) if self.config.clip > 0 else ()
        return [Phase("D", nets=("D",), optimizer="D", loss=self.loss_D, after_step=clip),
                Phase("G", nets=self.keys, optimizer="G", loss=self.loss_G, every=self.config.n_critic)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        real = batch["image"]
        labels = batch["label"] if self.classes else None
        z = torch.randn(real.size(0), self.config.z_dim, device=real.device)
        fakes = torch.stack([getattr(self, key)(z, labels) for key in self.keys])  # (k, N, C, H, W)
        # "fake": all generators' samples in one batch, generator-major (the health probe's mixture)
        return {"real": real, "labels": labels, "fakes": fakes, "fake": fakes.flatten(0, 1)}

    def _critic(self, images: torch.Tensor, *labels) -> torch.Tensor:
        return real_logit(self.D(images, *labels))

    def judge(self, fakes: torch.Tensor, labels, augment: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """D's logits (k, N, k + 1) and last hidden features (k, N, F) on each generator's batch. One D call per
        generator, as D sees one source per batch in models/gan.py: batch norm and the minibatch layers then
        never mix generators, so G_i's terms depend on G_i alone."""
        judged = [self.D(self.d_input(x) if augment else x, labels, return_features=True) for x in fakes]
        return torch.stack([logits for logits, _ in judged]).float(), torch.stack([f for _, f in judged])

    # --- the two phases --------------------------------------------------------------------------------
    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        real, fakes, labels = out["real"], out["fakes"].detach(), out["labels"]
        k, n = len(self.keys), real.size(0)
        logits_real = self.D(self.d_input(real), labels).float()
        logits_fake = self.judge(fakes, labels)[0].flatten(0, 1)
        made_by = torch.arange(k, device=real.device).repeat_interleave(n)  # generator-major, as `fake`
        # one cross-entropy over the k + 1 equally weighted sources, split into its real and fake shares
        terms = {"D_real": F.cross_entropy(logits_real, torch.full_like(made_by[:n], k)) / (k + 1),
                 "D_fake": F.cross_entropy(logits_fake, made_by) * k / (k + 1)}
        extra = () if labels is None else (labels,)
        index = torch.arange(n, device=real.device)
        mixed = fakes[index % k, index]  # image j from generator j mod k
        for name, penalty in self.penalties:
            terms[name] = penalty(self._critic, real, mixed, *extra)
        return terms

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        c, fakes, labels = self.config, out["fakes"], out["labels"]
        logits, features = self.judge(fakes, labels)
        terms = {key: self.gan.generator(real_logit(scores)) for key, scores in zip(self.keys, logits)}
        if c.feature_matching > 0:  # each generator matches the mean of D's last hidden features on real data
            _, real_features = self.D(self.d_input(out["real"]), labels, return_features=True)
            target = real_features.float().mean(0).detach()
            terms["G_feature_matching"] = c.feature_matching * sum(
                F.mse_loss(f.float().mean(0), target) for f in features)
        if c.lambda_diversity > 0:
            if c.diffaugment or c.instance_noise > 0:  # similarity of the samples themselves, not of augmentations
                logits, features = self.judge(fakes, labels, augment=False)
            terms["G_diversity"] = c.lambda_diversity * diversity(logits.softmax(2)[..., -1], features).sum()
        return terms

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        # a column per generator (sheets lay names out as columns), the same z along each row
        return {"real": outputs["real"][:8], **{key: fakes[:8] for key, fakes in zip(self.keys, outputs["fakes"])}}
