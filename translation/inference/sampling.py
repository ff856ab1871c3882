"""Drawing images from a trained noise-to-image generator: single images, grids, and walks through z.

The noise comes from a generator seeded with `seed`, so the same checkpoint, seed and options give the
same images. A checkpoint with an exponential moving average of G's weights samples from the average.
A checkpoint with several generators (MAD-GAN's G0, G1, ...) draws with each in turn, or with one picked.
An InfoGAN checkpoint's latent holds codes after z (nets/latent_codes.py): they are drawn from their priors with z,
can be fixed (--code c0=3), or swept along a grid (--vary c1: code_sweep).
`precision`, `channels_last` and `compile` change how the generators run, within rounding (precision.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from translation.checkpoint import CheckpointError, load_file, resolve_checkpoint_path, upgrade
from translation.data.arrays import to_image
from translation.inference.weights import choose_weights, load_generator_weights
from translation.nets.latent_codes import SWEEP_STEPS, LatentCodes
from translation.nets import build_net
from translation.precision import inference_net, precision_for


@dataclass
class Sampler:
    nets: dict[str, nn.Module]  # the generators to draw with, by checkpoint key (usually one: "G")
    z_dim: int
    classes: list[str]  # empty: unconditional
    weights: str  # "raw" or "ema"
    device: torch.device
    precision: str = "fp32"
    channels_last: bool | None = None  # None: the precision's layout (bf16 on a CPU: channels-last)
    compile: bool = False
    codes: LatentCodes | None = None  # InfoGAN's: z_dim is then the whole latent, z and the codes

    def __post_init__(self):
        self.arithmetic = precision_for(self.precision, self.device)  # refuses what the device cannot run
        self.channels_last = self.arithmetic.runs_channels_last(self.channels_last)
        self.run_nets = {key: inference_net(net, self.channels_last, self.compile) for key, net in self.nets.items()}

    @property
    def net(self) -> nn.Module:
        return next(iter(self.nets.values()))

    def label_index(self, label: str) -> int:
        """A class by name, or by its index."""
        if label in self.classes:
            return self.classes.index(label)
        if label.isdigit() and int(label) < len(self.classes):
            return int(label)
        raise ValueError(f"--label {label}: this model's classes are {', '.join(self.classes)}")

    def noise(self, n: int, seed: int, truncation: float | None = None) -> torch.Tensor:
        """n vectors z ~ N(0, I); with `truncation`, values beyond ±truncation are drawn again (BigGAN's
        truncation trick: less variety, more typical images). With latent codes, each z is followed by codes
        drawn from their priors (the truncation is z's alone)."""
        generator = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.codes.noise if self.codes else self.z_dim, generator=generator)
        if truncation is not None:
            while (outside := z.abs() > truncation).any():
                z[outside] = torch.randn(int(outside.sum()), generator=generator)
        return z if self.codes is None else self.codes.compose(z, *self.codes.draw_codes(n, generator))

    def fix_codes(self, z: torch.Tensor, fixed: dict[str, float] | None) -> torch.Tensor:
        """z with the codes `fixed` names ({"c0": 3}) set in every row; checked against this model's codes."""
        if not fixed:
            return z
        if self.codes is None:
            raise ValueError("--code: this model has no latent codes (infogan's); it draws from z alone")
        for name, value in fixed.items():
            self.codes.check_value("--code", name, value)
            z = self.codes.set_code(z, name, value)
        return z

    @torch.no_grad()
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 64,
                 which: torch.Tensor | None = None) -> list[np.ndarray]:
        """One image per row of z; `which` (one index into `nets` per image) says which generator draws it,
        by default image i the (i mod len(nets))-th."""
        if self.classes and labels is None:
            raise ValueError("this model draws a given class: give labels")
        which = torch.arange(len(z)) % len(self.nets) if which is None else torch.as_tensor(which)
        images: list = [None] * len(z)
        for index, net in enumerate(self.run_nets.values()):
            mine = (which == index).nonzero().flatten()
            for start in range(0, len(mine), batch_size):
                part = mine[start:start + batch_size]
                extra = None if labels is None else labels[part].to(self.device)
                with self.arithmetic.autocast():
                    out = net(z[part].to(self.device), extra)
                for i, x in zip(part.tolist(), out):
                    images[i] = to_image(x)
        return images


