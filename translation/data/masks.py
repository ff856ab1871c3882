"""Hole masks drawn on the fly, one per sample from its seed: same seed, same mask. (H, W, 1) float32, 1 = hole.

free_form   DeepFill v2's brush strokes (JiahuiYu/generative_inpainting inpaint_ops.brush_stroke_mask): 1-3
            strokes, each a polyline of 4-11 vertices zigzagging by angles around 2pi/5 +- up to 2pi/15, segment
            lengths ~ N(r, r/2) clipped to [0, 2r] with r = the image diagonal / 8, drawn 12-40 px wide with round
            joints. Widths are theirs at 256x256 scaled by the diagonal / 256 sqrt(2) (the same on a square image).
rectangles  GLCIC's holes (otenim/GLCIC-PyTorch utils.gen_input_mask): 1 to max_holes boxes, width and height
            uniform integers in [hole_min, hole_max] (theirs: 48-96 px on its 160 px input, the defaults scaled here
            as fractions 0.3-0.6 of the side), placed anywhere inside `area` (theirs: the local discriminator's crop).
deepfill    what DeepFill v2 trains on: the union of one box (inpaint_ops.random_bbox + bbox2mask: a half-size box at
            a random place, each side shrunk by up to a sixteenth of the image, theirs' 128 px box shrunk by up to
            32 // 2 at 256 px) and the brush strokes.

Where these differ from theirs: x is drawn along the width and y along the height (theirs swaps them, which only
shows on non-square images); theirs' random flips are no-ops (the flipped image is discarded), so none here.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from translation.names import MASK_KINDS

BRUSH_WIDTHS = (12, 40)  # theirs, in px at 256 x 256
BRUSH_REFERENCE_DIAGONAL = 256 * math.sqrt(2)
GLCIC_HOLE_FRACTIONS = (48 / 160, 96 / 160)  # theirs: --hole_min_w/h 48, --hole_max_w/h 96, --cn_input_size 160


def _check_size(height, width) -> None:
    for name, side in (("height", height), ("width", width)):
        if not isinstance(side, (int, np.integer)) or isinstance(side, bool) or side < 1:
            raise ValueError(f"mask {name} must be a positive integer, got {side!r}")


def brush_stroke_mask(height: int, width: int, rng: np.random.Generator, *, max_strokes: int = 3,
                      vertices: tuple[int, int] = (4, 12), mean_angle: float = 2 * math.pi / 5,
                      angle_range: float = 2 * math.pi / 15,
                      brush_widths: tuple[float, float] | None = None) -> np.ndarray:
    """DeepFill v2's free-form mask; `vertices` is [low, high) as numpy's randint, brush_widths in px (default:
    theirs scaled to this image)."""
    _check_size(height, width)
    if brush_widths is None:
        scale = math.hypot(height, width) / BRUSH_REFERENCE_DIAGONAL
        brush_widths = (BRUSH_WIDTHS[0] * scale, BRUSH_WIDTHS[1] * scale)
    average_radius = math.hypot(height, width) / 8
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.integers(1, max_strokes + 1)):
        n_vertices = int(rng.integers(*vertices))
        angle_min = mean_angle - rng.uniform(0, angle_range)
        angle_max = mean_angle + rng.uniform(0, angle_range)
        # alternate directions so a stroke zigzags instead of curling up
        angles = [2 * math.pi - rng.uniform(angle_min, angle_max) if i % 2 == 0 else rng.uniform(angle_min, angle_max)
                  for i in range(n_vertices)]
        points = [(int(rng.integers(0, width)), int(rng.integers(0, height)))]
        for angle in angles:
            r = float(np.clip(rng.normal(average_radius, average_radius // 2), 0, 2 * average_radius))
            x = np.clip(points[-1][0] + r * math.cos(angle), 0, width)
            y = np.clip(points[-1][1] + r * math.sin(angle), 0, height)
            points.append((int(x), int(y)))
        brush = max(int(rng.uniform(*brush_widths)), 1)
        draw.line(points, fill=1, width=brush)
        for x, y in points:  # round joints and ends
            draw.ellipse((x - brush // 2, y - brush // 2, x + brush // 2, y + brush // 2), fill=1)
    return np.asarray(canvas, dtype=np.float32)[:, :, None]


def rectangle_mask(height: int, width: int, rng: np.random.Generator, *, hole_min: tuple[int, int] | None = None,
                   hole_max: tuple[int, int] | None = None, max_holes: int = 1,
                   area: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """GLCIC's holes. hole_min/hole_max: (width, height) in px, both ends included (theirs' random.randint);
    default 0.3-0.6 of the image's sides. area: (left, top, width, height) the holes must lie in, default all."""
    _check_size(height, width)
    if hole_min is None:
        hole_min = (round(width * GLCIC_HOLE_FRACTIONS[0]), round(height * GLCIC_HOLE_FRACTIONS[0]))
    if hole_max is None:
        hole_max = (round(width * GLCIC_HOLE_FRACTIONS[1]), round(height * GLCIC_HOLE_FRACTIONS[1]))
    left, top, area_w, area_h = area if area is not None else (0, 0, width, height)
    if left < 0 or top < 0 or left + area_w > width or top + area_h > height:
        raise ValueError(f"hole area {area} does not fit in a {width}x{height} image")
    if not (1 <= hole_min[0] <= hole_max[0] <= area_w and 1 <= hole_min[1] <= hole_max[1] <= area_h):
        raise ValueError(f"hole sizes from {hole_min} to {hole_max} (width, height) must be at least 1 px, in order, "
                         f"and fit in the {area_w}x{area_h} hole area")
    if not isinstance(max_holes, int) or max_holes < 1:
        raise ValueError(f"max_holes must be a positive integer, got {max_holes!r}")
    mask = np.zeros((height, width, 1), np.float32)
    for _ in range(rng.integers(1, max_holes + 1)):
        w = int(rng.integers(hole_min[0], hole_max[0] + 1))
        h = int(rng.integers(hole_min[1], hole_max[1] + 1))
        x = int(rng.integers(left, left + area_w - w + 1))
        y = int(rng.integers(top, top + area_h - h + 1))
        mask[y:y + h, x:x + w] = 1.0
    return mask


