"""Lighting for the procedural still-life photos: surfaces given by normals, one window light, a table shadow.

A surface part is a mask, a unit normal per pixel and an albedo; `shade` turns it into colour with
Lambert diffuse + Blinn-Phong highlights, the usual product-photo look: lit from the upper left, glossy
spots where the light reflects, darker on the far side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BACKGROUND = np.array([0.93, 0.93, 0.92], np.float32)  # a white paper backdrop, as in edges2shoes
AMBIENT = 0.3  # light from the room: the side away from the window is dark, not black


def _unit(vector) -> np.ndarray:
    vector = np.asarray(vector, np.float32)
    return vector / np.linalg.norm(vector)


LIGHT = _unit([-0.5, -0.6, 0.65])  # from the upper left and in front (image y points down)
HALFWAY = _unit(LIGHT + np.array([0.0, 0.0, 1.0], np.float32))  # Blinn-Phong: viewer looks along +z


@dataclass
class Part:
    mask: np.ndarray  # H x W bool: where the part covers the picture
    normal: np.ndarray  # H x W x 3 unit normals (x right, y down, z towards the viewer)
    albedo: np.ndarray  # H x W x 3 or 3: the paint colour
    gloss: float = 0.2  # strength of the highlight
    shininess: float = 20.0  # larger = smaller, sharper highlight


def normalized(normal: np.ndarray) -> np.ndarray:
    return normal / np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-6)


def shade(part: Part) -> np.ndarray:
    diffuse = np.clip(part.normal @ LIGHT, 0.0, None)[..., None]
    highlight = np.clip(part.normal @ HALFWAY, 0.0, None)[..., None] ** part.shininess
    return part.albedo * (AMBIENT + (1.0 - AMBIENT) * diffuse) + part.gloss * highlight


def table_shadow(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Darkening factor of a soft contact shadow under the object, pushed away from the light."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return np.ones_like(x)
    half_width = (cols.max() - cols.min() + 1) / 2
    centre_x = (cols.max() + cols.min()) / 2 + 0.25 * half_width  # the light comes from the left
    blob = ((x - centre_x) / (1.1 * half_width)) ** 2 + ((y - rows.max()) / (0.3 * half_width)) ** 2
    return 1.0 - 0.25 * np.exp(-blob)


def compose(parts: list[Part], size: int) -> np.ndarray:
    """Backdrop, the first part's shadow, then the parts front to back in the order given (painter's)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    image = BACKGROUND * table_shadow(x, y, parts[0].mask)[..., None]
    for part in parts:
        image = np.where(part.mask[..., None], shade(part), image)
    return np.clip(image, 0.0, 1.0).astype(np.float32)
