"""Export of inpainting generators (issue 22, point 9): the file takes the image and the mask, fills and composites
inside the graph (so its own output is the input outside the mask), records that it inpaints, and `translate
FILE.onnx INPUT OUT --mask M` writes what the checkpoint writes, known samples bit for bit.

The tiny glcic (one input: cat(filled image, mask), images in [0, 1], a fill per channel) is exported once per
format; deepfill (two inputs, two stages) takes 20-30 s to export to ONNX on a 2-core CPU, too long for this suite,
and was checked by hand the same way (its file and its checkpoint write the same 8-bit files)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_inpaint_inference import hole, read_samples, samples, write_raw

from translation.checkpoint import save_checkpoint, translates
from translation.cli import main
from translation.export.writers import export_checkpoint
from translation.inference.mask_inputs import inpaints
from translation.inference.onnx_translator import open_session
from translation.inference.translator import load_translator
from translation.nets import create_generator, spec_of

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")

FILL = [0.2, -0.1, 0.4]  # in [-1, 1] as recorded; the graph fills glcic's holes with them in [0, 1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("inpaint_export")
    torch.manual_seed(0)
    net = create_generator("glcic", in_channels=4, out_channels=3, ngf=4, init="pytorch").eval()
    with torch.no_grad():  # batch norm statistics off their defaults: the file must use the stored ones
        for module in net.modules():
            if getattr(module, "running_mean", None) is not None:
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    checkpoint = root / "glcic.pt"
    save_checkpoint(checkpoint, {"model": "glcic", "net_specs": {"G": spec_of(net)}, "nets": {"G": net.state_dict()},
                                 "generators": {"G": {**translates("AtoB", paired=True), **inpaints(FILL),
                                                      "weights": "raw"}}, "test_mode": "eval"})
    exported = {fmt: export_checkpoint(checkpoint, root / f"glcic.{suffix}", fmt)
                for fmt, suffix in (("onnx", "onnx"), ("torchscript", "ts"))}
    return {"checkpoint": checkpoint, "onnx": root / "glcic.onnx", "torchscript": root / "glcic.ts",
            "exported": exported}


def inputs(h: int, w: int, seed: int = 3):
    image = torch.from_numpy(np.random.default_rng(seed).random((1, 3, h, w), np.float32))
    mask = torch.zeros(1, 1, h, w)
    mask[..., 4:13, 10:23] = 1.0
    return image, mask


def test_the_file_records_that_it_inpaints_and_takes_image_and_mask(files):
    session, meta = open_session(files["onnx"], "cpu")
    assert [node.name for node in session.get_inputs()] == ["image", "mask"]
    assert meta["inpaint"] == "true" and meta["inputs"] == "image mask" and meta["value_range"] == "0 1"
    assert json.loads(meta["hole_fill"]) == pytest.approx(FILL) and meta["in_channels"] == meta["out_channels"] == "3"
    assert "fills the holes of a mask" in files["exported"]["onnx"].describe()


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_the_graph_composites_and_never_sees_the_pixels_under_the_hole(files, fmt):
    image, mask = inputs(20, 36)  # not the export's example size
    if fmt == "onnx":
        session, _ = open_session(files["onnx"], "cpu")

        def run(x, m):
            return torch.from_numpy(session.run(["output"], {"image": x.numpy(), "mask": m.numpy()})[0])
    else:
        run = torch.jit.load(str(files["torchscript"]))
    out = run(image, mask)
    known = (mask < 0.5).expand_as(image)
    assert torch.equal(out[known], image[known])  # exactly the input's values, inside the graph
    assert not torch.equal(out[~known], image[~known])
    changed = image.clone()
    changed[~known] = 1.0 - changed[~known]  # other pixels under the hole: the same fill
    assert torch.equal(run(changed, mask), out)
    # as the checkpoint computes it (the net in eval mode, the model's fill)
    translator = load_translator(files["checkpoint"])
    expected = translator.translate(image[0].permute(1, 2, 0).numpy(), mask=mask[0].permute(1, 2, 0).numpy())
    assert np.abs(out[0].permute(1, 2, 0).numpy() - expected).max() < 1e-5


def test_translate_onnx_with_masks_writes_the_checkpoints_output_known_samples_exact(files, tmp_path):
    h, w = 27, 35  # odd: padded to glcic's multiple of 4 and cropped back
    source = samples(h, w, 16, seed=5)
    write_raw(tmp_path / "in" / "a.png", source)
    write_raw(tmp_path / "masks" / "a.png", hole(h, w, 18, 0, 9))  # a hole at the edge, into the padding
    for name, model in (("onnx", files["onnx"]), ("checkpoint", files["checkpoint"])):
        assert main(["translate", str(model), str(tmp_path / "in"), str(tmp_path / name), "--mask",
                     str(tmp_path / "masks"), "--bit-depth", "16", "--no-progress"]) == 0
    from_file, from_checkpoint = read_samples(tmp_path / "onnx" / "a.png", 16), read_samples(
        tmp_path / "checkpoint" / "a.png", 16)
    known = hole(h, w, 18, 0, 9) == 0
    assert np.array_equal(from_file[known], source[known])
    assert np.abs(from_file.astype(int) - from_checkpoint.astype(int)).max() <= 1  # float rounding at 16 bit
    assert not np.array_equal(from_file[~known], source[~known])


def test_an_inpainting_file_without_masks_is_refused(files, tmp_path, capsys):
    write_raw(tmp_path / "in" / "a.png", samples(9, 11, 8))
    assert main(["translate", str(files["onnx"]), str(tmp_path / "in"), str(tmp_path / "out"), "--no-progress"]) != 0
    assert "this model fills holes" in capsys.readouterr().err


def test_serve_lists_the_file_as_inpainting_and_fills_through_it(files):
    import warnings

    from translation.data.io import decode_image, encode_image
    from translation.serve.app import create_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
        from starlette.testclient import TestClient

    image, mask = inputs(21, 30)
    image_file = encode_image(".png", image[0].permute(1, 2, 0).numpy())
    mask_file = encode_image(".png", mask[0].permute(1, 2, 0).numpy())
    with TestClient(create_app([files["onnx"]], device="cpu")) as client:
        entry = client.get("/api/models").json()["models"][0]
        assert entry["inpaints"] is True and entry["input_nc"] == 3
        response = client.post(f"/api/translate?model={entry['id']}",
                               files={"image": ("a.png", image_file), "mask": ("m.png", mask_file)})
    assert response.status_code == 200, response.text
    out, source = decode_image(response.content), decode_image(image_file)
    known = mask[0, 0].numpy() == 0
    assert np.array_equal(out[known], source[known]) and not np.array_equal(out[~known], source[~known])
