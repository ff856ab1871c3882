"""pix2pixHD checkpoints at inference (translation/inference/label_inputs.py): `translate --instance` finds each
input's instance map by name, boundaries come from the whole instance map (tiles as one pass), and ONNX files
of label-map models take class ids and boundaries, computing what the checkpoint computes.

One tiny run (label maps, --instance, one step) and one ONNX export are shared by the tests of this module."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from translation.cli import main
from translation.data.arrays import resize_nearest, to_image
from translation.data.io import read_image
from translation.data.label_maps import boundaries, one_hot, read_id_map
from translation.inference.folders import TranslateError, translate_folder
from translation.inference.label_inputs import InputEncoder, prepared_input
from translation.inference.onnx_translator import load_onnx_translator, open_session
from translation.inference.translator import Translator, load_translator
from translation.models import model_class
from translation.training.trainer import Trainer

from test_label_maps import official_set, save_ids
from tiny_configs import tiny_config

N_LABELS = 5
SIZES = {"a": (37, 23), "sub/b": (20, 45), "c": (9, 17)}  # odd sizes; b's instance map is a TIFF


def regions(rng, h, w, n):
    """Blocks of 5 px with random ids: label maps (and instance maps) with boundaries inside."""
    return np.kron(rng.integers(0, n, (h // 5 + 1, w // 5 + 1)), np.ones((5, 5), np.int64))[:h, :w]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hd")
    data = official_set(root / "data", n=2, n_labels=N_LABELS, instance=True)
    config = tiny_config("pix2pixhd", data, root / "runs", label_nc=N_LABELS, instance=True, steps=1,
                         log_every=1000, image_every=1000, save_every=1000)
    Trainer(model_class("pix2pixhd"), config, progress=False).fit()
    return config.run_dir


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    """Label maps and their instance maps (one object per region, ids above 255) under the same names."""
    root, rng = tmp_path_factory.mktemp("maps"), np.random.default_rng(3)
    for name, (h, w) in SIZES.items():
        labels = regions(rng, h, w, N_LABELS)
        save_ids(root / "labels" / f"{name}.png", labels)
        objects = labels * 1000 + regions(rng, h, w, 2)  # neighbouring objects of one class too
        save_ids(root / "inst" / f"{name}.{'tif' if name == 'sub/b' else 'png'}", objects, mode="I;16")
    return root


@pytest.fixture(scope="module")
def onnx_file(run, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "hd.onnx"
    assert main(["export", str(run), "-o", str(path)]) == 0
    return path


def reference(translator, ids: np.ndarray, instance_ids: np.ndarray) -> np.ndarray:
    """The official input built with the training helpers (one_hot, boundaries of the instance map), each
    padded to the size multiple by reflection, then the generator."""
    h, w = ids.shape[:2]
    ph, pw = translator.padded_size(h, w)

    def padded(x):
        return F.pad(torch.from_numpy(x[..., 0]).float()[None, None], (0, pw - w, 0, ph - h), mode="reflect")[0]

    x = torch.cat([one_hot(padded(ids).long(), N_LABELS), boundaries(padded(instance_ids))])
    with torch.no_grad():
        return to_image(translator.net(x[None])[0, :, :h, :w])


def test_translate_finds_each_instance_map_by_name_and_computes_the_official_input(run, maps, tmp_path, capsys):
    """Same relative path and name, any extension (b's is a TIFF); Cityscapes' names pair too."""
    cityscapes = {"c": ("c_gtFine_labelIds", "c_gtFine_instanceIds")}
    labels, inst = tmp_path / "labels", tmp_path / "inst"
    for name in SIZES:
        label_name, inst_name = cityscapes.get(name, (name, name))
        source = next((maps / "inst").glob(f"{name}.*"))
        for src, dst in ((maps / "labels" / f"{name}.png", labels / f"{label_name}.png"),
                         (source, inst / f"{inst_name}{source.suffix}")):
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(src.read_bytes())
    save_ids(labels / "lonely.png", np.zeros((8, 8)))  # no instance map
    save_ids(labels / "bad.png", np.full((8, 8), N_LABELS))  # a label value out of range
    save_ids(inst / "bad.png", np.zeros((8, 8)))
    out = tmp_path / "out"
    assert main(["translate", str(run), str(labels), str(out), "--instance", str(inst), "--no-progress",
                 "--num-workers", "0"]) == 1
    err = capsys.readouterr().err
    assert f"{labels / 'lonely.png'}: no instance map (looked for {inst / 'lonely'}.*" in err
    assert "bad.png: label value 5 is outside 0..4" in err
    assert "translated 3, failed 2" in err
    translator = load_translator(run)
    for name, (h, w) in SIZES.items():
        label_name = cityscapes.get(name, (name,))[0]
        ids = read_id_map(labels / f"{label_name}.png")
        instance_ids = read_id_map(next((maps / "inst").glob(f"{name}.*")))
        result = read_image(out / f"{label_name}.png")
        assert result.shape == (h, w, 3)
        assert np.abs(result - reference(translator, ids, instance_ids)).max() <= 1 / 255 + 1e-6, name


def test_instance_maps_are_asked_for_refused_where_not_read_and_checked(run, maps, tmp_path, capsys):
    labels = maps / "labels"
    assert main(["translate", str(run), str(labels), str(tmp_path / "o"), "--no-progress"]) == 1
    assert "this model was trained with --instance: it reads an instance map with each input; give them with " \
           "--instance FOLDER" in capsys.readouterr().err
    assert main(["translate", str(run), str(labels), str(tmp_path / "o"), "--no-progress",
                 "--instance", str(maps / "inst" / "a.png")]) == 1
    assert "is one file, but" in capsys.readouterr().err
    plain = Translator(nn.Conv2d(N_LABELS, 3, 1), {"kwargs": {"in_channels": N_LABELS, "out_channels": 3}}, "AtoB",
                       "eval", torch.device("cpu"), label_nc=N_LABELS)
    with pytest.raises(TranslateError, match="trained without instance maps .no --instance.; translate without it"):
        translate_folder(plain, labels, tmp_path / "p", instance=maps / "inst", progress=False)

    # one input, its map given as a file: of another size, then not an image
    one = tmp_path / "one" / "x.png"
    save_ids(one, np.zeros((12, 10)))
    save_ids(tmp_path / "wrong.png", np.zeros((10, 12)), mode="I;16")
    (tmp_path / "broken.png").write_text("not an image")
    for given, expected in ((tmp_path / "wrong.png", f"{one}: its instance map is 12x10 but the label map is 10x12"),
                            (tmp_path / "broken.png", f"{one}: its instance map {tmp_path / 'broken.png'}: not a")):
        assert main(["translate", str(run), str(one), str(tmp_path / "q"), "--no-progress",
                     "--instance", str(given)]) == 1
        assert expected in capsys.readouterr().err


def test_boundaries_come_from_the_whole_instance_map_so_tiles_equal_one_pass():
    """A pointwise net sees nothing beyond its pixel: tiled with no overlap it must give the whole image's
    output exactly, which boundaries taken from each tile's own instance ids would not (an object meeting
    another across a tile border)."""
    torch.manual_seed(0)
    translator = Translator(nn.Conv2d(N_LABELS + 1, 3, 1), {"kwargs": {"in_channels": N_LABELS + 1,
                                                                     "out_channels": 3}},
                            "AtoB", "eval", torch.device("cpu"), label_nc=N_LABELS, instance=True)
    rng = np.random.default_rng(1)
    ids = regions(rng, 50, 70, N_LABELS)[..., None]
    objects = np.zeros((50, 70, 1), np.int64)
    objects[:, 32:] = 1  # objects meet exactly on the border of the first tile column (32 px tiles)
    objects[32:] += 2
    prepared = translator.prepare(ids, objects)
    assert prepared.shape == (50, 70, 2)
    assert prepared[:, 31:33, 1].all() and prepared[31:33, :, 1].all()
    whole = translator.translate_batch([prepared], [0])[0]
    tiled = translator.translate_tiled(prepared, translator.tiling(32, 0))
    assert np.abs(tiled - whole).max() < 1e-6
    with pytest.raises(ValueError, match="trained with --instance and reads an instance map with each input"):
        translator.prepare(ids)


def test_resizing_takes_the_nearest_ids_and_boundaries_after_it(maps):
    ids, instance_ids = read_id_map(maps / "labels" / "a.png"), read_id_map(maps / "inst" / "a.png")
    prepared = prepared_input(ids, instance_ids, N_LABELS, size=24)
    assert np.array_equal(prepared[..., 0], resize_nearest(ids, 24, 24)[..., 0])
    edges = boundaries(torch.from_numpy(resize_nearest(instance_ids, 24, 24)[..., 0]))
    assert np.array_equal(prepared[..., 1], edges.numpy())
    # the encoder's one-hot is label_maps.one_hot's, batched
    x = torch.from_numpy(prepared.transpose(2, 0, 1)).float()[None]
    encoded = InputEncoder(N_LABELS, True)(x[:, :1], x[:, 1:])
    assert torch.equal(encoded[0], torch.cat([one_hot(x[0, :1].long(), N_LABELS), x[0, 1:]]))


def test_onnx_takes_ids_and_boundaries_and_computes_what_the_checkpoint_does(run, maps, onnx_file, tmp_path):
    session, meta = open_session(onnx_file, "cpu")
    assert (meta["label_nc"], meta["instance"], meta["inputs"]) == (str(N_LABELS), "true", "label edges")
    assert [(i.name, i.shape[1]) for i in session.get_inputs()] == [("label", 1), ("edges", 1)]
    torch_translator, onnx_translator = load_translator(run), load_onnx_translator(onnx_file, device="cpu")
    # the graph as a user feeds it: ids and boundaries, a batch of two, an odd multiple of the size multiple
    rng = np.random.default_rng(2)
    label = torch.from_numpy(regions(rng, 36, 20, N_LABELS)).float()[None, None].repeat(2, 1, 1, 1)
    edges = boundaries(torch.from_numpy(regions(rng, 36, 20, 9))).float()[None, None].repeat(2, 1, 1, 1)
    out = session.run(None, {"label": label.numpy(), "edges": edges.numpy()})[0]
    with torch.no_grad():
        expected = torch_translator.net(torch.cat([one_hot(label[0].long(), N_LABELS), edges[0]])[None])
    assert np.abs(out - expected.numpy()).max() < 1e-4

    for name in SIZES:  # odd sizes, whole and in tiles
        ids = read_id_map(maps / "labels" / f"{name}.png")
        instance_ids = read_id_map(next((maps / "inst").glob(f"{name}.*")))
        prepared = torch_translator.prepare(ids, instance_ids)
        for translate in (lambda t, x=prepared: t.translate_batch([x], [0])[0],
                          lambda t, x=prepared: t.translate_tiled(x, t.tiling(16, 8))):
            assert np.abs(translate(onnx_translator) - translate(torch_translator)).max() < 1e-4, name

    # and through the command line: the same files as with the checkpoint
    for source, out_dir in ((run, tmp_path / "torch"), (onnx_file, tmp_path / "onnx")):
        assert main(["translate", str(source), str(maps / "labels"), str(out_dir), "--instance", str(maps / "inst"),
                     "--tile", "32", "--tile-overlap", "8", "--no-progress", "--num-workers", "0"]) == 0
    for name in SIZES:
        a, b = read_image(tmp_path / "torch" / f"{name}.png"), read_image(tmp_path / "onnx" / f"{name}.png")
        assert np.abs(a - b).max() <= 1 / 255 + 1e-6


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_label_maps_without_instances_export_ids_in(tmp_path):
    """A label-map model without --instance: the file takes the ids alone, one-hot inside (TorchScript here:
    the same wrapped net as ONNX's, a second ONNX export would cost seconds)."""
    from translation.checkpoint import save_checkpoint, translates
    from translation.nets import create_generator, spec_of

    torch.manual_seed(0)
    net = create_generator("global", in_channels=N_LABELS, ngf=4, n_downsample_global=2, n_blocks_global=1)
    save_checkpoint(tmp_path / "g.pt", {"model": "pix2pixhd", "net_specs": {"G": spec_of(net)},
                                        "nets": {"G": net.state_dict()}, "test_mode": "eval",
                                        "generators": {"G": {**translates("AtoB", True), "label_nc": N_LABELS}}})
    assert main(["export", str(tmp_path / "g.pt"), "--format", "torchscript", "-o", str(tmp_path / "g.ts")]) == 0
    scripted = torch.jit.load(str(tmp_path / "g.ts"))
    assert (scripted.metadata["inputs"], scripted.metadata["instance"]) == ("label", "false")
    ids = torch.from_numpy(regions(np.random.default_rng(4), 24, 12, N_LABELS)).float()[None, None]
    with torch.no_grad():
        expected = net.eval()(one_hot(ids[0].long(), N_LABELS)[None])
        assert torch.allclose(scripted(ids), expected, atol=1e-5)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_images_with_instance_maps_read_the_image_and_its_boundaries(tmp_path):
    """--instance with --label-nc 0: the image in [-1, 1], then the boundaries; exported as image + edges."""
    from translation.checkpoint import save_checkpoint, translates
    from translation.data.arrays import to_tensor
    from translation.nets import create_generator, spec_of

    torch.manual_seed(0)
    net = create_generator("global", in_channels=4, ngf=4, n_downsample_global=2, n_blocks_global=1).eval()
    save_checkpoint(tmp_path / "g.pt", {"model": "pix2pixhd", "net_specs": {"G": spec_of(net)},
                                        "nets": {"G": net.state_dict()}, "test_mode": "eval",
                                        "generators": {"G": {**translates("AtoB", True), "instance": True}}})
    translator = load_translator(tmp_path / "g.pt")
    assert translator.read_channels == 3
    rng = np.random.default_rng(5)
    image = rng.random((20, 24, 3)).astype(np.float32)
    objects = regions(rng, 20, 24, 3)[..., None]
    edges = boundaries(torch.from_numpy(objects[..., 0]))
    with torch.no_grad():
        expected = net(torch.cat([to_tensor(image), edges[None]])[None])
    assert np.abs(translator.translate(image, instance_ids=objects) - to_image(expected[0])).max() < 1e-5

    assert main(["export", str(tmp_path / "g.pt"), "--format", "torchscript", "-o", str(tmp_path / "g.ts")]) == 0
    scripted = torch.jit.load(str(tmp_path / "g.ts"))
    assert scripted.metadata["inputs"] == "image edges"
    with torch.no_grad():
        assert torch.allclose(scripted(to_tensor(image)[None], edges[None, None]), expected, atol=1e-5)
