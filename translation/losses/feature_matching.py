"""Discriminator feature matching (pix2pixHD, Wang et al. 2018, eq. 4; Salimans et al. 2016): G is also trained
to give D's intermediate layers the activations real images give them, at every scale.

    loss = feature_matching_loss(D(cat(A, fake_B)), D(cat(A, real_B)), lambda_feat=10.0)

Both arguments are a multi-scale D's output: per scale, the list of its layers' outputs, the patch scores last.
Weights as the official pix2pixHD_model.py: each layer 4 / (n_layers + 1), each scale 1 / num_D, times
lambda_feat; L1 means; the real features detached; the scores themselves are left to the GAN loss.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def feature_matching_loss(fake_outputs, real_outputs, lambda_feat: float = 10.0) -> torch.Tensor:
    """lambda_feat * sum over scales and intermediate layers of L1(fake, real.detach()) * 4/(n_layers+1) / num_D.

    n_layers + 1 is the number of intermediate outputs per scale (all but the last), as in the official code.
    """
    if len(fake_outputs) != len(real_outputs) or not len(fake_outputs):
        raise ValueError(f"feature matching needs the same scales for fake and real, got {len(fake_outputs)} and "
                         f"{len(real_outputs)}")
    num_scales = len(fake_outputs)
    total = 0.0
    for fake_layers, real_layers in zip(fake_outputs, real_outputs, strict=True):
        if not isinstance(fake_layers, (list, tuple)) or len(fake_layers) != len(real_layers) or len(fake_layers) < 2:
            raise ValueError("feature matching needs each scale's list of layer outputs (a multi-scale "
                             "discriminator's output), with the same layers for fake and real")
        weight = 4.0 / (len(fake_layers) - 1) / num_scales
        for fake, real in zip(fake_layers[:-1], real_layers[:-1], strict=True):
            total = total + weight * F.l1_loss(fake.float(), real.detach().float())
    return total * lambda_feat
