"""A multi-domain set of colour gradings in StarGAN's one-folder-per-domain layout, from scikit-image photos.

train/<grade>/  crops in one look each. The left 80% of every photo is cut into a grid of cells and each
                cell belongs to one grade (a Latin square, so every grade gets cells in every row and column
                of every photo): no pixel is in two grades, so the model never sees a crop both ways and has
                to learn the gradings, not memorise pairs.
test/<grade>/   held-out crops from the right 20%, never trained on, each written in every grade under the
                same name, so any X -> Y translation can be scored against the true Y.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from translation.data.io import luminance, write_image
from translation.demo.photos import load_photos, random_crops
from translation.demo.styles import TEST_COLUMNS, warm_toned

TRAIN_WIDTH = TEST_COLUMNS[0]  # the training cells fill the photo up to where the held-out band starts
GRID = 4  # cells per row and per column; also the number of grades, for the Latin square
COOL_GAIN = np.array([0.72, 0.9, 1.0], np.float32)
COOL_LIFT = np.array([0.0, 0.05, 0.18], np.float32)  # teal-blue added in the shadows


def plain(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32)


def cool(image: np.ndarray) -> np.ndarray:
    """Cold blue-teal: reds held back, shadows lifted towards blue (highlights stay nearly neutral)."""
    return np.clip(image * COOL_GAIN + COOL_LIFT * (1.0 - luminance(image)), 0.0, 1.0).astype(np.float32)


def faded(image: np.ndarray) -> np.ndarray:
    """Matte film look: half desaturated, blacks lifted to grey and whites dimmed (low contrast)."""
    muted = 0.55 * image + 0.45 * luminance(image)
    return (0.2 + 0.62 * muted).astype(np.float32)


# in folder (= label) order, as the data set sorts its domains; warm is the CycleGAN demo's style
GRADES = {"cool": cool, "faded": faded, "plain": plain, "warm": warm_toned}


def training_cells(photo: np.ndarray):
    """(grade name, cell of the photo) for each cell of the GRID x GRID grid over the training part."""
    h, w = photo.shape[:2]
    ys = np.linspace(0, h, GRID + 1).astype(int)
    xs = np.linspace(0, int(TRAIN_WIDTH * w), GRID + 1).astype(int)
    names = list(GRADES)
    for row in range(GRID):
        for col in range(GRID):
            yield names[(row + col) % len(names)], photo[ys[row]:ys[row + 1], xs[col]:xs[col + 1]]


def build_graded_photos(root, size: int = 32, crops_per_cell: int = 4, test_per_photo: int = 2,
                        seed: int = 0) -> tuple[dict[str, int], int]:
    """Write the set under `root`; returns ({grade: training crops}, held-out crops, each in every grade)."""
    root, rng = Path(root), np.random.default_rng(seed)
    counts, n_test = {name: 0 for name in GRADES}, 0
    for photo_name, photo in load_photos().items():
        for grade, cell in training_cells(photo):
            # sub-crops of varied size and place, all inside the cell, so the grade's pixels stay its own
            for crop in random_crops(cell, crops_per_cell, size, rng, scale=(0.6, 1.0)):
                write_image(root / "train" / grade / f"{photo_name}_{counts[grade]:04d}.png", GRADES[grade](crop))
                counts[grade] += 1
        for crop in random_crops(photo, test_per_photo, size, rng, TEST_COLUMNS):
            for grade, look in GRADES.items():
                write_image(root / "test" / grade / f"{photo_name}_{n_test:04d}.png", look(crop))
            n_test += 1
    return counts, n_test
