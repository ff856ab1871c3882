"""The contract every noise generator and sample discriminator keeps (mlp.py and dcgan.py fill in the layers).

    G(z, labels=None) -> images (N, out_channels, image_size, image_size) in [-1, 1]   (tanh)
        z: (N, z_dim), or (N, z_dim, 1, 1); G.z_dim, G.n_classes, G.image_size, G.out_channels, G.image_shape
    D(x, labels=None) -> logits (N,): raw scores, the loss applies the sigmoid (or none: WGAN, hinge);
        built with n_outputs=K > 1: (N, K) scores per image (MAD-GAN's K-way classifier, MRGAN's encoder)
    D(x, labels, return_features=True) -> (logits, features (N, F) of D's last hidden layer: feature matching);
        D.features(x, labels) -> the features alone

labels are int64 class indices of shape (N,) when the net was built with n_classes > 0 and must be None
otherwise. Label conditioning (cGAN, Mirza & Osindero 2014): G concatenates a learned embedding of the label
to z; D either concatenates one to its input (condition="concat") or adds <embed(y), phi(x)> to its logit,
phi(x) being its last hidden features summed over positions (condition="projection", Miyato & Koyama 2018).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from translation.names import CONDITIONS  # noqa: F401  (re-exported: nets.CONDITIONS)

from .layers import check_count
from .minibatch import MinibatchDiscrimination, MinibatchStdDev



def check_labels(name: str, n_classes: int, labels: Optional[torch.Tensor], batch: int) -> None:
    if not n_classes:
        if labels is not None:
            raise ValueError(f"{name} is unconditional (n_classes=0) but was given labels; build it with "
                             "n_classes=K to condition it on K classes")
        return
    if labels is None:
        raise ValueError(f"{name} is conditional on {n_classes} classes: pass labels, int64 class indices of "
                         f"shape ({batch},)")
    if labels.dtype not in (torch.int64, torch.int32) or tuple(labels.shape) != (batch,):
        raise ValueError(f"{name}: labels must be int64 class indices of shape ({batch},), got {labels.dtype} of "
                         f"shape {tuple(labels.shape)} (one-hot labels: pass labels.argmax(1))")


def label_embedding(n_classes: int, embed_dim: Optional[int]) -> Optional[nn.Embedding]:
    """A learned code per class (None when unconditional); embed_dim None: as wide as a one-hot label."""
    check_count("n_classes", n_classes, 0)
    if embed_dim is not None:
        check_count("embed_dim", embed_dim, 1)
    return nn.Embedding(n_classes, embed_dim or n_classes) if n_classes else None


def _tracing() -> bool:
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


class NoiseGenerator(nn.Module):
    """Base of the noise generators: input checks, the label code appended to z; subclasses `decode`."""

    def __init__(self, name: str, z_dim: int, out_channels: int, image_size: int, n_classes: int,
                 embed_dim: Optional[int]):
        super().__init__()
        self.name, self.z_dim, self.out_channels, self.image_size = name, z_dim, out_channels, image_size
        self.n_classes = n_classes
        self.embed = label_embedding(n_classes, embed_dim)  # PyTorch's N(0, 1) init: as loud as z itself
        self.input_dim = z_dim + (self.embed.embedding_dim if self.embed is not None else 0)

    @property
    def image_shape(self) -> tuple:
        return (self.out_channels, self.image_size, self.image_size)

    def sample_z(self, n: int, *, truncation: Optional[float] = None,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """n noise vectors from N(0, I), drawn on the CPU (a seed gives the same z on every device) and moved
        to the net's device; `truncation` t draws from N(0, I) cut to [-t, t] (the truncation trick)."""
        z = torch.empty(n, self.z_dim)
        if truncation is not None and not truncation > 0:
            raise ValueError(f"truncation must be > 0, got {truncation!r}")
        if truncation is None:
            z.normal_(generator=generator)
        else:
            nn.init.trunc_normal_(z, 0.0, 1.0, -truncation, truncation, generator=generator)
        return z.to(next(self.parameters()).device)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        if z.dim() == 4 and z.shape[2:] == (1, 1):  # the DCGAN example's (N, nz, 1, 1)
            z = z.flatten(1)
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"{self.name} generator takes z of shape (batch, z_dim={self.z_dim}), "
                             f"got {tuple(z.shape)}")
        check_labels(f"{self.name} generator", self.n_classes, labels, z.shape[0])
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels).to(z.dtype)], dim=1)
        return self.decode(z)


