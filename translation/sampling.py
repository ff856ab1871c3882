"""Drawing images from a trained noise-to-image generator: single images, grids, and walks through z.

The noise comes from a generator seeded with `seed`, so the same checkpoint, seed and options give the
same images. A checkpoint with an exponential moving average of G's weights samples from the average.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from translation.checkpoint import CheckpointError, load_file, resolve_checkpoint_path, upgrade
from translation.data.arrays import to_image
from translation.nets import build_net


@dataclass
class Sampler:
    net: nn.Module
    z_dim: int
    classes: list[str]  # empty: unconditional
    weights: str  # "raw" or "ema"
    device: torch.device

    def label_index(self, label: str) -> int:
        """A class by name, or by its index."""
        if label in self.classes:
            return self.classes.index(label)
        if label.isdigit() and int(label) < len(self.classes):
            return int(label)
        raise ValueError(f"--label {label}: this model's classes are {', '.join(self.classes)}")

    def noise(self, n: int, seed: int, truncation: float | None = None) -> torch.Tensor:
        """n vectors z ~ N(0, I); with `truncation`, values beyond ±truncation are drawn again (BigGAN's
        truncation trick: less variety, more typical images)."""
        generator = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.z_dim, generator=generator)
        if truncation is not None:
            while (outside := z.abs() > truncation).any():
                z[outside] = torch.randn(int(outside.sum()), generator=generator)
        return z

    @torch.no_grad()
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 64) -> list[np.ndarray]:
        if self.classes and labels is None:
            raise ValueError("this model draws a given class: give labels")
        images = []
        for start in range(0, len(z), batch_size):
            chunk = z[start:start + batch_size].to(self.device)
            extra = None if labels is None else labels[start:start + batch_size].to(self.device)
            images += [to_image(x) for x in self.net(chunk, extra)]
        return images


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation: stays at the typical norm of Gaussian z, where a straight line would not."""
    omega = torch.arccos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
    if omega.abs() < 1e-6:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def grid(images: list[np.ndarray], columns: int | None = None, gap: int = 2) -> np.ndarray:
    """Images of one size in rows of `columns` (default: a square), on white."""
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    h, w, c = images[0].shape
    sheet = np.ones((rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap, c), np.float32)
    for i, image in enumerate(images):
        y, x = divmod(i, columns)
        sheet[y * (h + gap):y * (h + gap) + h, x * (w + gap):x * (w + gap) + w] = image
    return sheet


def load_sampler(checkpoint, device: torch.device | str = "cpu", use_ema: bool = True) -> Sampler:
    path = resolve_checkpoint_path(checkpoint)
    obj = upgrade(load_file(path), path)
    keys = [key for key, record in obj["generators"].items() if record["task"] == "sample"]
    if not keys:
        raise CheckpointError(f"{path}: its generators translate images rather than draw them from noise; "
                              "use `translation translate`")
    key = keys[0]
    record = obj["generators"][key]
    net = build_net(obj["net_specs"][key])
    weights = "ema" if use_ema and record.get("weights") == "ema" else "raw"
    net.load_state_dict(obj["ema"]["nets"][key] if weights == "ema" else obj["nets"][key])
    device = torch.device(device)
    return Sampler(net.to(device).eval(), record["z_dim"], list(record.get("classes") or []), weights, device)
