"""Procedural still-life photos for the edges->photo demo: fruit, vases and bottles on white paper.

Like a shoe in edges2shoes, each kind of object has an outline that gives it away (an apple's dimple and
stem, a lemon's tips, a bottle's neck and label) and the colour and finish that go with it, so the outline
determines what the photo should look like. Pose, size, position, tilt, proportions, details and tint
vary per sample. Shapes are rendered at SUPERSAMPLE x the size and shrunk, for anti-aliased contours.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from translation.data.arrays import resize
from translation.demo.shading import Part, compose, normalized

KINDS = ("apple", "orange", "lemon", "pear", "vase", "bottle")
SUPERSAMPLE = 3


@dataclass
class Pose:
    """Object frame: u to the right and v down, in object units; `scale` pixels per unit."""
    cx: float
    cy: float
    scale: float
    tilt: float  # radians, clockwise on screen

    def local(self, x, y):
        c, s, dx, dy = np.cos(self.tilt), np.sin(self.tilt), x - self.cx, y - self.cy
        return (c * dx + s * dy) / self.scale, (-s * dx + c * dy) / self.scale

    def to_image(self, nu, nv, nz) -> np.ndarray:
        c, s = np.cos(self.tilt), np.sin(self.tilt)
        return normalized(np.stack([c * nu - s * nv, s * nu + c * nv, nz], axis=-1))

    def child(self, u, v, scale=1.0, tilt=0.0) -> Pose:
        """A pose attached at (u, v) of this one, e.g. a leaf on an apple."""
        c, s = np.cos(self.tilt), np.sin(self.tilt)
        return Pose(self.cx + self.scale * (c * u - s * v), self.cy + self.scale * (s * u + c * v),
                    self.scale * scale, self.tilt + tilt)


def round_part(grid, pose: Pose, radius, albedo, **finish) -> Part:
    """A fruit-like body: outline r(theta) (theta from straight up), shaded like a sphere pressed into it."""
    u, v = pose.local(*grid)
    r = radius(np.arctan2(u, -v))
    rho2 = (u * u + v * v) / (r * r)
    return Part(rho2 < 1, pose.to_image(u / r, v / r, np.sqrt(np.clip(1 - rho2, 0, 1))),
                np.asarray(albedo, np.float32), **finish)


def turned_part(grid, pose: Pose, width, top: float, bottom: float, albedo, **finish) -> Part:
    """A body of revolution about the local vertical axis (a vase, a bottle, a pear): half-width w(v)."""
    u, v = pose.local(*grid)
    w = np.maximum(width(v), 1e-3)
    slope = (width(v + 1e-3) - width(v - 1e-3)) / 2e-3
    side = np.clip(u / w, -1, 1)
    # gradient of u^2 + z^2 - w(v)^2: the normal tips up where the body widens downwards
    normal = pose.to_image(side, -slope, np.sqrt(1 - side * side))
    mask = (np.abs(u) < width(v)) & (v > top) & (v < bottom)
    albedo = np.asarray(albedo(v) if callable(albedo) else albedo, np.float32)
    return Part(mask, normal, albedo, **finish)


def stick_part(grid, pose: Pose, start, end, thickness: float, albedo) -> Part:
    """A stalk: a rounded rod from `start` to `end` (object units), shaded as a cylinder."""
    u, v = pose.local(*grid)
    (u0, v0), (u1, v1) = start, end
    du, dv = u1 - u0, v1 - v0
    t = np.clip(((u - u0) * du + (v - v0) * dv) / (du * du + dv * dv), 0, 1)
    off_u, off_v = (u - u0 - t * du) / thickness, (v - v0 - t * dv) / thickness
    dist2 = off_u * off_u + off_v * off_v
    return Part(dist2 < 1, pose.to_image(off_u, off_v, np.sqrt(np.clip(1 - dist2, 0, 1))),
                np.asarray(albedo, np.float32), gloss=0.05)


def bump(x, centre, width):
    return np.exp(-(((x - centre) / width) ** 2))


def tint(rng, colour, spread: float = 0.07) -> np.ndarray:
    """The kind's colour, a little lighter or darker and warmer or cooler: no two fruits are alike."""
    return np.clip(np.asarray(colour) * rng.uniform(1 - spread, 1 + spread, 3) * rng.uniform(0.9, 1.08), 0, 1)


