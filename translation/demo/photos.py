"""The colour photographs that ship inside scikit-image (no network needed), and random crops of them."""
from __future__ import annotations

import numpy as np

from translation.data.arrays import resize

# Photographs only (no synthetic test patterns), all bundled with scikit-image itself.
PHOTO_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")


def load_photos(names=PHOTO_NAMES) -> dict[str, np.ndarray]:
    """name -> float32 HxWx3 image in [0, 1]."""
    import skimage.data

    return {name: getattr(skimage.data, name)()[..., :3].astype(np.float32) / 255.0 for name in names}


def random_crops(photo: np.ndarray, count: int, size: int, rng: np.random.Generator,
                 columns: tuple[float, float] = (0.0, 1.0), scale: tuple[float, float] = (0.25, 0.35)):
    """Square crops of random side (a fraction `scale` of the shorter side) resized to `size`.

    `columns` limits where crops may come from (fractions of the width), so train and test crops can be
    drawn from disjoint parts of each photo.
    """
    h, w = photo.shape[:2]
    x_lo, x_hi = int(columns[0] * w), int(columns[1] * w)
    crops = []
    for _ in range(count):
        side = int(rng.uniform(*scale) * min(h, w))
        side = max(8, min(side, x_hi - x_lo, h))
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(x_lo, x_hi - side + 1))
        crops.append(resize(photo[y:y + side, x:x + side], size, size))
    return crops
