"""Super-resolution inference (issue 22, point 4): translate gives scale x the input's size at any size, in [0, 1]
as BasicSR's nets take, in tiles without seams, alpha and 16-bit as for other models; released BasicSR/ESRGAN
weights import into a checkpoint; export (ONNX/TorchScript) and serve give the checkpoint's outputs."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from translation.checkpoint import read_checkpoint, save_checkpoint, translates
from translation.cli import main
from translation.data.io import read_image, write_image
from translation.inference.tiles import Tiling
from translation.inference.translator import load_translator
from translation.nets import create_generator, spec_of

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")


def sr_net(name: str, scale: int, seed: int = 0, channels: int = 3, **kwargs):
    """A tiny SR generator with BasicSR's init, its residual branches made large enough to matter (BasicSR's
    x0.1 init leaves nets close to their linear parts, which would hide a wrong value range)."""
    torch.manual_seed(seed)
    sizes = {"ngf": 6, "n_blocks": 1, **({"growth": 4} if name == "rrdbnet" else {}), **kwargs}
    net = create_generator(name, in_channels=channels, out_channels=channels, scale=scale, init="pytorch", **sizes)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3.0)
    return net.eval()


def write_checkpoint(path, net, scale: int, ema_net=None):
    ema = {"ema": {"decay": 0.999, "updates": 1, "nets": {"G": ema_net.state_dict()}}} if ema_net else {}
    record = {**translates("AtoB", paired=True), "scale": scale, "weights": "ema" if ema_net else "raw"}
    save_checkpoint(path, {"model": "srresnet", "net_specs": {"G": spec_of(net)}, "nets": {"G": net.state_dict()},
                           "generators": {"G": record}, "test_mode": "eval", **ema})
    return path


def direct(net, image: np.ndarray) -> np.ndarray:
    """What BasicSR computes: the [0, 1] image in, the output clamped to [0, 1]."""
    with torch.no_grad():
        out = net(torch.from_numpy(image.transpose(2, 0, 1).copy())[None]).clamp(0, 1)
    return out[0].permute(1, 2, 0).numpy()


def rand_image(h: int, w: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, channels)).astype(np.float32)


@pytest.mark.parametrize("name,scale", [("msrresnet", 2), ("msrresnet", 3), ("msrresnet", 4), ("rrdbnet", 4),
                                        ("rrdbnet", 2), ("rrdbnet", 1)])
def test_translator_gives_scale_times_any_size_as_the_net_computes_in_0_1(name, scale, tmp_path):
    net = sr_net(name, scale)
    translator = load_translator(write_checkpoint(tmp_path / "sr.pt", net, scale))
    assert (translator.scale, translator.value_range) == (scale, (0.0, 1.0))
    for h, w in ((9, 13), (17, 8), (1, 3)):
        out = translator.translate(rand_image(h, w))
        assert out.shape == (scale * h, scale * w, 3)
        if h % net.size_multiple == 0 and w % net.size_multiple == 0:  # no padding: BasicSR's exact output
            np.testing.assert_allclose(out, direct(net, rand_image(h, w)), atol=1e-5)
        else:  # padded to the multiple and cropped back, as BasicSR's tile/Real-ESRGAN pad
            padded = np.pad(rand_image(h, w), ((0, -h % net.size_multiple), (0, -w % net.size_multiple), (0, 0)),
                            mode="reflect" if min(h, w) > 1 else "edge")
            np.testing.assert_allclose(out, direct(net, padded)[:scale * h, :scale * w], atol=1e-5)


def test_a_zeroed_residual_gives_the_bilinear_upsampling_clamped(tmp_path):
    net = sr_net("msrresnet", 4)
    with torch.no_grad():
        net.conv_last.weight.zero_()
        net.conv_last.bias.fill_(0.3)  # pushes part of the image past 1: clamped, not wrapped or rescaled
    image = rand_image(7, 10)
    out = load_translator(write_checkpoint(tmp_path / "sr.pt", net, 4)).translate(image)
    base = F.interpolate(torch.from_numpy(image.transpose(2, 0, 1).copy())[None], scale_factor=4.0,
                         mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, np.clip(base + 0.3, 0, 1), atol=1e-6)
    assert out.max() == 1.0


@pytest.mark.parametrize("name,scale,size", [("msrresnet", 4, (70, 93)), ("rrdbnet", 2, (81, 99))])
def test_tiles_give_the_whole_images_output_when_the_net_fits_the_overlap(name, scale, size, tmp_path):
    # receptive field radii of these nets (1 block / 0 blocks): under overlap/4 = 8 input px
    net = sr_net(name, scale, **({"n_blocks": 0} if name == "rrdbnet" else {}))
    translator = load_translator(write_checkpoint(tmp_path / "sr.pt", net, scale))
    image = rand_image(*size)
    tiling = translator.tiling(64, 32)
    assert len(tiling.starts(size[0])) > 1 and len(tiling.starts(size[1])) > 1
    whole = translator.translate(image)
    tiled = translator.translate_tiled(image, tiling)
    assert tiled.shape == whole.shape == (scale * size[0], scale * size[1], 3)
    np.testing.assert_allclose(tiled, whole, atol=2e-5)
    # 8-bit tiles quantise the same blend: at most one step from the whole image's
    eight = translator.translate_tiled(image, tiling, dtype=np.uint8)
    assert np.abs(eight.astype(int) - np.round(whole * 255).astype(int)).max() <= 1


def test_tile_windows_span_scale_times_each_tile_and_cover_every_output_pixel():
    tiling = Tiling.plan(64, 32, 2)
    for scale in (1, 2, 4):
        total = np.zeros(scale * 131)
        for start in tiling.starts(131):
            window = tiling.weights(start, 131, scale)
            assert len(window) == scale * min(64, 131 - start)
            total[scale * start:scale * start + len(window)] += window
        assert total.min() > 0
    # the first 8 input px (overlap/4) of a tile's shared edge carry no weight, scaled to the output
    window = tiling.weights(tiling.starts(131)[1], 131, 4)
    assert (window[:32] == 0).all() and window[32] > 0


@pytest.fixture
def esrgan_files(tmp_path):
    """Random weights in the released layouts: BasicSR's {'params_ema', 'params'} (the EMA differs, so taking it
    shows), ESRGAN's own repository's names, and an MSRResNet {'params'} file."""
    ema, raw = sr_net("rrdbnet", 4, seed=1, ngf=8, n_blocks=2), sr_net("rrdbnet", 4, seed=2, ngf=8, n_blocks=2)
    basicsr = tmp_path / "ESRGAN_SRx4_tiny.pth"
    torch.save({"params_ema": ema.state_dict(), "params": raw.state_dict()}, basicsr)
    renames = {"body.": "RRDB_trunk.", ".rdb1.": ".RDB1.", ".rdb2.": ".RDB2.", ".rdb3.": ".RDB3.",
               "conv_body.": "trunk_conv.", "conv_up1.": "upconv1.", "conv_up2.": "upconv2.", "conv_hr.": "HRconv."}

    def esrgan_name(key):
        for new, old in renames.items():
            key = key.replace(new, old) if new.startswith(".") else (old + key[len(new):] if key.startswith(new)
                                                                      else key)
        return key

    original = tmp_path / "RRDB_ESRGAN_x4_tiny.pth"
    torch.save({esrgan_name(k): v for k, v in ema.state_dict().items()}, original)
    msr = sr_net("msrresnet", 2, seed=3, ngf=8, n_blocks=2)
    msr_file = tmp_path / "MSRResNet_x2_tiny.pth"
    torch.save({"params": msr.state_dict()}, msr_file)
    return {"basicsr": basicsr, "original": original, "msrresnet": msr_file, "ema": ema, "msr": msr}


def test_import_esrgan_weights_then_translate_a_folder_x4(esrgan_files, tmp_path, capsys):
    out = tmp_path / "runs" / "esrgan"
    assert main(["import", str(esrgan_files["basicsr"]), "--netG", "rrdbnet", "--scale", "4", "--ngf", "8",
                 "-o", str(out)]) == 0
    assert "rrdbnet x4 ngf 8 blocks 2 growth 4" in capsys.readouterr().err  # blocks and growth read from the file
    state = read_checkpoint(out)
    assert state["generators"]["G_A"] == {"task": "translate", "direction": "AtoB", "paired": False, "scale": 4,
                                          "weights": "raw"}
    photos = tmp_path / "photos"
    images = {"a.png": rand_image(11, 14, seed=1), "sub/b.png": rand_image(8, 21, seed=2)}
    for name, image in images.items():
        write_image(photos / name, image, bit_depth=16)
    assert main(["translate", str(out), str(photos), str(tmp_path / "up"), "--no-progress", "--bit-depth", "16"]) == 0
    assert "upscaled x4" in capsys.readouterr().err
    for name, image in images.items():
        got = read_image(tmp_path / "up" / name)
        assert got.shape == (44, 56, 3) if name == "a.png" else got.shape == (32, 84, 3)
        np.testing.assert_allclose(got, direct(esrgan_files["ema"], read_image(photos / name)), atol=2 / 65535)
    # the ESRGAN repository's names give the same checkpoint weights
    assert main(["import", str(esrgan_files["original"]), "--netG", "rrdbnet", "--scale", "4", "--ngf", "8",
                 "-o", str(tmp_path / "orig.pt")]) == 0
    for key, value in read_checkpoint(tmp_path / "orig.pt")["nets"]["G_A"].items():
        assert torch.equal(value, state["nets"]["G_A"][key])


def test_import_says_what_the_file_looks_like_when_the_flags_do_not_fit(esrgan_files, tmp_path, capsys):
    args = ["import", str(esrgan_files["msrresnet"]), "--netG", "msrresnet", "-o", str(tmp_path / "m.pt")]
    assert main(args) == 1
    assert "--scale: say how many times larger" in capsys.readouterr().err
    assert main(args + ["--scale", "4", "--ngf", "8"]) == 1
    assert "this file looks like: --netG msrresnet --scale 2 --ngf 8 --n-blocks 2" in capsys.readouterr().err
    assert main(args + ["--scale", "2", "--ngf", "8"]) == 0
    translator = load_translator(tmp_path / "m.pt")
    image = rand_image(5, 6)
    np.testing.assert_allclose(translator.translate(image), direct(esrgan_files["msr"], image), atol=1e-5)
    # translate itself points at import for such a file
    assert main(["translate", str(esrgan_files["basicsr"]), str(tmp_path), str(tmp_path / "o")]) == 1
    assert "translation import" in capsys.readouterr().err


def test_alpha_and_16_bit_as_for_other_models(tmp_path):
    """A 4-channel model takes the alpha channel as an input and upscales it with the rest (a zeroed residual:
    bilinearly); an RGB model composites alpha on white, as every RGB model does; 16-bit output keeps 16 bits."""
    rgba_net = sr_net("msrresnet", 2, channels=4)
    with torch.no_grad():
        rgba_net.conv_last.weight.zero_()
        rgba_net.conv_last.bias.zero_()
    rgba = rand_image(6, 9, channels=4)
    rgba[..., 3] = np.linspace(0, 1, 9)[None, :]
    photos = tmp_path / "in"
    write_image(photos / "x.png", rgba, bit_depth=16)
    run = write_checkpoint(tmp_path / "rgba.pt", rgba_net, 2)
    assert main(["translate", str(run), str(photos), str(tmp_path / "out4"), "--no-progress", "--bit-depth", "16"]) == 0
    got = read_image(tmp_path / "out4" / "x.png", channels=4, alpha="keep")
    source = read_image(photos / "x.png", channels=4, alpha="keep")
    bilinear = F.interpolate(torch.from_numpy(source.transpose(2, 0, 1).copy())[None], scale_factor=2.0,
                             mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()
    assert got.shape == (12, 18, 4)
    np.testing.assert_allclose(got, bilinear, atol=1 / 65535)
    rgb_net = sr_net("msrresnet", 2)
    run = write_checkpoint(tmp_path / "rgb.pt", rgb_net, 2)
    assert main(["translate", str(run), str(photos), str(tmp_path / "out3"), "--no-progress", "--bit-depth", "16"]) == 0
    on_white = source[..., :3] * source[..., 3:] + (1 - source[..., 3:])
    np.testing.assert_allclose(read_image(tmp_path / "out3" / "x.png"), direct(rgb_net, on_white), atol=2 / 65535)


def test_a_record_that_disagrees_with_its_net_is_refused(tmp_path):
    net = sr_net("msrresnet", 2)
    path = write_checkpoint(tmp_path / "bad.pt", net, 4)
    with pytest.raises(ValueError, match="recorded to upscale x4, but its net msrresnet upscales x2"):
        load_translator(path)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("sr_export")
    rrdb = write_checkpoint(root / "rrdb.pt", sr_net("rrdbnet", 2, seed=4, n_blocks=0), 2)  # quicker to export
    msr = write_checkpoint(root / "msr.pt", sr_net("msrresnet", 3, seed=5), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["export", str(rrdb), "-o", str(root / "rrdb.onnx")]) == 0
        assert main(["export", str(msr), "--format", "torchscript", "-o", str(root / "msr.ts")]) == 0
    return {"rrdb": rrdb, "msr": msr, "onnx": root / "rrdb.onnx", "ts": root / "msr.ts"}


def test_onnx_file_records_scale_and_range_and_translates_as_the_checkpoint(exported, tmp_path, capsys):
    from translation.inference.onnx_translator import open_session

    _, meta = open_session(exported["onnx"], "cpu")
    assert (meta["scale"], meta["value_range"], meta["size_multiple"], meta["min_side"]) == ("2", "0 1", "2", "1")
    photos = tmp_path / "photos"
    for i, (h, w) in enumerate(((9, 13), (16, 7), (3, 5))):  # odd sizes: padded to even, cropped to 2x
        write_image(photos / f"{i}.png", rand_image(h, w, seed=i), bit_depth=16)
    for source, out in ((exported["onnx"], "onnx"), (exported["rrdb"], "pt")):
        assert main(["translate", str(source), str(photos), str(tmp_path / out), "--no-progress",
                     "--bit-depth", "16"]) == 0
    for i, (h, w) in enumerate(((9, 13), (16, 7), (3, 5))):
        a, b = read_image(tmp_path / "onnx" / f"{i}.png"), read_image(tmp_path / "pt" / f"{i}.png")
        assert a.shape == b.shape == (2 * h, 2 * w, 3)
        assert np.abs(a - b).max() <= 2 / 65535


def test_torchscript_file_upscales_in_0_1_at_another_size(exported):
    module = torch.jit.load(str(exported["ts"]))
    assert (module.metadata["scale"], module.metadata["value_range"]) == ("3", "0 1")
    net = load_translator(exported["msr"]).net
    x = torch.rand(1, 3, 11, 7)
    with torch.no_grad():
        assert torch.allclose(module(x), net(x), atol=1e-5) and module(x).shape == (1, 3, 33, 21)


def test_serve_lists_the_scale_and_returns_scale_times_the_upload(exported, tmp_path):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
        from starlette.testclient import TestClient

    from translation.data.io import decode_image, encode_image
    from translation.serve import jobs
    from translation.serve.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app([str(exported["rrdb"]), str(exported["onnx"])], device="cpu")
    with TestClient(app) as client:
        models = {m["file"]: m for m in client.get("/api/models").json()["models"]}
        for name in ("rrdb.pt", "rrdb.onnx"):
            # never "live drawing": the cost grows with scale^2 x the pixels
            assert (models[name]["scale"], models[name]["size_multiple"], models[name]["small"]) == (2, 2, False)
        upload = encode_image(".png", rand_image(9, 13))
        outputs = []
        for name in ("rrdb.pt", "rrdb.onnx"):
            response = client.post(f"/api/translate?model={models[name]['id']}", content=upload)
            assert response.status_code == 200, response.text
            outputs.append(decode_image(response.content, "out"))
            assert outputs[-1].shape == (18, 26, 3)
        assert np.abs(outputs[0] - outputs[1]).max() <= 1 / 255
        # automatic tiles for outputs over AUTO_TILE_ABOVE px a side, of AUTO_TILE px of output: 32 px of input
        saved = jobs.AUTO_TILE_ABOVE, jobs.AUTO_TILE, jobs.MAX_OUTPUT_PIXELS
        try:
            jobs.AUTO_TILE_ABOVE, jobs.AUTO_TILE = 60, 64
            response = client.post(f"/api/translate?model={models['rrdb.pt']['id']}",
                                   content=encode_image(".png", rand_image(40, 29)))
            assert response.headers["X-Tiles"] == "32"
            assert decode_image(response.content, "out").shape == (80, 58, 3)
            jobs.MAX_OUTPUT_PIXELS = 17 * 25
            response = client.post(f"/api/translate?model={models['rrdb.pt']['id']}", content=upload)
            assert response.status_code == 400
            message = response.json()["error"]
            assert "13 x 9 image would give a 26 x 18 output" in message and "--tile" in message
        finally:
            jobs.AUTO_TILE_ABOVE, jobs.AUTO_TILE, jobs.MAX_OUTPUT_PIXELS = saved