def apple(grid, pose, rng, colour=(0.75, 0.1, 0.08)):
    dimple = rng.uniform(0.12, 0.2)
    body = round_part(grid, pose, lambda t: 1.05 - dimple * bump(t, 0, 0.45) - 0.06 * bump(np.abs(t), np.pi, 0.5)
                      + 0.04 * np.cos(2 * t), tint(rng, colour), gloss=0.35, shininess=25)
    lean = rng.uniform(-0.15, 0.15)
    parts = [body, stick_part(grid, pose, (0, -0.8), (lean, -1.25), 0.05, (0.35, 0.2, 0.08))]
    if rng.random() < 0.7:  # a leaf on some apples: the outline says which
        side = rng.choice([-1.0, 1.0])
        leaf = pose.child(lean * 0.6 + side * 0.28, -1.12, scale=rng.uniform(0.25, 0.33), tilt=side * 1.2)
        parts.append(round_part(grid, leaf, lambda t: 1 / np.hypot(np.sin(t) / 0.45, np.cos(t)),
                                tint(rng, (0.25, 0.55, 0.12)), gloss=0.15))
    return parts


def orange(grid, pose, rng, colour=(0.98, 0.5, 0.05)):
    body = round_part(grid, pose, lambda t: 1.0 + 0.03 * np.cos(2 * t), tint(rng, colour),
                      gloss=0.2, shininess=12)
    navel = pose.child(rng.uniform(-0.2, 0.2), -0.72, scale=0.09)
    return [body, round_part(grid, navel, np.ones_like, (0.35, 0.4, 0.1), gloss=0.0)]


def lemon(grid, pose, rng, colour=(0.95, 0.78, 0.1)):
    tips = rng.uniform(0.12, 0.22)

    def radius(t):  # an ellipse lying on its side, with a nipple at each end
        return 1 / np.hypot(np.sin(t) / 1.3, np.cos(t) / 0.88) + tips * bump(np.abs(t), np.pi / 2, 0.13)

    return [round_part(grid, pose, radius, tint(rng, colour), gloss=0.15, shininess=15)]


def pear(grid, pose, rng, colour=(0.72, 0.75, 0.22)):
    top = rng.uniform(0.32, 0.4)  # radius of the upper bulb: slimmer or rounder pears

    def width(v):  # a tall lower bulb and a small upper one, blended into a smooth waist
        lower = 0.72 * np.sqrt(np.clip(1 - ((v - 0.3) / 0.85) ** 2, 0, None))
        upper = np.sqrt(np.clip(top ** 2 - (v + 0.65) ** 2, 0, None))
        return (lower ** 3 + upper ** 3) ** (1 / 3)

    body = turned_part(grid, pose, width, -0.65 - top, 1.15, tint(rng, colour), gloss=0.2)
    stem = stick_part(grid, pose, (0, -0.6 - top), (rng.uniform(-0.2, 0.2), -1.0 - top), 0.045, (0.35, 0.22, 0.1))
    return [body, stem]


def vase(grid, pose, rng, colour=(0.12, 0.25, 0.65)):
    belly, neck = rng.uniform(0.55, 0.75), rng.uniform(0.2, 0.3)
    band = rng.uniform(-0.2, 0.5)  # where the painted cream band runs round the vase
    blue, cream = tint(rng, colour), np.array([0.93, 0.88, 0.72], np.float32)

    def width(v):
        return neck + (belly - neck) * bump(v, 0.35, 0.55) + 0.12 * bump(v, -1.0, 0.1)  # lip flares

    def paint(v):
        on_band = ((v > band) & (v < band + 0.18))[..., None]
        return np.where(on_band, cream, blue)

    return [turned_part(grid, pose, width, -1.05, 1.0, paint, gloss=0.5, shininess=40)]


