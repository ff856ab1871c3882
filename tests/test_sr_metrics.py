"""Super-resolution scores (translation/metrics/sr_protocol.py, `evaluate --paired --y-channel --crop-border`)
against BasicSR's calculate_psnr / calculate_ssim, re-derived here from their formulas in plain numpy."""
import json
import math

import numpy as np
import pytest
from PIL import Image

from translation.cli import main
from translation.data.io import read_image
from translation.metrics import sr_protocol


# ------------------------------------------------------------------ BasicSR's formulas, independently in numpy

def basicsr_scale(u8: np.ndarray, crop: int, y_channel: bool) -> np.ndarray:
    """What BasicSR scores for an 8-bit RGB image: to_y_channel (float32 / 255, BT.601 dot product in float64,
    + 16, / 255, stored as float32, x 255) or the 0-255 samples, then the border cropped, as float64."""
    if y_channel:
        x = (u8.astype(np.float32) / 255.0).astype(np.float64)
        y = 16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]
        img = ((y / 255.0).astype(np.float32) * np.float32(255.0))[..., None]
    else:
        img = u8.astype(np.float32) / 255.0 * np.float32(255.0)  # the script's float32 read, x 255
    if crop:
        img = img[crop:-crop, crop:-crop]
    return img.astype(np.float64)


