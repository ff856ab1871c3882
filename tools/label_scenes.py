"""Synthetic label map -> photo landscapes in the official pix2pixHD folders: the data behind README's picture of
the serve page painting a label map (docs/serve_labels.png).

Six classes: 0 sky, 1 mountain, 2 grass, 3 water, 4 tree, 5 sand. Each scene draws a horizon, often a mountain
ridge, often a lake with a sandy shore, and a few trees; its "photo" renders each class with its own texture
(a sky gradient with clouds, rock with snow caps, grass, rippled water, foliage, sand), so the net must learn
more than a colour per class. Writes OUT/train_label/*.png (8-bit ids) and OUT/train_img/*.png.

    python tools/label_scenes.py /tmp/scenes --size 64 --count 400
    translation train pix2pixhd --data /tmp/scenes --label-nc 6 --ngf 16 --ndf 16 --n-downsample-global 3 \\
        --n-blocks-global 4 --n-layers-D 2 --lambda-vgg 0 --preprocess none --batch-size 4 --steps 4500 \\
        --checkpoints-dir /tmp/runs --name scenes
    SERVE_RUNS=/tmp/runs SERVE_LABELS_SCREENSHOT=docs/serve_labels.png pytest tests/test_serve_browser.py \\
        -k label_map_screenshot
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

SKY, MOUNTAIN, GRASS, WATER, TREE, SAND = range(6)
COLOURS = {SKY: (0.45, 0.65, 0.95), MOUNTAIN: (0.45, 0.42, 0.40), GRASS: (0.30, 0.60, 0.20),
           WATER: (0.15, 0.35, 0.60), TREE: (0.10, 0.32, 0.12), SAND: (0.85, 0.78, 0.55)}


def smooth_noise(rng, size: int, cell: int) -> np.ndarray:
    """size x size noise in [0, 1], smooth over about `cell` pixels (a coarse grid upsampled bicubically)."""
    coarse = rng.random((max(2, size // cell), max(2, size // cell)))
    upsampled = Image.fromarray((coarse * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(upsampled) / 255.0


def scene(rng, size: int) -> np.ndarray:
    """A size x size map of class ids."""
    y, x = np.mgrid[0:size, 0:size] / size
    labels = np.full((size, size), SKY, np.uint8)
    horizon = rng.uniform(0.35, 0.6)
    if rng.random() < 0.8:
        ridge = horizon - rng.uniform(0.1, 0.3) * np.abs(np.sin(x[0] * rng.uniform(2, 6) + rng.uniform(0, 6)))
        labels[(y >= ridge[None, :]) & (y < horizon)] = MOUNTAIN
    labels[y >= horizon] = GRASS
    if rng.random() < 0.7:  # a lake with a sandy shore
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(horizon + 0.15, 0.9)
        rx, ry = rng.uniform(0.15, 0.35), rng.uniform(0.06, 0.15)
        distance = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
        labels[(distance < 1.35) & (y >= horizon)] = SAND
        labels[(distance < 1) & (y >= horizon)] = WATER
    for _ in range(rng.integers(0, 5)):  # trees, on grass only
        cx, cy, r = rng.uniform(0, 1), rng.uniform(horizon - 0.05, 0.95), rng.uniform(0.04, 0.1)
        labels[((x - cx) ** 2 + ((y - cy) / 1.4) ** 2 < r * r) & (labels == GRASS)] = TREE
    return labels


def render(rng, labels: np.ndarray) -> np.ndarray:
    """The scene's photo, HxWx3 in [0, 1]: each class in its colour with a texture of its own."""
    size = labels.shape[0]
    y = (np.mgrid[0:size, 0:size] / size)[0][..., None]
    smooth = smooth_noise(rng, size, 4)[..., None]
    fine = rng.random((size, size, 1))
    textures = {
        SKY: lambda c: c * (0.75 + 0.45 * y) + 0.75 * np.clip(smooth - 0.55, 0, 1),  # gradient and clouds
        MOUNTAIN: lambda c: c * (0.7 + 0.6 * smooth) + 0.35 * (y < 0.3) * (smooth > 0.5),  # rock, snow caps
        GRASS: lambda c: c * (0.75 + 0.35 * fine + 0.2 * smooth),
        WATER: lambda c: c * (0.8 + 0.25 * np.sin(y * size * 1.3 + 3 * smooth)),  # ripples
        TREE: lambda c: c * (0.8 + 0.6 * fine * smooth),
        SAND: lambda c: c * (0.9 + 0.15 * fine),
    }
    image = np.zeros((size, size, 3))
    for label, texture in textures.items():
        image = np.where((labels == label)[..., None], texture(np.array(COLOURS[label])[None, None]), image)
    return np.clip(image, 0, 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the data set folder to write (train_label/, train_img/)")
    parser.add_argument("--size", type=int, default=64, help="scene size in pixels (default: 64)")
    parser.add_argument("--count", type=int, default=400, help="how many scenes (default: 400)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    for folder in ("train_label", "train_img"):
        (args.out / folder).mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        labels = scene(rng, args.size)
        Image.fromarray(labels, mode="L").save(args.out / "train_label" / f"s{i:04d}.png")
        Image.fromarray((render(rng, labels) * 255).astype(np.uint8)).save(args.out / "train_img" / f"s{i:04d}.png")
    print(f"wrote {args.count} scenes of {args.size} px to {args.out}/train_label and train_img")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
