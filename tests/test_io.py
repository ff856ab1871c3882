"""translation.data.io: reading every mode the project meets, one error type, atomic writes."""
import os
import pickle
import struct
import warnings
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from translation.data import io as tio
from translation.data.io import (
    IMAGE_EXTENSIONS,
    WRITE_EXTENSIONS,
    ImageReadError,
    ImageReadWarning,
    image_size,
    list_images,
    read_image,
    read_warnings,
    scan_images,
    skipped_not_images,
    write_image,
)

RNG = np.random.default_rng(0)


def rgb8(h=12, w=17):
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


# --------------------------------------------------------------------------- errors and listing


def test_error_names_file_and_reason_and_pickles():
    e = ImageReadError("a/b.png", "empty file (0 bytes)")
    assert isinstance(e, ValueError)
    assert str(e) == "a/b.png: empty file (0 bytes)"
    assert e.reason == "empty file (0 bytes)" and str(e.path) == "a/b.png"
    again = pickle.loads(pickle.dumps(e))
    assert str(again) == str(e) and again.reason == e.reason


def test_every_listed_extension_is_found_in_any_case_and_reads_back(tmp_path):
    """What list_images accepts, read_image must read: each extension, lower and upper case."""
    image = np.kron(rgb8(2, 2), np.ones((4, 4, 1), np.uint8))  # flat 4x4 blocks: JPEG keeps them close
    for ext in sorted(IMAGE_EXTENSIONS):
        for name in (f"lower{ext}", f"UPPER{ext.upper()}"):
            if ext in WRITE_EXTENSIONS:
                write_image(tmp_path / name, image, quality=100)
            else:  # read-only formats (GIF)
                Image.fromarray(image).save(tmp_path / name, format=ext.lstrip(".").upper())
    found = list_images(tmp_path)
    assert len(found) == 2 * len(IMAGE_EXTENSIONS)
    for path in found:
        x = read_image(path)
        error = np.abs(x - image / 255.0)
        if path.suffix.lower() in (".jpg", ".jpeg"):  # lossy: colours bleed at block edges, the mean holds
            error = np.abs(x.mean(axis=(0, 1)) - image.mean(axis=(0, 1)) / 255.0)
        assert x.shape == (8, 8, 3) and error.max() <= 0.02, path.name


