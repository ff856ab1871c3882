"""Inpainting inference (issue 22, point 9): `translate --mask` feeds the net the masked image and the mask, and
writes the composite: outside the mask the written file holds the input's samples exactly (8 and 16 bit, odd sizes,
tiles); masks are found by name as instance maps are, and every bad mask is named.

Most tests use a tiny resnet_6blocks taking the image and the mask (4 channels in, 3 out) under an inpainting record,
which is the whole contract translate relies on; the last runs the tiny glcic (one input) and deepfill (image and
mask apart, two stages) through it."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from translation.checkpoint import save_checkpoint, translates
from translation.cli import main
from translation.data.io import write_image
from translation.inference.composite import composite, keep_known
from translation.inference.mask_inputs import MaskError, inpaints
from translation.inference.tiles import Tiling
from translation.inference.translator import Translator, load_translator
from translation.nets import create_generator, spec_of

FILL = [0.25, -0.5, 0.0]


def inpaint_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return create_generator("resnet_6blocks", in_channels=4, out_channels=3, ngf=4, norm="none", dropout=False,
                            init="pytorch").eval()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "inpaint.pt"
    net = inpaint_net()
    record = {**translates("AtoB", paired=True), **inpaints(FILL), "weights": "raw"}
    save_checkpoint(path, {"model": "deepfill", "net_specs": {"G": spec_of(net)}, "nets": {"G": net.state_dict()},
                           "generators": {"G": record}, "test_mode": "eval"})
    return path


def samples(h: int, w: int, bits: int, seed: int = 0) -> np.ndarray:
    top = 255 if bits == 8 else 65535
    return np.random.default_rng(seed).integers(0, top + 1, (h, w, 3)).astype(np.uint8 if bits == 8 else np.uint16)


def write_raw(path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, array, bit_depth=16 if array.dtype == np.uint16 else 8)  # the samples as they are


def hole(h: int, w: int, top: int, left: int, size: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[top:top + size, left:left + size] = 255
    return mask


def read_samples(path, bits: int) -> np.ndarray:
    import cv2

    out = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert out.dtype == (np.uint8 if bits == 8 else np.uint16)
    return out


def test_composite_selects_known_pixels_and_passes_gradients_to_holes_only():
    image = torch.rand(1, 3, 5, 7)
    output = torch.rand(1, 3, 5, 7, requires_grad=True)
    mask = torch.zeros(1, 1, 5, 7)
    mask[..., 1:3, 2:5] = 1
    out = composite(output, image, mask)
    assert torch.equal(out[..., 0, :], image[..., 0, :]) and torch.equal(out[..., 1:3, 2:5], output[..., 1:3, 2:5])
    out.sum().backward()
    assert torch.equal(output.grad, mask.expand_as(output))
    array = composite(np.full((5, 7, 3), 0.5, np.float32), np.ones((5, 7, 3), np.float32), np.zeros((5, 7, 1)))
    assert (array == 1).all()


def test_keep_known_quantises_the_input_into_integer_outputs():
    image = samples(6, 5, 16).astype(np.float32) / 65535
    mask = np.zeros((6, 5, 1), np.float32)
    mask[2:4] = 1
    out = keep_known(np.zeros((6, 5, 3), np.uint16), image, mask)
    assert np.array_equal(out[:2], np.round(image[:2] * 65535).astype(np.uint16)) and not out[2:4].any()


@pytest.mark.parametrize("bits", [8, 16])
def test_translate_mask_keeps_every_known_sample_at_odd_sizes(checkpoint, tmp_path, bits):
    sizes = {"a.png": (37, 29), "sub/b.png": (23, 41), "c.png": (9, 13)}
    for name, (h, w) in sizes.items():
        write_raw(tmp_path / "in" / name, samples(h, w, bits, seed=h))
        # masks found by relative path and name, whatever their extension; holes touch the edges
        write_raw(tmp_path / "masks" / name.replace(".png", ".bmp" if bits == 8 else ".png"),
                  hole(h, w, h - 6, w - 7, 7))
    code = main(["translate", str(checkpoint), str(tmp_path / "in"), str(tmp_path / "out"), "--mask",
                 str(tmp_path / "masks"), "--bit-depth", str(bits), "--no-progress", "--num-workers", "0"])
    assert code == 0
    for name, (h, w) in sizes.items():
        source, out = samples(h, w, bits, seed=h), read_samples(tmp_path / "out" / name, bits)
        known = hole(h, w, h - 6, w - 7, 7) == 0
        assert out.shape == source.shape
        assert np.array_equal(out[known], source[known])  # bit for bit
        assert not np.array_equal(out[~known], source[~known])  # the net filled the hole


def test_tiled_outputs_keep_the_known_samples_and_match_whole_in_the_hole(checkpoint, tmp_path):
    h, w = 70, 45
    write_raw(tmp_path / "in" / "big.png", samples(h, w, 16, seed=3))
    write_raw(tmp_path / "mask.png", hole(h, w, 30, 10, 12))
    for tile, out in ((None, "whole"), (32, "tiled")):
        extra = ["--tile", str(tile), "--tile-overlap", "16"] if tile else []
        assert main(["translate", str(checkpoint), str(tmp_path / "in" / "big.png"), str(tmp_path / out),
                     "--mask", str(tmp_path / "mask.png"), "--bit-depth", "16", "--no-progress", *extra]) == 0
    whole, tiled = (read_samples(tmp_path / name / "big.png", 16) for name in ("whole", "tiled"))
    known = hole(h, w, 30, 10, 12) == 0
    source = samples(h, w, 16, seed=3)
    assert np.array_equal(tiled[known], source[known]) and np.array_equal(whole[known], source[known])
    # resnet_6blocks at ngf 4 looks a bounded distance: a 16 px overlap leaves the hole as the whole image fills it
    assert np.abs(tiled[~known].astype(int) - whole[~known].astype(int)).max() <= 2 * 257


def test_the_net_never_sees_the_pixels_under_the_mask(checkpoint):
    translator = load_translator(checkpoint)
    assert translator.inpaint and translator.read_channels == 3
    rng = np.random.default_rng(1)
    image = rng.random((19, 22, 3)).astype(np.float32)
    mask = np.zeros((19, 22, 1), np.float32)
    mask[12:, 15:] = 1  # at the bottom-right edge, where the padding to the size multiple reflects
    other = image.copy()
    other[12:, 15:] = rng.random((7, 7, 3))
    first, second = translator.translate(image, mask=mask), translator.translate(other, mask=mask)
    np.testing.assert_array_equal(first, second)


def test_the_net_reads_the_fill_and_the_mask_channel(checkpoint):
    """What reaches the net: holes at the record's fill (in the net's range), then the mask."""
    seen = []
    net = inpaint_net()
    net.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
    translator = Translator(net, spec_of(net), "AtoB", "eval", torch.device("cpu"), hole_fill=FILL)
    image = np.full((16, 16, 3), 1.0, np.float32)
    mask = np.zeros((16, 16, 1), np.float32)
    mask[4:8, 4:8] = 1
    translator.translate(image, mask=mask)
    x = seen[0][0]
    assert torch.equal(x[3], torch.from_numpy(mask[..., 0]))
    assert torch.equal(x[:3, 5, 5], torch.tensor(FILL)) and torch.equal(x[:3, 0, 0], torch.ones(3))


def test_a_net_taking_image_and_mask_gets_them_apart_and_gives_its_last_stage():
    """DeepFill's convention: G(image, mask) -> (coarse, refined); its in_channels count the image only."""
    seen = []

    class TwoStages(nn.Module):
        size_multiple = 8

        def forward(self, image, mask):
            seen.append((image.clone(), mask.clone()))
            return torch.zeros_like(image), torch.full_like(image, 0.5)

    spec = {"kind": "generator", "name": "two_stages", "kwargs": {"in_channels": 3}}
    translator = Translator(TwoStages(), spec, "AtoB", "eval", torch.device("cpu"), hole_fill=[0.0])
    assert (translator.mask_argument, translator.read_channels, translator.out_channels) == (True, 3, 3)
    mask = np.zeros((20, 21, 1), np.float32)
    mask[3:9, 4:10] = 1
    image = np.ones((20, 21, 3), np.float32)
    out = translator.translate(image, mask=mask)
    np.testing.assert_array_equal(out[mask[..., 0] == 1], 0.75)  # the last stage, 0.5 in [-1, 1]
    np.testing.assert_array_equal(out[mask[..., 0] == 0], 1.0)
    x, m = seen[0]
    assert x.shape == (1, 3, 24, 24) and m.shape == (1, 1, 24, 24)  # padded to the size multiple together
    assert torch.equal(m[0, 0, :20, :21], torch.from_numpy(mask[..., 0]))
    assert (x[0, :, 3:9, 4:10] == 0).all() and (x[0, :, :3] == 1).all()


