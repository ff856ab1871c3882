"""Robust image reading and atomic image writing, shared by every part of the project.

Every file is read into one representation: float32 ``H x W x C`` in [0, 1].
Anything that cannot be read raises :class:`ImageReadError`, naming the file and the reason,
so that callers (datasets, `data check`, `prepare`) catch exactly one exception type.
A file read with a caveat (an animated GIF: its first frame) issues an :class:`ImageReadWarning`;
commands that print their own report collect those with :func:`read_warnings`.
"""
from __future__ import annotations

import contextlib
import io
import os
import pathlib
import threading
import warnings
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from translation.utils.files import atomic_write_bytes

PathLike = Union[str, os.PathLike]
# what the decoders read: a file, or an image's bytes in memory (an upload; never written to disk)
Source = Union[pathlib.Path, bytes]

# What is read (a GIF gives its first frame); WRITE_EXTENSIONS, below, is what can be written.
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"})

# Same limit as PIL's own guard (~179 MP, a 1 GB RGBA bitmap); override with the argument or
# the environment variable, where "0" or "none" disables the guard.
DEFAULT_MAX_PIXELS = 178_956_970
MAX_PIXELS_ENV = "TRANSLATION_MAX_PIXELS"

_ORIENTATION_TAG = 0x0112
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
_PIL_LIMIT_LOCK = threading.Lock()


class ImageReadError(ValueError):
    """A file that cannot be read as an image: ``str(e) == f"{path}: {reason}"``."""

    def __init__(self, path: PathLike, reason: str):
        self.path = pathlib.Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self):  # keeps the error picklable across DataLoader worker processes
        return (type(self), (str(self.path), self.reason))


class ImageReadWarning(UserWarning):
    """A file that was read, with a caveat the user should hear: ``str(w) == f"{path}: {reason}"``."""

    def __init__(self, path: PathLike, reason: str):
        self.path = pathlib.Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@contextlib.contextmanager
def read_warnings() -> Iterator[List[str]]:
    """Collect the :class:`ImageReadWarning` messages issued inside the block, for a command's own report.

    The list is filled when the block ends. Other warnings are shown as usual. ``warnings`` state is
    process-wide: enter this in one thread only (threads started inside the block are collected too).
    """
    messages: List[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ImageReadWarning)  # the same file read twice says so twice
        yield messages
    for warning in caught:
        if issubclass(warning.category, ImageReadWarning):
            messages.append(str(warning.message))
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


# --------------------------------------------------------------------------- listing


def is_image_file(path: PathLike) -> bool:
    return pathlib.Path(path).suffix.lower() in IMAGE_EXTENSIONS


def scan_images(root: PathLike, recursive: bool = True) -> Tuple[List[pathlib.Path], List[pathlib.Path]]:
    """(image files, other files) under ``root``, each sorted.

    Hidden files and folders (names starting with ".": .DS_Store, .git/) are in neither list, as git
    and pip leave them out. ``root`` may be a single file, which lands in one of the two lists.
    """
    root = pathlib.Path(root)
    if root.is_file():
        return ([root], []) if is_image_file(root) else ([], [root])
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such file or folder")
    images, others = [], []
    for folder, subdirs, files in os.walk(root):
        # Pruning in place stops os.walk from entering hidden folders (.git, .ipynb_checkpoints).
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".")) if recursive else []
        for name in files:
            if not name.startswith("."):
                (images if is_image_file(name) else others).append(pathlib.Path(folder) / name)
    return sorted(images), sorted(others)


def list_images(root: PathLike, recursive: bool = True) -> list:
    """Image files under ``root`` (sorted, hidden files and folders skipped); see :func:`scan_images`."""
    return scan_images(root, recursive)[0]


def skipped_not_images(names: Sequence, shown: int = 5) -> str:
    """"skipped 2 files that are not images (notes.txt, x.svg)", the first ``shown`` named; "" for none."""
    if not names:
        return ""
    listed = ", ".join(str(n) for n in names[:shown])
    if len(names) > shown:
        listed += f" and {len(names) - shown} more"
    what = "file that is not an image" if len(names) == 1 else "files that are not images"
    return f"skipped {len(names)} {what} ({listed})"


# --------------------------------------------------------------------------- reading


def resolve_max_pixels(max_pixels: Optional[int]) -> Optional[int]:
    """The limit in force: the environment variable replaces the default, never an explicit value."""
    if max_pixels != DEFAULT_MAX_PIXELS:
        return max_pixels
    env = os.environ.get(MAX_PIXELS_ENV, "").strip().lower()
    if not env:
        return max_pixels
    if env in ("0", "none", "off"):
        return None
    try:
        return int(float(env))
    except ValueError:
        raise ValueError(f"{MAX_PIXELS_ENV}={env!r} is not a number of pixels") from None


