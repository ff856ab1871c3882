"""Image sheets: labelled columns that stay readable for small images."""
import numpy as np

from translation.visualize import HEADER_HEIGHT, make_sheet


def test_a_column_is_as_wide_as_its_label_with_the_image_centred_and_unchanged():
    image = np.random.default_rng(0).random((8, 8, 3), dtype=np.float32)
    sheet = make_sheet({"input": [image], "yellow": [image]}, gap=2, min_size=0)
    header = sheet[:HEADER_HEIGHT]
    inked = np.flatnonzero((header < 0.5).any(axis=(0, 2)))
    assert sheet.shape[1] > 2 * 8 + 2 and inked.max() < sheet.shape[1] - 1  # no label cut at the edge
    # each label's ink lies within its own column: a white gap column separates them
    gaps = [x for x in range(inked.min(), inked.max()) if (header[:, x] > 0.99).all()]
    assert gaps, "the two labels run into each other"
    body = sheet[HEADER_HEIGHT + 2:HEADER_HEIGHT + 10]
    found = [x for x in range(sheet.shape[1] - 7) if np.array_equal(body[:, x:x + 8], image)]
    assert len(found) == 2  # both images, pixel for pixel, no enlargement
    first_width = found[1] - found[0]
    assert found[0] > 0  # centred in a column wider than the image
    assert first_width > 8 + 2


def test_large_images_set_the_width_as_before():
    image = np.zeros((40, 60, 3), np.float32)
    sheet = make_sheet({"a": [image], "b": [image]}, gap=2, min_size=0)
    assert sheet.shape == (HEADER_HEIGHT + 2 + 40, 2 * 60 + 2, 3)
