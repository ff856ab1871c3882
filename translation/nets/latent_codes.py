"""InfoGAN's latent: noise z ~ N(0, I), then the codes: categorical ones (one-hot, uniform over their categories)
and continuous ones (uniform in [-1, 1]), concatenated in that order into the one vector G takes,

    latent = [z (noise) | one-hot of c0 | one-hot of c1 | ... | continuous codes]

Codes are named c0, c1, ... in that order: the categorical codes first. Training, `translation sample` and the
exported files all draw through LatentCodes.draw, so a seed gives the same latent everywhere. A checkpoint's
generator record (and an exported file's metadata) keeps the layout as record(): {"noise", "categorical",
"continuous"}.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

SWEEP_STEPS = 10  # columns of a --vary sweep (the official code's visualisation shows 10 values per code)


@dataclass(frozen=True)
class LatentCodes:
    noise: int  # size of z
    categorical: tuple[int, ...] = ()  # categories of each categorical code
    continuous: int = 0  # how many continuous codes

    def __post_init__(self):
        if self.noise < 1 or self.continuous < 0 or any(k < 2 for k in self.categorical):
            raise ValueError(f"latent codes need noise >= 1, >= 2 categories per categorical code and continuous "
                             f">= 0, got {self}")

    @property
    def dim(self) -> int:
        """Size of the latent G takes."""
        return self.noise + sum(self.categorical) + self.continuous

    @property
    def names(self) -> list[str]:
        return [f"c{i}" for i in range(len(self.categorical) + self.continuous)]

    def record(self) -> dict:
        return {"noise": self.noise, "categorical": list(self.categorical), "continuous": self.continuous}

    @classmethod
    def from_record(cls, record) -> LatentCodes | None:
        """The layout a generator record or a file's metadata keeps, or None (a plain GAN's z)."""
        if not record:
            return None
        return cls(int(record["noise"]), tuple(int(k) for k in record["categorical"]), int(record["continuous"]))

    def describe(self) -> str:
        parts = [f"z {self.noise}"] + [f"c{i}: {k} categories" for i, k in enumerate(self.categorical)]
        parts += [f"c{len(self.categorical) + j}: uniform [-1, 1]" for j in range(self.continuous)]
        return ", ".join(parts)

    # --- drawing ---------------------------------------------------------------------------------------------
    def draw_codes(self, n: int, generator: torch.Generator | None = None, device=None):
        """(categories (n, number of categorical codes) int64, continuous (n, continuous) in [-1, 1])."""
        categories = [torch.randint(k, (n, 1), generator=generator, device=device) for k in self.categorical]
        categories = torch.cat(categories, 1) if categories else torch.zeros(n, 0, dtype=torch.long, device=device)
        continuous = torch.rand(n, self.continuous, generator=generator, device=device) * 2 - 1
        return categories, continuous

    def compose(self, noise: torch.Tensor, categories: torch.Tensor, continuous: torch.Tensor) -> torch.Tensor:
        """The latent G takes, from its three parts."""
        one_hot = [torch.nn.functional.one_hot(categories[:, i], k).to(noise.dtype)
                   for i, k in enumerate(self.categorical)]
        return torch.cat([noise, *one_hot, continuous.to(noise.dtype)], 1)

    def split(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """compose's inverse: (noise, categories, continuous)."""
        noise, rest = latent[:, :self.noise], latent[:, self.noise:]
        categories = []
        for k in self.categorical:
            categories.append(rest[:, :k].argmax(1))
            rest = rest[:, k:]
        stacked = torch.stack(categories, 1) if categories else torch.zeros(len(latent), 0, dtype=torch.long)
        return noise, stacked, rest

    def set_code(self, latent: torch.Tensor, name: str, value: float) -> torch.Tensor:
        """latent (a copy) with code `name` set to `value` in every row (a category index, or a number)."""
        noise, categories, continuous = self.split(latent)
        index = self.names.index(name)
        if index < len(self.categorical):
            categories = categories.clone()
            categories[:, index] = int(value)
        else:
            continuous = continuous.clone()
            continuous[:, index - len(self.categorical)] = value
        return self.compose(noise, categories, continuous)

    # --- command-line values -----------------------------------------------------------------------------------
    def check_value(self, flag: str, name: str, value: float) -> None:
        """A value for code `name` (as --code c0=3 gives it) this layout takes, else a one-line error."""
        if name not in self.names:
            raise ValueError(f"{flag} {name}: this model's codes are {', '.join(self.names) or 'none'} "
                             f"({self.describe()})")
        index = self.names.index(name)
        if index < len(self.categorical):
            k = self.categorical[index]
            if value != int(value) or not 0 <= value < k:
                raise ValueError(f"{flag} {name}={value:g}: {name} is categorical, a category from 0 to {k - 1}")
        elif not math.isfinite(value):
            raise ValueError(f"{flag} {name}={value}: a continuous code takes a finite number (trained on [-1, 1])")