def _check_pixels(path, width: int, height: int, limit: Optional[int]) -> None:
    if limit is not None and width * height > limit:
        raise ImageReadError(
            path,
            f"image is {width}x{height} = {width * height:,} pixels, above the limit of {limit:,} "
            f"(a guard against decompression bombs); if you trust the file, raise the limit with "
            f"{MAX_PIXELS_ENV}=<pixels> (0 disables) or read_image(..., max_pixels=...)",
        )


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an H x W x C array, as PIL's ImageOps.exif_transpose does."""
    if orientation == 2:
        array = array[:, ::-1]
    elif orientation == 3:
        array = array[::-1, ::-1]
    elif orientation == 4:
        array = array[::-1]
    elif orientation == 5:
        array = array.transpose(1, 0, 2)
    elif orientation == 6:
        array = np.rot90(array, k=-1)
    elif orientation == 7:
        array = array.transpose(1, 0, 2)[::-1, ::-1]
    elif orientation == 8:
        array = np.rot90(array, k=1)
    return np.ascontiguousarray(array)


def _to_unit_float(array: np.ndarray) -> np.ndarray:
    """Scale integer samples by their type's full range (8 bit: 255, 16 bit: 65535); clip floats."""
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if np.issubdtype(array.dtype, np.integer):
        # PIL's "I" mode (int32) mostly carries 16-bit data; otherwise use the type's range.
        if array.size and array.min() >= 0 and array.max() <= 65535:
            return array.astype(np.float32) / 65535.0
        top = float(np.iinfo(array.dtype).max)
        return (np.clip(array.astype(np.float64), 0, top) / top).astype(np.float32)
    return np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0)


class _Decoded:
    """Raw samples in [0, 1] plus what they mean: colour channels (1 gray, 3 RGB, or N data) and alpha."""

    def __init__(self, colour: np.ndarray, alpha: Optional[np.ndarray], is_data: bool = False):
        self.colour = colour  # H x W x C
        self.alpha = alpha  # H x W x 1 or None
        self.is_data = is_data  # True for N-channel files whose channels are not gray/RGB


def _split_alpha(array: np.ndarray, has_alpha: bool) -> _Decoded:
    if array.ndim == 2:
        array = array[:, :, None]
    if has_alpha:
        return _Decoded(array[:, :, :-1], array[:, :, -1:])
    channels = array.shape[2]
    return _Decoded(array, None, is_data=channels not in (1, 3))


def _head(source: Source, size: int) -> bytes:
    if isinstance(source, bytes):
        return source[:size]
    with open(source, "rb") as f:
        return f.read(size)


def _opened(source: Source):
    """What PIL and tifffile open: the file's path, or a stream over the bytes."""
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _png_bit_depth(source: Source) -> int:
    header = _head(source, 26)
    return header[24] if len(header) >= 26 else 8


def _is_16bit_colour(im: Image.Image, source: Source) -> bool:
    """PIL silently reduces 16-bit RGB(A) PNG/TIFF to 8 bits; such files go to OpenCV instead."""
    if im.mode not in ("RGB", "RGBA"):
        return False
    if im.format == "PNG":
        return _png_bit_depth(source) == 16
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return max(bits) > 8
    return False


def _decode_pil(im: Image.Image) -> _Decoded:
    mode = im.mode
    has_transparency = "transparency" in im.info
    if mode == "P":
        im, mode = (im.convert("RGBA"), "RGBA") if has_transparency else (im.convert("RGB"), "RGB")
    elif mode == "PA":
        im, mode = im.convert("RGBA"), "RGBA"
    elif mode in ("L", "RGB") and has_transparency:  # tRNS colour key
        im, mode = im.convert("LA" if mode == "L" else "RGBA"), ("LA" if mode == "L" else "RGBA")
    elif mode == "La":
        im, mode = im.convert("LA"), "LA"
    elif mode == "RGBa":
        im, mode = im.convert("RGBA"), "RGBA"
    elif mode not in ("1", "L", "LA", "RGB", "RGBA", "I", "F") and not mode.startswith("I;16"):
        im, mode = im.convert("RGB"), "RGB"  # CMYK, YCbCr, LAB, HSV, RGBX
    array = np.asarray(im)
    if mode.startswith("I;16"):
        array = array.astype(np.uint16)
    return _split_alpha(_to_unit_float(array), has_alpha=mode in ("LA", "RGBA"))