def bottle(grid, pose, rng, colour=(0.08, 0.38, 0.14)):
    body, neck = rng.uniform(0.36, 0.46), rng.uniform(0.12, 0.15)
    shoulder = rng.uniform(-0.35, -0.15)
    label_top, label_height = rng.uniform(-0.05, 0.2), rng.uniform(0.35, 0.55)
    glass, label = tint(rng, colour), np.array([0.94, 0.9, 0.8], np.float32)

    def width(v):
        ramp = np.clip((v - shoulder + 0.45) / 0.45, 0, 1)  # neck -> body over the shoulder
        rounded = np.sqrt(np.clip(1 - (np.clip(v - 0.92, 0, None) / 0.1) ** 2, 0, 1))  # the base's rim
        return (neck + (body - neck) * (3 * ramp ** 2 - 2 * ramp ** 3)) * rounded + 0.03 * bump(v, -1.25, 0.04)

    def paint(v):
        on_label = ((v > label_top) & (v < label_top + label_height))[..., None]
        return np.where(on_label, label, glass)

    return [turned_part(grid, pose, width, -1.3, 1.0, paint, gloss=0.7, shininess=60)]


MAKERS = {"apple": apple, "orange": orange, "lemon": lemon, "pear": pear, "vase": vase, "bottle": bottle}
SPAN = {"apple": 2.5, "orange": 2.0, "lemon": 3.0, "pear": 2.6, "vase": 2.05, "bottle": 2.3}  # longest side, object units
TILT = {"apple": 0.3, "orange": 0.3, "lemon": 0.5, "pear": 0.3, "vase": 0.1, "bottle": 0.1}  # radians, at most


def render(kind: str, size: int, rng: np.random.Generator, colour=None) -> np.ndarray:
    """One photo of a `kind` object at a random pose: float32 size x size x 3 in [0, 1].

    `colour` (RGB in [0, 1]) paints the body instead of the kind's own colour (details such as a leaf, a
    band or a label keep theirs); the random draws are the same, so one seed gives one object in any colour.
    """
    paint = {} if colour is None else {"colour": colour}
    big = size * SUPERSAMPLE
    y, x = np.mgrid[0:big, 0:big].astype(np.float32) + 0.5
    while True:  # poses that cut the object at the frame are drawn again: the outline must be whole
        centre = rng.uniform(0.4, 0.6, 2) * big
        scale = rng.uniform(0.55, 0.75) * big / SPAN[kind]
        pose = Pose(centre[0], centre[1], scale, rng.uniform(-1, 1) * TILT[kind])
        parts = MAKERS[kind]((x, y), pose, rng, **paint)
        covered = np.logical_or.reduce([part.mask for part in parts])
        if not (covered[0].any() or covered[-1].any() or covered[:, 0].any() or covered[:, -1].any()):
            return resize(compose(parts, big), size, size)


def render_as(kinds: tuple[str, ...], size: int, rng: np.random.Generator,
              span: float | None = None) -> list[np.ndarray]:
    """One random pose rendered as each of `kinds`, e.g. an apple and the orange in its place.

    Place, size and tilt are shared, and each kind draws its own details (dimple, leaf, navel, tint) from
    the same seed, so the renderings can be compared pixel for pixel. `span` (object units) sizes the pose
    (default: the largest of the kinds' spans, so every kind fits); the pose is drawn again until all fit.
    """
    big = size * SUPERSAMPLE
    y, x = np.mgrid[0:big, 0:big].astype(np.float32) + 0.5
    span = max(SPAN[kind] for kind in kinds) if span is None else span
    while True:
        centre = rng.uniform(0.4, 0.6, 2) * big
        pose = Pose(centre[0], centre[1], rng.uniform(0.55, 0.75) * big / span,
                    rng.uniform(-1, 1) * max(TILT[kind] for kind in kinds))
        details = int(rng.integers(2 ** 32))
        photos = []
        for kind in kinds:
            parts = MAKERS[kind]((x, y), pose, np.random.default_rng(details))
            covered = np.logical_or.reduce([part.mask for part in parts])
            if covered[0].any() or covered[-1].any() or covered[:, 0].any() or covered[:, -1].any():
                break  # cut by the frame: the outline must be whole in every kind
            photos.append(resize(compose(parts, big), size, size))
        else:
            return photos