class CriticHead(nn.Module):
    """A sample discriminator's last layer and what comes before and beside it.

    logit = final([h, minibatch std, minibatch discrimination]) + <embed(y), sum over positions of h>,
    the extra features only when switched on, the inner product only for a projection discriminator.
    `final_layer(width, n_outputs)` gives n_outputs scores per image: (N,) for one, (N, n_outputs) for more.
    """

    def __init__(self, channels: int, final_layer: Callable[[int, int], nn.Module], projection_classes: int = 0,
                 minibatch_std: bool = False, minibatch_std_group: int = 4, minibatch_discrimination: int = 0,
                 minibatch_kernel_dim: int = 5, n_outputs: int = 1):
        super().__init__()
        check_count("minibatch_discrimination", minibatch_discrimination, 0)
        check_count("n_outputs", n_outputs, 1)
        if projection_classes and n_outputs > 1:  # the projection adds one score per image
            raise ValueError(f"n_outputs={n_outputs} needs condition='concat': a projection discriminator "
                             "scores each image once")
        self.n_outputs = n_outputs
        layers, width = [], channels
        if minibatch_std:
            layers.append(MinibatchStdDev(minibatch_std_group))
            width += 1
        if minibatch_discrimination:
            layers.append(MinibatchDiscrimination(width, minibatch_discrimination, minibatch_kernel_dim))
            width += minibatch_discrimination
        self.minibatch = nn.Sequential(*layers)
        self.final = final_layer(width, n_outputs)
        self.embed = None
        if projection_classes:
            self.embed = nn.Embedding(projection_classes, channels)
            nn.init.xavier_uniform_(self.embed.weight)  # as the authors' code; init_weights leaves embeddings

    def unconditional(self, h: torch.Tensor) -> torch.Tensor:
        shape = (h.shape[0],) if self.n_outputs == 1 else (h.shape[0], self.n_outputs)
        return self.final(self.minibatch(h)).reshape(shape)

    def forward(self, h: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
        logits = self.unconditional(h)
        if self.embed is not None:
            phi = h.flatten(2).sum(2) if h.dim() > 2 else h
            logits = logits + (self.embed(labels).to(phi.dtype) * phi).sum(1)
        return logits


class SampleDiscriminator(nn.Module):
    """Base of the sample discriminators: input checks, the label code for condition="concat", the head.

    Subclasses build `self.head` (a CriticHead) and `trunk(x, code)` -> last hidden features, `code` being the
    label embedding (N, label_channels) to take in with the image, or None.
    """

    def __init__(self, name: str, in_channels: int, image_size: int, n_classes: int, embed_dim: Optional[int],
                 condition: str):
        super().__init__()
        if condition not in CONDITIONS:
            raise ValueError(f"unknown condition {condition!r}; choose one of {', '.join(CONDITIONS)}")
        self.name, self.in_channels, self.image_size = name, in_channels, image_size
        check_count("n_classes", n_classes, 0)
        self.n_classes, self.condition = n_classes, condition
        self.embed = label_embedding(n_classes, embed_dim) if condition == "concat" else None
        self.label_channels = self.embed.embedding_dim if self.embed is not None else 0
        self.projection_classes = n_classes if condition == "projection" else 0

    def trunk(self, x: torch.Tensor, code: Optional[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def hidden(self, x: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
        shape = (self.in_channels, self.image_size, self.image_size)
        if not _tracing() and tuple(x.shape[1:]) != shape:
            raise ValueError(f"{self.name} discriminator was built for images of shape {shape} (in_channels, "
                             f"image_size, image_size), got {tuple(x.shape)}")
        check_labels(f"{self.name} discriminator", self.n_classes, labels, x.shape[0])
        return self.trunk(x, self.embed(labels).to(x.dtype) if self.embed is not None else None)

    def features(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """D's last hidden features (N, F) alone, without the head (for feature matching)."""
        return self.hidden(x, labels).flatten(1)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None, return_features: bool = False):
        h = self.hidden(x, labels)
        logits = self.head(h, labels)
        return (logits, h.flatten(1)) if return_features else logits