def _decode_cv2(source: Source) -> Optional[_Decoded]:
    # imdecode avoids cv2's trouble with non-ASCII paths
    data = np.frombuffer(source, np.uint8) if isinstance(source, bytes) else np.fromfile(str(source), np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if array is None:
        return None
    if array.ndim == 3 and array.shape[2] == 3:
        array = array[:, :, ::-1]
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, [2, 1, 0, 3]]
    has_alpha = array.ndim == 3 and array.shape[2] == 4
    return _split_alpha(_to_unit_float(np.ascontiguousarray(array)), has_alpha)


def _decode_tifffile(source: Source, path, limit: Optional[int]) -> Optional[_Decoded]:
    """Multi-channel and float TIFFs, which PIL cannot open; `path` names the image in messages."""
    try:
        import tifffile
    except ImportError:
        return None
    try:
        with tifffile.TiffFile(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as tif:
            page = tif.pages[0]
            _check_pixels(path, page.imagewidth, page.imagelength, limit)
            array = page.asarray()
            if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and array.ndim == 3:
                array = np.moveaxis(array, 0, -1)
            extra = tuple(page.extrasamples or ())
            rgb = page.photometric == tifffile.PHOTOMETRIC.RGB
    except ImageReadError:
        raise
    except Exception:
        return None
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        return None
    # ExtraSamples 1 (associated) or 2 (unassociated) mark the last sample as alpha.
    has_alpha = bool(extra) and extra[-1] in (1, 2) and array.shape[2] in ((4,) if rgb else (2,))
    return _split_alpha(_to_unit_float(array), has_alpha)


def _open_pil(source: Source) -> Image.Image:
    """Open lazily, with PIL's own bomb guard replaced by ours (PIL's is process-global)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(_opened(source))
        except Image.DecompressionBombError:
            pass
        # Opening is lazy (header only), so lifting PIL's limit for this one open is safe:
        # the caller applies our limit to the size before any pixel is decoded.
        with _PIL_LIMIT_LOCK:
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                return Image.open(_opened(source))
            finally:
                Image.MAX_IMAGE_PIXELS = saved


def _warn_if_several_frames(im: Image.Image, path) -> None:
    """Animated GIF/PNG/WebP and multi-page TIFF: PIL decodes the first frame, and the user hears so."""
    try:
        frames = int(getattr(im, "n_frames", 1))
    except Exception:  # counting walks the file; a damaged later frame must not hide the first
        return
    if frames > 1:
        kind, unit = ("multi-page", "pages") if im.format == "TIFF" else ("animated", "frames")
        # stacklevel 4: the warning points at whoever called read_image
        warnings.warn(ImageReadWarning(path, f"{kind} ({frames} {unit}), using the first"), stacklevel=4)


def _decode_file(source: Source, path: PathLike, limit: Optional[int],
                 suffix: str = "") -> Tuple[_Decoded, int]:
    """Decode with PIL where it keeps full precision, else OpenCV / tifffile; returns (data, EXIF orientation).
    `path` names the image in messages; `suffix` (.tif) says what to try when PIL does not know the format."""
    try:
        im = _open_pil(source)
    except UnidentifiedImageError:
        im = None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageReadError(path, f"corrupt image header ({e})") from None

    if im is None:  # formats PIL does not know: float / multi-channel TIFF, exotic encodings
        decoded = None
        # a file says it is a TIFF by its name, bytes by their first four
        if suffix.lower() in (".tif", ".tiff") or (isinstance(source, bytes) and source[:4] in _TIFF_MAGIC):
            decoded = _decode_tifffile(source, path, limit)
        if decoded is None:
            decoded = _decode_cv2(source)
        if decoded is None:
            raise ImageReadError(path, "not an image file (unrecognised format)")
        _check_pixels(path, decoded.colour.shape[1], decoded.colour.shape[0], limit)
        return decoded, 1

    with im:
        _check_pixels(path, im.width, im.height, limit)
        _warn_if_several_frames(im, path)
        try:
            orientation = int(im.getexif().get(_ORIENTATION_TAG, 1) or 1)
        except Exception:  # a broken EXIF block should not make the pixels unreadable
            orientation = 1
        try:
            if _is_16bit_colour(im, source):
                decoded = _decode_cv2(source)
                if decoded is None:
                    raise ImageReadError(path, "truncated or corrupt image data")
            else:
                im.load()
                decoded = _decode_pil(im)
        except ImageReadError:
            raise
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            message = str(e)
            if "truncated" in message or "broken data stream" in message or isinstance(e, EOFError):
                raise ImageReadError(path, f"truncated image data ({message})") from None
            raise ImageReadError(path, f"corrupt image data ({message})") from None
    return decoded, orientation


def luminance(rgb: np.ndarray) -> np.ndarray:
    """H x W x 3+ float -> H x W x 1: ITU-R 601-2 luma, the weights of PIL's "L" conversion."""
    return (rgb[:, :, 0:1] * 0.299 + rgb[:, :, 1:2] * 0.587 + rgb[:, :, 2:3] * 0.114).astype(np.float32)


def read_image(
    path: PathLike,
    channels: Optional[int] = None,
    alpha: str = "white",
    max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Read an image file as float32 ``H x W x C`` in [0, 1] (always 3 dimensions).

    - EXIF orientation is applied. 8-bit samples are divided by 255, 16-bit (PNG/TIFF, gray or
      colour) by 65535, so 16-bit files keep their precision; float TIFFs are clipped to [0, 1].
    - Modes: 1-bit, gray, gray+alpha, RGB, RGBA, palette (with transparency), CMYK (converted to
      RGB), I;16, I, F, and N-channel TIFFs.
    - ``alpha``: ``"white"`` (default) composites transparent pixels on white; ``"drop"``
      discards the alpha channel; ``"keep"`` keeps it as the last channel.
    - ``channels``: ``None`` gives the file's natural count (1 gray, 3 colour, N for
      multi-channel files, +1 with ``alpha="keep"``); ``1`` gives luminance (ITU-R 601-2, as
      PIL "L"); ``3`` gives RGB (gray replicated). With ``alpha="keep"`` the alpha channel follows
      those 1 or 3 channels. Any other N requires the result to have exactly N channels.
    - ``max_pixels``: decompression-bomb guard (default: PIL's 178,956,970, or the
      ``TRANSLATION_MAX_PIXELS`` environment variable; ``None`` disables).

    Raises :class:`ImageReadError` for missing, empty, truncated, corrupt, too large or
    non-image files and for a channel count that cannot be met.
    """
    _check_options(channels, alpha)
    path = pathlib.Path(path)
    if not path.exists():
        raise ImageReadError(path, "file not found")
    if path.is_dir():
        raise ImageReadError(path, "is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageReadError(path, "empty file (0 bytes)")
    decoded = _decode_file(path, path, resolve_max_pixels(max_pixels), path.suffix)
    return _finish(path, *decoded, channels, alpha)


def decode_image(
    data: bytes,
    name: str = "image",
    channels: Optional[int] = None,
    alpha: str = "white",
    max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode an image file's bytes held in memory (an upload) as :func:`read_image` reads the file: the
    same decoders, options and decompression-bomb guard, and nothing written to disk. ``name`` stands for
    the file in messages (:class:`ImageReadError`)."""
    _check_options(channels, alpha)
    if not data:
        raise ImageReadError(name, "empty (0 bytes)")
    return _finish(pathlib.Path(name), *_decode_file(bytes(data), name, resolve_max_pixels(max_pixels)),
                   channels, alpha)


def _check_options(channels: Optional[int], alpha: str) -> None:
    if alpha not in ("white", "drop", "keep"):
        raise ValueError(f"alpha must be 'white', 'drop' or 'keep', not {alpha!r}")
    if channels is not None and channels < 1:
        raise ValueError(f"channels must be a positive number, not {channels}")


def _finish(path: pathlib.Path, decoded: _Decoded, orientation: int, channels: Optional[int],
            alpha: str) -> np.ndarray:
    """The decoded samples as read_image returns them: alpha handled, channels converted, EXIF applied."""
    colour, alpha_channel = decoded.colour, decoded.alpha
    if alpha_channel is not None and alpha == "white":
        colour = colour * alpha_channel + (1.0 - alpha_channel)
    if alpha != "keep":
        alpha_channel = None

    if channels in (1, 3):
        if decoded.is_data:
            raise ImageReadError(path, f"has {colour.shape[2]} channels, cannot convert to {channels}")
        if channels == 1 and colour.shape[2] == 3:
            colour = luminance(colour)
        elif channels == 3 and colour.shape[2] == 1:
            colour = np.repeat(colour, 3, axis=2)
    image = colour if alpha_channel is None else np.concatenate([colour, alpha_channel], axis=2)
    if channels is not None and image.shape[2] != channels:
        raise ImageReadError(path, f"has {image.shape[2]} channels, expected {channels}")
    return _apply_orientation(image.astype(np.float32, copy=False), orientation)


def image_size(path: PathLike, max_pixels: Optional[int] = DEFAULT_MAX_PIXELS) -> Tuple[int, int]:
    """(width, height) after EXIF orientation, reading only the header where PIL can."""
    path = pathlib.Path(path)
    limit = resolve_max_pixels(max_pixels)
    try:
        with _open_pil(path) as im:
            _check_pixels(path, *im.size, limit)
            width, height = im.size
            try:
                if int(im.getexif().get(_ORIENTATION_TAG, 1) or 1) in (5, 6, 7, 8):
                    width, height = height, width
            except Exception:
                pass
            return width, height
    except ImageReadError:
        raise
    except (OSError, SyntaxError, ValueError):
        image = read_image(path, max_pixels=max_pixels)
        return image.shape[1], image.shape[0]


# --------------------------------------------------------------------------- writing

_WRITE_FORMATS = {
    ".png": ".png", ".jpg": ".jpg", ".jpeg": ".jpg", ".webp": ".webp",
    ".bmp": ".bmp", ".tif": ".tiff", ".tiff": ".tiff",
}
_SIXTEEN_BIT_FORMATS = (".png", ".tiff")
WRITE_EXTENSIONS = frozenset(_WRITE_FORMATS)


def _quantise(image: np.ndarray, bit_depth: int) -> np.ndarray:
    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    if image.dtype == np.uint8:
        return image if bit_depth == 8 else image.astype(np.uint16) * 257
    if image.dtype == np.uint16:
        return image if bit_depth == 16 else np.round(image.astype(np.float32) / 257.0).astype(np.uint8)
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"image dtype must be float, uint8 or uint16, not {image.dtype}")
    scaled = np.round(np.clip(np.nan_to_num(image.astype(np.float32)), 0.0, 1.0) * top)
    return scaled.astype(dtype)