def basicsr_psnr(a, b, crop, y_channel):
    a, b = basicsr_scale(a, crop, y_channel), basicsr_scale(b, crop, y_channel)
    mse = np.mean((a - b) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def gaussian_window(size=11, sigma=1.5):
    g = np.exp(-((np.arange(size) - size // 2) ** 2) / (2 * sigma ** 2))
    g /= g.sum()
    return np.outer(g, g)


def valid_filter(x, window):
    patches = np.lib.stride_tricks.sliding_window_view(x, window.shape)
    return np.einsum("ijkl,kl->ij", patches, window)


def basicsr_ssim(a, b, crop, y_channel):
    a, b = basicsr_scale(a, crop, y_channel), basicsr_scale(b, crop, y_channel)
    c1, c2, w = (0.01 * 255) ** 2, (0.03 * 255) ** 2, gaussian_window()
    values = []
    for c in range(a.shape[2]):
        x, y = a[..., c], b[..., c]
        mx, my = valid_filter(x, w), valid_filter(y, w)
        vx, vy = valid_filter(x * x, w) - mx ** 2, valid_filter(y * y, w) - my ** 2
        cov = valid_filter(x * y, w) - mx * my
        values.append(np.mean(((2 * mx * my + c1) * (2 * cov + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))))
    return float(np.mean(values))


# ------------------------------------------------------------------ helpers

def pair(seed=0, shape=(38, 33, 3), noise=12):
    rng = np.random.default_rng(seed)
    hr = rng.integers(0, 256, shape, dtype=np.int64)
    hr = np.clip(hr // 2 + np.linspace(0, 120, shape[1], dtype=np.int64)[None, :, None], 0, 255)  # some structure
    sr = np.clip(hr + rng.integers(-noise, noise + 1, shape), 0, 255)
    return hr.astype(np.uint8), sr.astype(np.uint8)


def as_read(u8, tmp_path, name):
    """The 8-bit image as `evaluate` reads it: through a PNG file and read_image."""
    path = tmp_path / f"{name}.png"
    Image.fromarray(u8).save(path)
    return read_image(path)


# ------------------------------------------------------------------ equal to BasicSR's numbers

@pytest.mark.parametrize("crop,y_channel", [(0, False), (4, False), (0, True), (3, True)])
def test_psnr_and_ssim_equal_basicsrs_formulas(crop, y_channel, tmp_path):
    hr, sr = pair()
    ours_hr, ours_sr = as_read(hr, tmp_path, "hr"), as_read(sr, tmp_path, "sr")
    if y_channel:  # the same float32 Y, bit for bit
        assert np.array_equal(sr_protocol.prepare(ours_hr, crop, True), basicsr_scale(hr, crop, True))
    assert sr_protocol.psnr(ours_sr, ours_hr, crop, y_channel) == pytest.approx(
        basicsr_psnr(sr, hr, crop, y_channel), abs=1e-6)
    assert sr_protocol.ssim(ours_sr, ours_hr, crop, y_channel) == pytest.approx(
        basicsr_ssim(sr, hr, crop, y_channel), abs=1e-6)
    # the protocol matters: Y and border change the numbers (so a test on them would notice a missing step)
    assert abs(sr_protocol.psnr(ours_sr, ours_hr, crop, y_channel) - basicsr_psnr(sr, hr, crop, not y_channel)) > 0.1


def test_evaluate_paired_y_channel_crop_border_averages_basicsrs_per_image_scores(tmp_path, capsys):
    expected = {"psnr": [], "ssim": []}
    for i, name in enumerate(["a", "sub/b"]):
        hr, sr = pair(seed=i, shape=(30 + i, 28, 3), noise=6 + 10 * i)
        for folder, image in (("hr", hr), ("sr", sr)):
            (tmp_path / folder / name).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(tmp_path / folder / f"{name}.png")
        expected["psnr"].append(basicsr_psnr(sr, hr, 2, True))
        expected["ssim"].append(basicsr_ssim(sr, hr, 2, True))
    argv = ["evaluate", str(tmp_path / "hr"), str(tmp_path / "sr"), "--paired", "--metrics", "psnr,ssim",
            "--y-channel", "--crop-border", "2", "--json"]
    assert main(argv) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    for name in ("psnr", "ssim"):
        assert results[name]["value"] == pytest.approx(np.mean(expected[name]), abs=1e-6)
        assert results[name]["details"] == {"images": 2, "channel": "Y (BT.601)", "crop_border": 2}
    # without the flags: the plain scores, which differ
    assert main(argv[:6] + ["--json"]) == 0
    assert abs(json.loads(capsys.readouterr().out)["results"]["psnr"]["value"] - results["psnr"]["value"]) > 0.1


# ------------------------------------------------------------------ cases to check by hand

def test_the_y_channel_is_bt601_luma_on_16_to_235():
    rgb = np.array([[[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]], dtype=np.float32)
    y = sr_protocol.to_y_channel(rgb)[0, :, 0]
    np.testing.assert_allclose(y, [16, 235, 16 + 65.481, 16 + 128.553, 16 + 24.966], atol=1e-4)
    gray = np.full((2, 2, 1), 0.5, np.float32)
    np.testing.assert_allclose(sr_protocol.to_y_channel(gray), 127.5)  # gray: as it is, as BasicSR


def test_identical_images_give_infinite_psnr_and_ssim_one(tmp_path, capsys):
    hr, _ = pair()
    image = as_read(hr, tmp_path, "hr")
    assert sr_protocol.psnr(image, image, 4, True) == math.inf  # BasicSR returns float('inf')
    assert sr_protocol.ssim(image, image, 4, True) == 1.0
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.fromarray(hr).save(tmp_path / folder / "x.png")
    assert main(["evaluate", str(tmp_path / "a"), str(tmp_path / "b"), "--paired", "--y-channel", "--json"]) == 0
    psnr = json.loads(capsys.readouterr().out)["results"]["psnr"]
    assert psnr["value"] == math.inf and psnr["std"] is None


def test_a_constant_offset_of_ten_grey_levels():
    target = np.full((16, 16, 3), 100 / 255, np.float32)
    output = np.full((16, 16, 3), 110 / 255, np.float32)
    assert sr_protocol.psnr(output, target) == pytest.approx(20 * math.log10(255 / 10), abs=1e-4)
    # on Y, 10 levels of each of R, G, B move Y by 219 / 255 x 10
    dy = 219 / 255 * 10
    assert sr_protocol.psnr(output, target, y_channel=True) == pytest.approx(20 * math.log10(255 / dy), abs=1e-4)
    assert sr_protocol.l1(output, target, y_channel=True) == pytest.approx(dy / 255, abs=1e-6)
    # flat images: no variance, so SSIM is the luminance term (2 a b + C1) / (a^2 + b^2 + C1)
    a, b, c1 = 16 + 219 * 110 / 255, 16 + 219 * 100 / 255, (0.01 * 255) ** 2
    assert sr_protocol.ssim(output, target, y_channel=True) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1),
                                                                            abs=1e-6)


def test_the_border_is_left_out():
    target = np.random.default_rng(3).random((20, 24, 3)).astype(np.float32)
    output = target.copy()
    output[:2] = output[-2:] = output[:, :2] = output[:, -2:] = 0  # a 2-pixel frame differs
    assert sr_protocol.psnr(output, target, crop_border=2) == math.inf
    assert sr_protocol.psnr(output, target, crop_border=1) < 30
    assert sr_protocol.ssim(output, target, crop_border=2, y_channel=True) == 1.0


def test_what_cannot_be_scored_is_a_clear_error(tmp_path, capsys):
    image = np.zeros((20, 20, 3), np.float32)
    with pytest.raises(ValueError, match="border of 10 px on each side leaves nothing of a 20x20 image"):
        sr_protocol.psnr(image, image, crop_border=10)
    with pytest.raises(ValueError, match="SSIM needs at least 11x11 pixels"):
        sr_protocol.ssim(image, image, crop_border=5)
    with pytest.raises(ValueError, match="RGB or gray"):
        sr_protocol.psnr(np.zeros((20, 20, 4)), np.zeros((20, 20, 4)), y_channel=True)
    with pytest.raises(ValueError, match="same shape"):
        sr_protocol.psnr(image, image[:10])
    hr, sr = pair(shape=(16, 16, 3))
    for folder, u8 in (("hr", hr), ("sr", sr)):
        (tmp_path / folder).mkdir()
        Image.fromarray(u8).save(tmp_path / folder / "x.png")
    assert main(["evaluate", str(tmp_path / "hr"), str(tmp_path / "sr"), "--y-channel"]) == 1
    assert capsys.readouterr().err.strip() == "error: --y-channel is for --paired scores (PSNR, SSIM, L1 against targets)"
    assert main(["evaluate", str(tmp_path / "hr"), str(tmp_path / "sr"), "--paired", "--crop-border", "4"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "x.png: SSIM needs at least 11x11 pixels" in err