def box_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """DeepFill's regular hole: a box of half the image's sides at a random place, each side shrunk by a random
    0 to 1/16 of the image (theirs at 256 px: 128 px box, max_delta 32, shrunk by randint(32 // 2 + 1))."""
    _check_size(height, width)
    box_h, box_w = height // 2, width // 2
    top = int(rng.integers(0, height - box_h)) if height > box_h else 0
    left = int(rng.integers(0, width - box_w)) if width > box_w else 0
    dh = int(rng.integers(0, height // 16 + 1))
    dw = int(rng.integers(0, width // 16 + 1))
    mask = np.zeros((height, width, 1), np.float32)
    mask[top + dh:top + box_h - dh, left + dw:left + box_w - dw] = 1.0
    return mask


def local_area(height: int, width: int, size: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """GLCIC's gen_hole_area: a size x size square at a random place, (left, top, width, height); its holes are
    drawn inside it and its local discriminator sees this crop."""
    _check_size(height, width)
    if not isinstance(size, int) or not 1 <= size <= min(height, width):
        raise ValueError(f"the local area's side must be an integer from 1 to {min(height, width)}, got {size!r}")
    return int(rng.integers(0, width - size + 1)), int(rng.integers(0, height - size + 1)), size, size


def draw_glcic_mask(height: int, width: int, seed: int, local_size: int, *, max_holes: int = 1,
                    hole_min: tuple[int, int] | None = None,
                    hole_max: tuple[int, int] | None = None) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """GLCIC's training mask from a seed: the local area (left, top, width, height) and rectangles inside it.
    Hole sizes default to theirs relative to the image (0.3-0.6 of each side), capped at the area."""
    rng = np.random.default_rng(seed)
    area = local_area(height, width, local_size, rng)
    if hole_max is None:
        hole_max = (min(round(width * GLCIC_HOLE_FRACTIONS[1]), local_size),
                    min(round(height * GLCIC_HOLE_FRACTIONS[1]), local_size))
    if hole_min is None:
        hole_min = (min(round(width * GLCIC_HOLE_FRACTIONS[0]), hole_max[0]),
                    min(round(height * GLCIC_HOLE_FRACTIONS[0]), hole_max[1]))
    return rectangle_mask(height, width, rng, hole_min=hole_min, hole_max=hole_max, max_holes=max_holes,
                          area=area), area


def draw_mask(kind: str, height: int, width: int, seed: int) -> np.ndarray:
    """The mask of `kind` (MASK_KINDS) for one sample, from its seed (translation.data.transforms.sample_seed)."""
    if kind not in MASK_KINDS:
        raise ValueError(f"unknown mask kind {kind!r}; choose one of {', '.join(MASK_KINDS)}")
    rng = np.random.default_rng(seed)
    if kind == "free_form":
        return brush_stroke_mask(height, width, rng)
    if kind == "rectangles":
        return rectangle_mask(height, width, rng)
    return np.maximum(box_mask(height, width, rng), brush_stroke_mask(height, width, rng))