def encode_image(suffix: str, image: np.ndarray, bit_depth: int = 8, quality: int = 95) -> bytes:
    """Encode an image to the bytes of the format named by ``suffix`` (see :func:`write_image`)."""
    ext = _WRITE_FORMATS.get(suffix.lower())
    if ext is None:
        raise ValueError(f"cannot write {suffix!r} files; use one of {sorted(_WRITE_FORMATS)}")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, not {bit_depth}")
    if bit_depth == 16 and ext not in _SIXTEEN_BIT_FORMATS:
        raise ValueError(f"{suffix} files cannot hold 16-bit samples; use .png or .tif")
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"image must be H x W x C with C in 1, 3, 4, got shape {image.shape}")
    if image.shape[2] in (2, 4) and ext in (".jpg", ".bmp"):
        raise ValueError(f"{suffix} files have no alpha channel; drop or composite it first")
    if image.shape[2] == 2:
        if ext != ".png":
            raise ValueError("gray+alpha images can only be written as .png")
        image = image[:, :, [0, 0, 0, 1]]  # OpenCV has no gray+alpha; write as RGBA
    samples = _quantise(image, bit_depth)
    if samples.shape[2] == 3:
        samples = samples[:, :, ::-1]
    elif samples.shape[2] == 4:
        samples = samples[:, :, [2, 1, 0, 3]]
    params = []
    if ext == ".jpg":
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif ext == ".webp":
        # OpenCV encodes WebP losslessly above 100; quality=100 should mean "no loss" to a user.
        params = [cv2.IMWRITE_WEBP_QUALITY, 101 if quality >= 100 else int(quality)]
    ok, buffer = cv2.imencode(ext, np.ascontiguousarray(samples), params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {samples.shape} {samples.dtype} image as {ext}")
    return buffer.tobytes()


def write_image(path: PathLike, image: np.ndarray, bit_depth: int = 8, quality: int = 95) -> None:
    """Write ``image`` atomically; the format comes from the suffix (png, jpg/jpeg, webp, bmp, tif/tiff).

    ``image`` is float H x W x C (C 1, 3 or 4; values clipped to [0, 1] and rounded) or uint8/uint16
    (rescaled to ``bit_depth``). ``bit_depth=16`` is for .png and .tif. ``quality`` (1-100) applies
    to jpg/webp; WebP at 100 is lossless. Parent folders are created; the file is written to a temporary file in the same
    folder, fsynced and moved into place, so a crash never leaves a partial image.
    """
    path = pathlib.Path(path)
    atomic_write_bytes(path, encode_image(path.suffix, image, bit_depth=bit_depth, quality=quality))