def class_labels(sampler: Sampler, n: int, label: str | None = None, turns: int = 1) -> torch.Tensor | None:
    """The class of each of n images of a conditional model: `label` (a name or index) for all, else the classes
    in turn, each for `turns` images in a row (several generators draw the same class); None when unconditional."""
    if not sampler.classes:
        if label is not None:
            raise ValueError("--label: this model is not conditional (it was trained without labels)")
        return None
    chosen = [sampler.label_index(label)] if label is not None else list(range(len(sampler.classes)))
    return torch.tensor([chosen[i // turns % len(chosen)] for i in range(n)])


def draw(sampler: Sampler, n: int, seed: int = 0, truncation: float | None = None,
         label: str | None = None, codes: dict[str, float] | None = None) -> tuple[list[np.ndarray], int | None]:
    """n images as `translation sample -n N --grid` draws them, and the grid's columns: one per generator when
    there are several (each draws from the same z), one per class when the classes take turns. `codes` fixes
    latent codes ({"c0": 3}); the rest of each latent is what the seed draws without them."""
    k = len(sampler.nets)
    z = sampler.fix_codes(sampler.noise(-(-n // k), seed, truncation), codes).repeat_interleave(k, dim=0)[:n]
    labels = class_labels(sampler, n, label, k)
    images = sampler.generate(z, labels, which=torch.arange(n) % k)
    columns = k if k > 1 else len(sampler.classes) if labels is not None and label is None else None
    return images, columns


def code_sweep(sampler: Sampler, name: str, low: float = -1.0, high: float = 1.0,
               fixed: dict[str, float] | None = None, seed: int = 0, truncation: float | None = None,
               count: int = 1) -> tuple[list[np.ndarray], int]:
    """A grid along code `name` (--vary), and its columns. A categorical code: one column per category. A
    continuous one: SWEEP_STEPS columns from low to high, one row per category of the first other categorical
    code that `fixed` leaves free, all rows from one latent (z, and the other codes, fixed per grid). Without
    such rows: count // columns rows (at least one), a latent each. `fixed` codes hold in every cell."""
    codes = sampler.codes
    if codes is None:
        raise ValueError("--vary: this model has no latent codes (infogan's); it draws from z alone")
    codes.check_value("--vary", name, 0.0)
    fixed = dict(fixed or {})
    if name in fixed:
        raise ValueError(f"--vary {name} and --code {name}: a code is either swept or fixed")
    categories = dict(zip(codes.names, codes.categorical))  # the categorical codes' sizes
    values = list(range(categories[name])) if name in categories else torch.linspace(low, high, SWEEP_STEPS).tolist()
    free = [c for c in categories if c != name and c not in fixed]
    by_category = name not in categories and free
    rows = 1 if by_category else max(1, count // len(values))
    latents = sampler.fix_codes(sampler.noise(rows, seed, truncation), fixed)
    if by_category:  # the one latent, with each category of the first free categorical code in turn
        latents = torch.cat([codes.set_code(latents, free[0], r) for r in range(categories[free[0]])])
    grid_z = torch.cat([codes.set_code(latent[None], name, value) for latent in latents for value in values])
    return sampler.generate(grid_z), len(values)


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


def pick_generator(name: str, keys: list[str]) -> str:
    """A generator by its key (G2) or by its index (2)."""
    if name in keys:
        return name
    if name.isdigit() and int(name) < len(keys):
        return keys[int(name)]
    raise ValueError(f"--generator {name}: this checkpoint's generators are {', '.join(keys)} "
                     f"(or 0 to {len(keys) - 1})")


def load_sampler(checkpoint, device: torch.device | str = "cpu", use_ema: bool = True,
                 generator: str | None = None, precision: str = "fp32", channels_last: bool | None = None,
                 compile: bool = False) -> Sampler:
    """The checkpoint's noise generators (all, or the one `generator` names), ready to draw."""
    path = resolve_checkpoint_path(checkpoint)
    return sampler_from(load_file(path), path, device, use_ema, generator, precision, channels_last, compile)


def sampler_from(obj: dict, path, device: torch.device | str = "cpu", use_ema: bool = True,
                 generator: str | None = None, precision: str = "fp32", channels_last: bool | None = None,
                 compile: bool = False) -> Sampler:
    """load_sampler's sampler from the dict `obj` already read from `path`."""
    obj = upgrade(obj, path)
    keys = [key for key, record in obj["generators"].items() if record["task"] == "sample"]
    if not keys:
        raise CheckpointError(f"{path}: its generators translate images rather than draw them from noise; "
                              "use `translation translate`")
    if generator is not None:
        keys = [pick_generator(generator, keys)]
    record = obj["generators"][keys[0]]  # the generators of one model share z size, classes and EMA
    weights = choose_weights(record, use_ema)
    device = torch.device(device)
    nets = {}
    for key in keys:
        net = load_generator_weights(build_net(obj["net_specs"][key]), obj, key, weights)
        nets[key] = net.to(device).eval()
    return Sampler(nets, record["z_dim"], list(record.get("classes") or []), weights, device, precision,
                   channels_last, compile, LatentCodes.from_record(record.get("codes")))
