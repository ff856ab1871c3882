"""The training-time geometry of an image (--preprocess, --load-size, --crop-size), in one place.

The training transforms, `data check` and the option checks all ask these functions, so they cannot
disagree about which images are too small. Pure arithmetic: nothing heavy is imported (the CLI checks
options before torch loads).
"""
from __future__ import annotations

from typing import Optional

from translation.names import PREPROCESS_MODES

# Training's defaults (the official code's): 286 -> random 256 crop.
DEFAULT_PREPROCESS, DEFAULT_LOAD_SIZE, DEFAULT_CROP_SIZE = "resize_and_crop", 286, 256
# The modes that scale every image to --load-size (or to that width) before the random crop.
_RESIZING_CROPS = ("resize_and_crop", "scale_width_and_crop")


def preprocess_size(height: int, width: int, preprocess: str, load_size: int, crop_size: int,
                    multiple: Optional[int] = None) -> tuple[int, int]:
    """(height, width) of an image after --preprocess resizing, before the random crop (the official rules).
    `multiple`: a net that halves the size n times (pix2pixHD) needs sides that are multiples of 2^n; the modes
    that do not crop round to it (the official pix2pixHD's __make_power_2), those that crop leave it to the crop."""
    if preprocess == "resize_and_crop":
        return load_size, load_size
    if preprocess in ("scale_width", "scale_width_and_crop"):
        # the official scale_width keeps the height at least crop_size, so a wide image still crops
        height = max(int(round(load_size * height / width)), crop_size)
        if multiple and preprocess == "scale_width":
            return _round_to(height, multiple), _round_to(load_size, multiple)
        return height, load_size
    if preprocess == "none":  # sizes a multiple of 4 so the ResNet generator's strides line up
        m = multiple or 4
        return _round_to(height, m), _round_to(width, m)
    if preprocess == "crop":
        return height, width
    raise ValueError(f"unknown --preprocess {preprocess!r}; choose one of {', '.join(PREPROCESS_MODES)}")


def _round_to(side: int, multiple: int) -> int:
    return max(multiple, round(side / multiple) * multiple)


def flags_error(preprocess: str, load_size: int, crop_size: int) -> Optional[str]:
    """Why these flags cannot crop any image (--crop-size above what --load-size scales to), or None."""
    if preprocess in _RESIZING_CROPS and crop_size > load_size:
        scaled = "resized to" if preprocess == "resize_and_crop" else "scaled to the width"
        return (f"--crop-size {crop_size} is larger than --load-size {load_size}: --preprocess {preprocess} "
                f"crops images {scaled} --load-size; raise --load-size or lower --crop-size")
    return None


def crop_error(height: int, width: int, preprocess: str, load_size: int, crop_size: int) -> Optional[str]:
    """Why an image of ``height`` x ``width`` cannot be cropped to --crop-size under these flags, or None.

    The message names the flags to change and not the size, so that callers can list many images under
    one message. Only the modes that crop can fail.
    """
    if "crop" not in preprocess:
        return None
    problem = flags_error(preprocess, load_size, crop_size)
    if problem:
        return problem
    h, w = preprocess_size(height, width, preprocess, load_size, crop_size)
    if h >= crop_size and w >= crop_size:
        return None
    # Only "crop" gets here: the resizing modes reach at least --crop-size once the flags are sound.
    return (f"smaller than --crop-size {crop_size}, and --preprocess {preprocess} does not resize: lower "
            "--crop-size or use --preprocess resize_and_crop")
