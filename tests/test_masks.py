"""Hole masks drawn per sample (translation/data/masks.py): reproducible from the seed, 1 = hole, coverage as the
references' generators give."""
import numpy as np
import pytest

from translation.data.masks import box_mask, brush_stroke_mask, draw_glcic_mask, draw_mask, rectangle_mask
from translation.data.transforms import sample_seed
from translation.names import MASK_KINDS


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_same_seed_same_mask_and_the_format(kind):
    seed = sample_seed(7, 2, 13)
    mask = draw_mask(kind, 48, 80, seed)
    assert mask.shape == (48, 80, 1) and mask.dtype == np.float32
    assert set(np.unique(mask)) == {0.0, 1.0}  # 1 = hole, 0 = known; nothing in between
    assert np.array_equal(mask, draw_mask(kind, 48, 80, seed))
    others = [draw_mask(kind, 48, 80, sample_seed(7, 2, i)) for i in range(5)]
    assert not all(np.array_equal(mask, other) for other in others)


@pytest.mark.parametrize("kind,low,high", [("free_form", 0.08, 0.25), ("rectangles", 0.17, 0.24),
                                           ("deepfill", 0.22, 0.38)])
def test_mean_coverage_and_its_independence_of_size(kind, low, high):
    # measured over 300 seeds: free_form 0.15-0.16, rectangles 0.21 (E[w] E[h] = 0.45^2), deepfill 0.29-0.30
    for size in (32, 96):
        coverage = [draw_mask(kind, size, size, seed).mean() for seed in range(100)]
        assert low < np.mean(coverage) < high, (kind, size, np.mean(coverage))
        assert min(coverage) > 0 and max(coverage) < 0.7


def test_rectangles_are_glcic_boxes_inside_the_area():
    rng = np.random.default_rng(0)
    for _ in range(50):
        mask = rectangle_mask(64, 64, rng, hole_min=(10, 12), hole_max=(20, 16), area=(8, 4, 40, 30))[:, :, 0]
        rows, cols = np.nonzero(mask)
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert mask.sum() == h * w  # one filled box
        assert 10 <= w <= 20 and 12 <= h <= 16
        assert cols.min() >= 8 and cols.max() < 48 and rows.min() >= 4 and rows.max() < 34
    with pytest.raises(ValueError, match="fit in the 40x30 hole area"):
        rectangle_mask(64, 64, rng, hole_min=(10, 12), hole_max=(50, 16), area=(8, 4, 40, 30))


def test_deepfill_box_is_a_shrunk_half_size_box():
    rng = np.random.default_rng(1)
    for _ in range(50):
        rows, cols = np.nonzero(box_mask(256, 256, rng)[:, :, 0])
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert 128 - 2 * 16 <= h <= 128 and 128 - 2 * 16 <= w <= 128  # theirs: 128 px, shrunk by up to 16 a side


def test_brush_widths_scale_with_the_image():
    # a single 1-vertex-pair stroke's thickness: theirs' 12-40 px at 256 px becomes 3-10 px at 64 px
    thin = [brush_stroke_mask(64, 64, np.random.default_rng(s), max_strokes=1, vertices=(1, 2)).sum()
            for s in range(40)]
    wide = [brush_stroke_mask(256, 256, np.random.default_rng(s), max_strokes=1, vertices=(1, 2)).sum()
            for s in range(40)]
    assert 10 < np.mean(wide) / np.mean(thin) < 22  # area grows with the square of the scale (16)


def test_bad_kind_or_size_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown mask kind 'blobs'"):
        draw_mask("blobs", 32, 32, 0)
    with pytest.raises(ValueError, match="mask height must be a positive integer"):
        draw_mask("free_form", 0, 32, 0)


def test_glcic_mask_holes_lie_in_its_local_area():
    for seed in range(20):
        mask, (left, top, w, h) = draw_glcic_mask(160, 160, seed, 96)  # theirs' sizes: 160 px, 96 px local crop
        assert (w, h) == (96, 96) and 0 <= left <= 64 and 0 <= top <= 64
        assert mask[top:top + h, left:left + w].sum() == mask.sum() > 0
        rows, cols = np.nonzero(mask[:, :, 0])
        assert 48 <= rows.max() - rows.min() + 1 <= 96 and 48 <= cols.max() - cols.min() + 1 <= 96
        assert np.array_equal(mask, draw_glcic_mask(160, 160, seed, 96)[0])