def test_a_missing_mask_names_the_input_and_where_it_looked(checkpoint, tmp_path, capsys):
    for name in ("a.png", "b.png"):
        write_raw(tmp_path / "in" / name, samples(20, 20, 8))
    write_raw(tmp_path / "masks" / "a.png", hole(20, 20, 2, 2, 5))
    code = main(["translate", str(checkpoint), str(tmp_path / "in"), str(tmp_path / "out"), "--mask",
                 str(tmp_path / "masks"), "--no-progress", "--num-workers", "0"])
    err = capsys.readouterr().err
    assert code == 1 and (tmp_path / "out" / "a.png").exists() and not (tmp_path / "out" / "b.png").exists()
    assert "b.png: no mask (looked for" in err and str(tmp_path / "masks" / "b") in err


@pytest.mark.parametrize("mask,expected", [
    (np.zeros((20, 21), np.uint8), "is 21x20 but the image is 20x20"),
    (np.zeros((20, 20, 3), np.uint8), "has 3 channels (RGB)"),
])
def test_a_bad_mask_is_named(checkpoint, tmp_path, capsys, mask, expected):
    write_raw(tmp_path / "in" / "a.png", samples(20, 20, 8))
    write_raw(tmp_path / "masks" / "a.png", mask)
    code = main(["translate", str(checkpoint), str(tmp_path / "in"), str(tmp_path / "out"), "--mask",
                 str(tmp_path / "masks"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and expected in err and str(tmp_path / "masks" / "a.png") in err and "a.png" in err


def test_grey_masks_fill_from_128_and_say_so(checkpoint, tmp_path, capsys):
    write_raw(tmp_path / "in" / "a.png", samples(20, 20, 8))
    mask = np.zeros((20, 20), np.uint8)
    mask[:, 10:] = 127
    mask[5:9, 10:] = 128
    write_raw(tmp_path / "mask.png", mask)
    assert main(["translate", str(checkpoint), str(tmp_path / "in" / "a.png"), str(tmp_path / "out"), "--mask",
                 str(tmp_path / "mask.png"), "--no-progress"]) == 0
    assert "pixels from 128 up are holes" in capsys.readouterr().err
    out, source = read_samples(tmp_path / "out" / "a.png", 8), samples(20, 20, 8)
    known = mask < 128
    assert np.array_equal(out[known], source[known]) and not np.array_equal(out[~known], source[~known])


def test_masks_and_models_must_agree(checkpoint, tmp_path, capsys):
    write_raw(tmp_path / "in" / "a.png", samples(20, 20, 8))
    assert main(["translate", str(checkpoint), str(tmp_path / "in"), str(tmp_path / "out"), "--no-progress"]) == 1
    assert "this model fills holes: give the mask" in capsys.readouterr().err
    plain = tmp_path / "plain.pt"
    net = create_generator("resnet_6blocks", in_channels=3, out_channels=3, ngf=4, norm="none", dropout=False)
    save_checkpoint(plain, {"model": "pix2pix", "net_specs": {"G": spec_of(net)}, "nets": {"G": net.state_dict()},
                            "generators": {"G": {**translates("AtoB"), "weights": "raw"}}, "test_mode": "eval"})
    write_raw(tmp_path / "mask.png", hole(20, 20, 0, 0, 4))
    assert main(["translate", str(plain), str(tmp_path / "in"), str(tmp_path / "out"), "--mask",
                 str(tmp_path / "mask.png"), "--no-progress"]) == 1
    assert "this model does not inpaint" in capsys.readouterr().err
    with pytest.raises(MaskError, match="reads a mask with each input"):
        load_translator(checkpoint).translate(np.zeros((8, 8, 3), np.float32))


def test_tiles_plan_as_for_other_nets(checkpoint):
    assert load_translator(checkpoint).tiling(32, 8) == Tiling(32, 8, 4)


@pytest.mark.parametrize("name,options,fill", [
    ("glcic", {"in_channels": 4, "out_channels": 3, "ngf": 4}, [0.2, -0.1, 0.4]),  # G(cat(image, mask)), [0, 1]
    ("deepfill", {"in_channels": 3, "cnum": 8}, [0.0]),  # G(image, mask) -> (coarse, refined), [-1, 1]
])
def test_the_inpainting_nets_fill_holes_through_translate(tmp_path, name, options, fill):
    torch.manual_seed(0)
    net = create_generator(name, init="pytorch", **options).eval()
    path = tmp_path / f"{name}.pt"
    save_checkpoint(path, {"model": name, "net_specs": {"G": spec_of(net)}, "nets": {"G": net.state_dict()},
                           "generators": {"G": {**translates("AtoB", paired=True), **inpaints(fill),
                                                "weights": "raw"}}, "test_mode": "eval"})
    h, w = 27, 35
    write_raw(tmp_path / "in" / "a.png", samples(h, w, 16, seed=5))
    write_raw(tmp_path / "masks" / "a.png", hole(h, w, 18, 0, 9))
    assert main(["translate", str(path), str(tmp_path / "in"), str(tmp_path / "out"), "--mask",
                 str(tmp_path / "masks"), "--bit-depth", "16", "--no-progress"]) == 0
    out, source = read_samples(tmp_path / "out" / "a.png", 16), samples(h, w, 16, seed=5)
    known = hole(h, w, 18, 0, 9) == 0
    assert np.array_equal(out[known], source[known]) and not np.array_equal(out[~known], source[~known])
