"""translation.data.geometry: the one answer to "what size is an image after --preprocess"."""
import subprocess
import sys

import pytest

from translation.data.geometry import crop_error, flags_error, preprocess_size


def test_sizes_follow_the_official_rules():
    assert preprocess_size(96, 128, "resize_and_crop", 286, 256) == (286, 286)
    assert preprocess_size(50, 100, "scale_width", 64, 16) == (32, 64)  # keeps the aspect ratio
    assert preprocess_size(10, 100, "scale_width_and_crop", 64, 32) == (32, 64)  # ... but at least crop high
    assert preprocess_size(37, 53, "crop", 286, 256) == (37, 53)
    assert preprocess_size(37, 53, "none", 286, 256) == (36, 52)  # a multiple of 4
    with pytest.raises(ValueError, match="unknown --preprocess 'zoom'; choose one of resize_and_crop"):
        preprocess_size(1, 1, "zoom", 1, 1)


def test_which_flags_and_images_cannot_give_the_crop():
    assert flags_error("resize_and_crop", 286, 256) is None
    assert "--crop-size 300 is larger than --load-size 286" in flags_error("resize_and_crop", 286, 300)
    assert "scaled to the width --load-size" in flags_error("scale_width_and_crop", 200, 256)
    assert flags_error("crop", 10, 256) is None and flags_error("scale_width", 10, 256) is None  # load unused
    assert crop_error(96, 96, "resize_and_crop", 286, 256) is None  # scaled up first
    assert "--preprocess crop does not resize" in crop_error(96, 300, "crop", 286, 256)
    assert crop_error(256, 300, "crop", 10, 256) is None
    assert crop_error(8, 8, "none", 286, 256) is None and crop_error(8, 8, "scale_width", 286, 256) is None


def test_imports_nothing_heavy():
    """The option checks use it before torch loads (a fast --help)."""
    code = ("import sys, translation.data.geometry; "
            "print(sorted({'torch', 'cv2', 'albumentations', 'numpy', 'PIL'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
