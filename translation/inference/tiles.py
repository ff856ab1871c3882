"""Huge images in overlapping tiles, blended without seams, in bounded memory.

Pixels near a tile's edge were computed without the context beyond that edge, so along each edge shared
with another tile a tile's weight is 0 over the outer quarter of the overlap and rises along a cosine over
the middle half. The output is the weighted sum of the tiles divided by the sum of the weights. A net that
looks at most overlap/4 pixels away (its receptive field's radius) therefore gives the same output tiled
as whole, up to float rounding. Tiles start at multiples of the generator's size multiple, as the whole
image does, so stride-2 layers see the same pixel grid; the last row and column end at the image's edge
and are padded as a whole image is.

Super-resolution nets give scale x each tile's size: tiles are planned on the input, and each tile's output,
its window and the overlap are scale x theirs (the ramps start scale x overlap/4 output px in, the context
overlap/4 input px give), so the same net that fits the overlap gives the whole image's output.

Rows of tiles go top to bottom and only the band of rows still receiving tiles is kept in float: finished
rows go straight into the output (quantised when it is 8/16-bit), so memory is the input, the output and
one band, whatever the image's height.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from translation.data.io import _quantise

# translate(tiles, indices) -> outputs: HxWxC float tiles of one padded size, each with its index in the image
TranslateTiles = Callable[[list, list], list]

# A U-Net's innermost layer sees its whole input, so a tile's output depends on all of the tile and no overlap
# makes it equal the whole image's. Measured (tools/tile_seams.py, figures in README): the difference to the
# whole image falls as the overlap grows to a quarter of the tile and hardly beyond; narrower overlaps left
# lines along the tile edges. Tiling a U-Net with less warns.
UNET_OVERLAP_FRACTION = 0.25


def _align_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


@dataclass(frozen=True)
class Tiling:
    tile: int      # side of a tile, a multiple of `multiple`
    overlap: int   # the least overlap between neighbouring tiles
    multiple: int  # the generator's size multiple: tiles start on it

    @classmethod
    def plan(cls, tile: int, overlap: int, multiple: int) -> Tiling:
        """Check the request against a generator's size multiple (the tile is rounded up to it)."""
        tile = _align_up(tile, multiple)
        if overlap < 0 or 2 * overlap > tile:
            raise ValueError(f"--tile-overlap {overlap}: must be between 0 and half the tile ({tile // 2})")
        if (tile - overlap) // multiple < 1:
            raise ValueError(f"--tile {tile} --tile-overlap {overlap}: tiles must start at multiples of this "
                             f"generator's size multiple ({multiple} px), which leaves no room between them; "
                             f"use a larger --tile or a smaller --tile-overlap")
        return cls(tile, overlap, multiple)

    @property
    def step(self) -> int:
        """The largest distance between neighbouring starts that keeps `overlap`."""
        return (self.tile - self.overlap) // self.multiple * self.multiple

    def needed(self, height: int, width: int) -> bool:
        return height > self.tile or width > self.tile

    def starts(self, length: int) -> list[int]:
        """Where tiles start along a side: evenly spread multiples of `multiple`, the first at 0, the last
        where a tile reaches the edge (that tile may be up to multiple - 1 px short: padding fills it)."""
        if length <= self.tile:
            return [0]
        last = _align_up(length - self.tile, self.multiple) // self.multiple  # in units of `multiple`
        gaps = -(-last * self.multiple // self.step)  # fewest gaps of at most `step`
        return [k * last // gaps * self.multiple for k in range(gaps + 1)]

    def weights(self, start: int, length: int, scale: int = 1) -> np.ndarray:
        """The 1-D blending window of the tile at `start` along a side of `length` px, over its output (scale x
        its size): ramps on the edges it shares with a neighbour, none on the image's own edges."""
        size = min(self.tile, length - start)
        overlap = scale * self.overlap
        margin = overlap // 4
        ramp = overlap - 2 * margin
        rise = np.concatenate([np.zeros(margin), 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)])
        window = np.ones(scale * size, np.float32)
        if start > 0:
            window[:len(rise)] *= rise
        if start + size < length:
            window[len(window) - len(rise):] *= rise[::-1]
        return window


def unet_overlap_warning(architecture: str, tiling: Tiling) -> str | None:
    """The line to print when tiling a U-Net generator with too little overlap to hide how its tiles differ
    from the whole image; None for other nets (they see a bounded distance) and wide enough overlaps."""
    if not architecture.startswith("unet_") or tiling.overlap >= UNET_OVERLAP_FRACTION * tiling.tile:
        return None
    enough = _align_up(int(UNET_OVERLAP_FRACTION * tiling.tile), 8)
    return (f"warning: {architecture} sees all of each tile, so its tiles differ from the whole image and a "
            f"--tile-overlap of {tiling.overlap} px can leave a visible grid; use --tile-overlap {enough} or more "
            f"(up to {tiling.tile // 2}), or translate whole images where memory allows")


def _weight_sums(starts: list[int], windows: list[np.ndarray], length: int) -> np.ndarray:
    total = np.zeros(length, np.float32)
    for start, window in zip(starts, windows):
        total[start:start + len(window)] += window
    return total


def blend_tiles(translate: TranslateTiles, image: np.ndarray, tiling: Tiling, out: np.ndarray,
                on_row: Callable[[int, int], None] | None = None, scale: int = 1) -> np.ndarray:
    """Translate `image` tile by tile into `out` ((scale H) x (scale W) x C: float, or uint8/uint16 to be
    quantised); `translate` gives scale x each tile's height and width.

    Tiles of one row go to `translate` together: they share a padded size, since the last one is short of
    a full tile by less than the size multiple. A tile's window is the product of its row's and column's
    windows, so the sum of all windows is the product of two 1-D sums.
    """
    height, width = image.shape[:2]
    if out.shape[:2] != (scale * height, scale * width):
        raise ValueError(f"the output array is {out.shape[0]}x{out.shape[1]}, not {scale}x the image's "
                         f"{height}x{width}")
    ys, xs = tiling.starts(height), tiling.starts(width)
    wys = [tiling.weights(y, height, scale) for y in ys]
    wxs = [tiling.weights(x, width, scale) for x in xs]
    sum_y = _weight_sums([scale * y for y in ys], wys, scale * height)
    sum_x = _weight_sums([scale * x for x in xs], wxs, scale * width)
    bits = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(out.dtype)
    # output rows from scale * ys[row] down that still receive tiles
    band = np.zeros((0, scale * width, out.shape[2]), np.float32)
    for row, (y, wy) in enumerate(zip(ys, wys)):
        band = np.concatenate([band, np.zeros((len(wy) - len(band), scale * width, out.shape[2]), np.float32)])
        tiles = [image[y:y + len(wy) // scale, x:x + len(wx) // scale] for x, wx in zip(xs, wxs)]
        results = translate(tiles, [row * len(xs) + column for column in range(len(xs))])
        for x, wx, result in zip(xs, wxs, results):
            band[:len(wy), scale * x:scale * x + len(wx)] += result * (wy[:, None, None] * wx[None, :, None])
        done = scale * ((ys[row + 1] if row + 1 < len(ys) else height) - y)  # output rows no later tile reaches
        top = scale * y
        finished = band[:done] / (sum_y[top:top + done, None, None] * sum_x[None, :, None])
        out[top:top + done] = finished if bits is None else _quantise(finished, bits)
        band = band[done:]
        if on_row:
            on_row(row + 1, len(ys))
    return out