def test_list_images_sorted_filtered_hidden_skipped(tmp_path):
    for rel in ["b.png", "a.JPG", "c.txt", ".hidden.png", "sub/d.webp", ".git/e.png", "sub/.x/f.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert found == ["a.JPG", "b.png", "sub/d.webp"]
    flat = [p.name for p in list_images(tmp_path, recursive=False)]
    assert flat == ["a.JPG", "b.png"]
    assert list_images(tmp_path / "b.png") == [tmp_path / "b.png"]
    assert list_images(tmp_path / "c.txt") == []
    with pytest.raises(FileNotFoundError):
        list_images(tmp_path / "missing")


def test_scan_images_names_the_other_files_but_not_hidden_ones(tmp_path):
    for rel in ["b.png", "notes.txt", "sub/x.svg", "sub/y.gif", ".DS_Store", ".git/config", "sub/.x/z.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    images, others = scan_images(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in images] == ["b.png", "sub/y.gif"]
    assert [p.relative_to(tmp_path).as_posix() for p in others] == ["notes.txt", "sub/x.svg"]
    assert scan_images(tmp_path, recursive=False) == ([tmp_path / "b.png"], [tmp_path / "notes.txt"])
    assert scan_images(tmp_path / "notes.txt") == ([], [tmp_path / "notes.txt"])


def test_skipped_not_images_names_a_few_and_counts_the_rest():
    assert skipped_not_images([]) == ""
    assert skipped_not_images(["notes.txt"]) == "skipped 1 file that is not an image (notes.txt)"
    names = [f"{i}.txt" for i in range(8)]
    assert skipped_not_images(names) == \
        "skipped 8 files that are not images (0.txt, 1.txt, 2.txt, 3.txt, 4.txt and 3 more)"


def test_gif_extension_is_read_but_not_written(tmp_path):
    assert ".gif" in IMAGE_EXTENSIONS and ".gif" not in WRITE_EXTENSIONS
    with pytest.raises(ValueError, match="cannot write '.gif'"):
        write_image(tmp_path / "a.gif", np.zeros((4, 4, 3)))
    assert not (tmp_path / "a.gif").exists()


# --------------------------------------------------------------------------- modes and precision


def test_rgb8_exact_and_shape(tmp_path):
    a = rgb8()
    Image.fromarray(a).save(tmp_path / "a.png")
    x = read_image(tmp_path / "a.png")
    assert x.dtype == np.float32 and x.shape == (12, 17, 3)
    np.testing.assert_allclose(x, a / 255.0, atol=1e-7)


def test_gray_has_three_dims_and_channel_conversions(tmp_path):
    g = RNG.integers(0, 256, (9, 7), dtype=np.uint8)
    Image.fromarray(g, "L").save(tmp_path / "g.png")
    assert read_image(tmp_path / "g.png").shape == (9, 7, 1)
    x3 = read_image(tmp_path / "g.png", channels=3)
    assert x3.shape == (9, 7, 3) and np.array_equal(x3[..., 0], x3[..., 2])
    a = rgb8()
    Image.fromarray(a).save(tmp_path / "c.png")
    lum = read_image(tmp_path / "c.png", channels=1)
    pil_l = np.asarray(Image.fromarray(a).convert("L")) / 255.0
    assert lum.shape == (12, 17, 1)
    assert np.abs(lum[..., 0] - pil_l).max() <= 1 / 255 + 1e-6


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_gray_and_colour_keep_precision(tmp_path, suffix):
    colour = RNG.integers(0, 65536, (6, 5, 3), dtype=np.uint16)
    colour[0, 0] = (1, 2, 3)  # values 8 bits would merge
    cv2.imwrite(str(tmp_path / f"c{suffix}"), colour[..., ::-1])  # OpenCV writes BGR
    x = read_image(tmp_path / f"c{suffix}")
    assert x.shape == (6, 5, 3)
    np.testing.assert_allclose(x, colour / 65535.0, atol=1e-7)
    assert x[0, 0, 0] != x[0, 0, 1]
    gray = colour[..., 0]
    cv2.imwrite(str(tmp_path / f"g{suffix}"), gray)
    np.testing.assert_allclose(read_image(tmp_path / f"g{suffix}")[..., 0], gray / 65535.0, atol=1e-7)


def test_rgba_white_drop_keep(tmp_path):
    a = np.zeros((4, 4, 4), np.uint8)
    a[..., 0] = 200  # red-ish
    a[:2, ..., 3] = 0  # top half transparent
    a[2:, ..., 3] = 255
    Image.fromarray(a, "RGBA").save(tmp_path / "a.png")
    white = read_image(tmp_path / "a.png")
    assert white.shape == (4, 4, 3)
    assert np.allclose(white[:2], 1.0) and np.allclose(white[2:, :, 0], 200 / 255)
    assert np.allclose(white[2:, :, 1], 0.0)
    drop = read_image(tmp_path / "a.png", alpha="drop")
    assert np.allclose(drop[:2, :, 0], 200 / 255)
    keep = read_image(tmp_path / "a.png", alpha="keep")
    assert keep.shape == (4, 4, 4) and np.allclose(keep[:2, :, 3], 0) and np.allclose(keep[2:, :, 3], 1)
    assert read_image(tmp_path / "a.png", channels=4, alpha="keep").shape == (4, 4, 4)
    with pytest.raises(ImageReadError, match="has 3 channels, expected 4"):
        read_image(tmp_path / "a.png", channels=4)
    with pytest.raises(ValueError):
        read_image(tmp_path / "a.png", alpha="black")


def test_gray_alpha_half_transparent(tmp_path):
    la = np.stack([np.zeros((3, 3), np.uint8), np.full((3, 3), 128, np.uint8)], -1)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    x = read_image(tmp_path / "la.png")
    assert x.shape == (3, 3, 1) and np.allclose(x, 1 - 128 / 255, atol=1e-6)
    assert read_image(tmp_path / "la.png", alpha="keep").shape == (3, 3, 2)


def test_palette_with_transparency(tmp_path):
    im = Image.new("P", (4, 2))
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.putdata([0, 1, 0, 1, 1, 1, 1, 1])
    im.info["transparency"] = 0
    im.save(tmp_path / "p.png", transparency=0)
    x = read_image(tmp_path / "p.png")
    assert x.shape == (2, 4, 3)
    assert np.allclose(x[0, 0], 1.0)  # transparent index → white
    assert np.allclose(x[0, 1], (0, 0, 1))


def test_gif_first_frame_transparency_and_animation_warning(tmp_path):
    frames = [Image.new("RGB", (5, 3), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    with pytest.warns(ImageReadWarning, match=r"anim\.gif: animated \(3 frames\), using the first"):
        x = read_image(tmp_path / "anim.gif")
    assert x.shape == (3, 5, 3) and np.allclose(x, (1, 0, 0))  # the first frame, not the last one counted
    assert image_size(tmp_path / "anim.gif") == (5, 3)

    still = Image.new("P", (4, 2))
    still.putpalette([0, 0, 255, 9, 9, 9] + [0] * 762)
    still.putdata([0, 1, 0, 1, 1, 1, 1, 1])
    still.save(tmp_path / "still.gif", transparency=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageReadWarning)  # one frame: nothing to say
        y = read_image(tmp_path / "still.gif")
    assert np.allclose(y[0, 0], (0, 0, 1)) and np.allclose(y[1], 1.0)  # transparent index -> white


def test_multipage_tiff_says_it_reads_the_first_page(tmp_path):
    pages = [Image.new("L", (4, 4), v) for v in (10, 200)]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    with pytest.warns(ImageReadWarning, match=r"multi-page \(2 pages\), using the first"):
        x = read_image(tmp_path / "pages.tif")
    assert np.allclose(x, 10 / 255)


def test_read_warnings_collects_ours_and_passes_others_on(tmp_path):
    frames = [Image.new("L", (2, 2), v) for v in (0, 255)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match="unrelated") as shown:
        with read_warnings() as caveats:
            read_image(tmp_path / "a.gif")
            read_image(tmp_path / "a.gif")  # read twice, said twice
            warnings.warn("unrelated", UserWarning)
    assert caveats == [f"{tmp_path / 'a.gif'}: animated (2 frames), using the first"] * 2
    assert [str(w.message) for w in shown] == ["unrelated"]


def test_cmyk_one_bit_and_float(tmp_path):
    Image.new("CMYK", (5, 4), (0, 255, 0, 0)).save(tmp_path / "c.jpg", quality=100)
    x = read_image(tmp_path / "c.jpg")
    assert x.shape == (4, 5, 3) and np.allclose(x[0, 0], (1, 0, 1), atol=0.02)  # magenta
    bits = np.zeros((4, 8), bool)
    bits[:, ::2] = True
    Image.fromarray(bits).convert("1").save(tmp_path / "b.png")
    b = read_image(tmp_path / "b.png")
    assert b.shape == (4, 8, 1) and set(np.unique(b)) == {0.0, 1.0}
    f = np.linspace(-0.5, 1.5, 12, dtype=np.float32).reshape(3, 4)
    Image.fromarray(f, "F").save(tmp_path / "f.tif")
    np.testing.assert_allclose(read_image(tmp_path / "f.tif")[..., 0], np.clip(f, 0, 1))


def test_multichannel_tiff(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    data = RNG.integers(0, 65536, (5, 6, 5), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "m.tif", data, photometric="minisblack", planarconfig="contig")
    x = read_image(tmp_path / "m.tif")
    assert x.shape == (5, 6, 5)
    np.testing.assert_allclose(x, data / 65535.0, atol=1e-7)
    assert read_image(tmp_path / "m.tif", channels=5).shape == (5, 6, 5)
    with pytest.raises(ImageReadError, match="has 5 channels"):
        read_image(tmp_path / "m.tif", channels=4)
    tifffile.imwrite(tmp_path / "f.tif", RNG.random((3, 4, 3), dtype=np.float32), photometric="rgb")
    assert read_image(tmp_path / "f.tif").shape == (3, 4, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pil(tmp_path, orientation):
    a = rgb8(6, 10)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(a).save(tmp_path / "o.png", exif=exif)
    with Image.open(tmp_path / "o.png") as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB")) / 255.0
    x = read_image(tmp_path / "o.png")
    assert x.shape == expected.shape
    np.testing.assert_allclose(x, expected, atol=1e-7)
    assert image_size(tmp_path / "o.png") == (x.shape[1], x.shape[0])


# --------------------------------------------------------------------------- bad files


def test_bad_files_raise_one_error_type(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello, not an image")
    buf = cv2.imencode(".png", rgb8(64, 64))[1].tobytes()
    (tmp_path / "cut.png").write_bytes(buf[: len(buf) // 2])
    jbuf = cv2.imencode(".jpg", rgb8(64, 64))[1].tobytes()
    (tmp_path / "cut.jpg").write_bytes(jbuf[: len(jbuf) // 2])
    (tmp_path / "dir.png").mkdir()
    cases = {
        "empty.png": "empty file (0 bytes)",
        "text.png": "not an image file (unrecognised format)",
        "cut.png": "truncated image data",
        "cut.jpg": "truncated image data",
        "missing.png": "file not found",
        "dir.png": "is a folder",
    }
    for name, reason in cases.items():
        with pytest.raises(ImageReadError) as info:
            read_image(tmp_path / name)
        assert info.value.path == tmp_path / name
        assert reason in info.value.reason, (name, info.value.reason)
        assert str(info.value).startswith(str(tmp_path / name) + ": ")


def _png_header_only(width, height):
    """A PNG whose header claims a huge size: the guard must refuse before decoding."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def test_decompression_bomb_guard(tmp_path, monkeypatch):
    monkeypatch.delenv(tio.MAX_PIXELS_ENV, raising=False)
    (tmp_path / "bomb.png").write_bytes(_png_header_only(30000, 30000))
    with pytest.raises(ImageReadError) as info:
        read_image(tmp_path / "bomb.png")
    assert "900,000,000 pixels" in info.value.reason and tio.MAX_PIXELS_ENV in info.value.reason
    Image.fromarray(rgb8(10, 10)).save(tmp_path / "small.png")
    with pytest.raises(ImageReadError, match="max_pixels"):
        read_image(tmp_path / "small.png", max_pixels=99)
    assert read_image(tmp_path / "small.png", max_pixels=100).shape == (10, 10, 3)
    monkeypatch.setenv(tio.MAX_PIXELS_ENV, "50")
    with pytest.raises(ImageReadError, match="limit of 50"):
        read_image(tmp_path / "small.png")
    assert read_image(tmp_path / "small.png", max_pixels=None).shape == (10, 10, 3)  # explicit wins
    monkeypatch.setenv(tio.MAX_PIXELS_ENV, "0")
    assert read_image(tmp_path / "small.png").shape == (10, 10, 3)
    # Above PIL's own (process-wide) limit but allowed by ours: PIL's guard must not get in the way,
    # and must be left as it was.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20)
    assert read_image(tmp_path / "small.png", max_pixels=1000).shape == (10, 10, 3)
    assert Image.MAX_IMAGE_PIXELS == 20
    with pytest.raises(ImageReadError, match="limit of 30"):
        read_image(tmp_path / "small.png", max_pixels=30)


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("suffix,bits,tol", [
    (".png", 8, 0.5 / 255), (".png", 16, 0.5 / 65535), (".tif", 16, 0.5 / 65535),
    (".bmp", 8, 0.5 / 255), (".webp", 8, 0.5 / 255), (".jpg", 8, 0.03),
])
def test_write_read_round_trip(tmp_path, suffix, bits, tol):
    x = RNG.random((16, 20, 3), dtype=np.float32)
    if suffix == ".jpg":  # lossy with chroma subsampling: compare a smooth image on average
        x = np.broadcast_to(np.linspace(0, 1, 20, dtype=np.float32)[None, :, None], x.shape)
    path = tmp_path / "deep" / "er" / f"x{suffix}"
    write_image(path, x, bit_depth=bits, quality=100)
    y = read_image(path)
    assert y.shape == x.shape
    err = np.abs(y - x)
    assert (err.mean() if suffix == ".jpg" else err.max()) <= tol + 1e-6
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind


def test_write_clips_rounds_and_accepts_integers(tmp_path):
    x = np.array([[[-1.0], [0.5], [2.0], [0.2]]], np.float32)
    write_image(tmp_path / "g.png", x)
    assert cv2.imread(str(tmp_path / "g.png"), cv2.IMREAD_UNCHANGED).tolist() == [[0, 128, 255, 51]]
    u16 = np.array([[[0], [257], [65535]]], np.uint16)
    write_image(tmp_path / "u.png", u16, bit_depth=16)
    assert cv2.imread(str(tmp_path / "u.png"), cv2.IMREAD_UNCHANGED).tolist() == [[0, 257, 65535]]
    write_image(tmp_path / "u8.png", u16)
    assert cv2.imread(str(tmp_path / "u8.png"), cv2.IMREAD_UNCHANGED).tolist() == [[0, 1, 255]]
    rgba = np.zeros((2, 2, 4), np.float32)
    rgba[..., 0] = 1
    rgba[..., 3] = 1
    write_image(tmp_path / "r.png", rgba)
    assert read_image(tmp_path / "r.png", alpha="keep")[0, 0].tolist() == [1, 0, 0, 1]


def test_write_refuses_bad_requests_without_touching_files(tmp_path):
    target = tmp_path / "x.jpg"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match="16-bit"):
        write_image(target, np.zeros((2, 2, 3), np.float32), bit_depth=16)
    with pytest.raises(ValueError, match="alpha"):
        write_image(target, np.zeros((2, 2, 4), np.float32))
    with pytest.raises(ValueError, match="cannot write"):
        write_image(tmp_path / "x.gif", np.zeros((2, 2, 3), np.float32))
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jpg"]


def test_write_is_atomic_when_the_move_fails(tmp_path, monkeypatch):
    target = tmp_path / "x.png"
    write_image(target, np.zeros((4, 4, 3), np.float32))
    before = target.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(tio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_image(target, np.ones((4, 4, 3), np.float32))
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["x.png"]
