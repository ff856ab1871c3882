"""`translation export`: ONNX and TorchScript files compute what `translation translate` computes.

Checkpoints are written directly (tiny nets, ngf 4, norm statistics moved off their defaults so eval and
paper mode differ); each is exported once per format and the files are shared by the tests of this module.
"""
import json
import sys

import numpy as np
import pytest
import torch

from translation.checkpoint import samples, save_checkpoint, translates, translates_to_domains
from translation.cli import main
from translation.data.io import read_image, write_image
from translation.export.graph import ExportError
from translation.export.writers import export_checkpoint
from translation.inference.domain_translator import DomainRequest, load_domain_translator
from translation.inference.onnx_translator import load_onnx_sampler, load_onnx_translator, open_session
from translation.inference.sampling import load_sampler
from translation.inference.translator import load_translator
from translation.nets import create_generator, spec_of

from conftest import REPO

# the tests load TorchScript files on purpose; PyTorch's notice that TorchScript is deprecated is known
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")

DOMAINS = ["Black_Hair", "Blond_Hair", "Young"]
TOLERANCE = 1e-4


def tiny_net(name: str, **kwargs):
    torch.manual_seed(len(name))
    net = create_generator(name, **kwargs)
    with torch.no_grad():
        for module in net.modules():  # running statistics far from (0, 1): eval and paper mode must differ
            if getattr(module, "running_mean", None) is not None:
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
            if getattr(module, "weight", None) is not None and module.weight.dim() == 1:
                module.weight.uniform_(0.5, 1.5)
    return net


def write(path, nets: dict, generators: dict, test_mode: str, ema: dict | None = None):
    save_checkpoint(path, {"model": "test", "net_specs": {k: spec_of(n) for k, n in nets.items()},
                           "nets": {k: n.state_dict() for k, n in nets.items()}, "generators": generators,
                           "test_mode": test_mode, "step": 7,
                           **({"ema": {"decay": 0.999, "updates": 7, "nets": ema}} if ema else {})})
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    cyclegan = tiny_net("resnet_6blocks", ngf=4, norm="instance")
    average = tiny_net("resnet_6blocks", ngf=4, norm="instance")  # EMA weights: different, so their use shows
    noise_average = tiny_net("dcgan", z_dim=8, image_size=16, ngf=4)
    with torch.no_grad():  # EMA weights unlike the trained ones
        for parameter in noise_average.parameters():
            parameter.mul_(0.8)
    return {
        # unet_32 has no dropout: paper mode (each image's own batch-norm statistics) exports as it is
        "pix2pix": write(root / "pix2pix.pt", {"G": tiny_net("unet_32", ngf=4, norm="batch", dropout=True)},
                         {"G": translates("AtoB")}, "paper"),
        "cyclegan": write(root / "cyclegan.pt", {"G_B": cyclegan}, {"G_B": translates("BtoA")}, "eval",
                          ema={"G_B": average.state_dict()}),
        "stargan": write(root / "stargan.pt", {"G": tiny_net("stargan", ngf=4, n_labels=3, n_blocks=1)},
                         {"G": translates_to_domains(DOMAINS, "multi_label", [DOMAINS[:2]])}, "paper"),
        "dropout": write(root / "dropout.pt", {"G": tiny_net("unet_64", ngf=4, norm="batch", dropout=True)},
                         {"G": translates("AtoB")}, "paper"),
        "dcgan": write(root / "dcgan.pt", {"G": tiny_net("dcgan", z_dim=8, image_size=16, ngf=4, n_classes=3)},
                       {"G": samples(8, ["a", "b", "c"])}, "eval"),
        # unconditional, with an EMA: the graph takes z alone
        "noise": write(root / "noise.pt", {"G": tiny_net("dcgan", z_dim=8, image_size=16, ngf=4)},
                       {"G": samples(8)}, "eval", ema={"G": noise_average.state_dict()}),
    }


@pytest.fixture(scope="module")
def exported(checkpoints, tmp_path_factory):
    """name -> {format: path}, written through the command line."""
    root = tmp_path_factory.mktemp("files")
    files = {}
    for name, checkpoint in checkpoints.items():
        formats = {"dropout": ("torchscript",), "noise": ("onnx",)}.get(name, ("onnx", "torchscript"))
        for fmt in formats:
            path = root / f"{name}.{'onnx' if fmt == 'onnx' else 'ts'}"
            assert main(["export", str(checkpoint), "--format", fmt, "-o", str(path)]) == 0
            files.setdefault(name, {})[fmt] = path
    return files


def run_onnx(path, *inputs):
    session, _ = open_session(path, "cpu")
    names = [node.name for node in session.get_inputs()]
    return torch.from_numpy(session.run(None, {n: x.numpy() for n, x in zip(names, inputs)})[0])


def run_torchscript(path, *inputs):
    return torch.jit.load(str(path))(*inputs)


RUNNERS = {"onnx": run_onnx, "torchscript": run_torchscript}


def per_image(net, *inputs):
    """The PyTorch reference: each image alone, as paper mode translates (eval mode gives the same batched)."""
    with torch.no_grad():
        return torch.cat([net(*(x[i:i + 1] for x in inputs)) for i in range(len(inputs[0]))])


# two sizes and batch sizes per net: the files take any multiple of the size multiple, any batch
SHAPES = {"pix2pix": [(1, 32, 64), (3, 96, 32)], "cyclegan": [(1, 16, 20), (2, 44, 24)],
          "stargan": [(1, 16, 24), (3, 28, 20)]}


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_exported_translators_match_pytorch_at_any_size(name, fmt, checkpoints, exported):
    translator = load_translator(checkpoints[name])
    assert translator.weights == ("ema" if name == "cyclegan" else "raw")
    for batch, height, width in SHAPES[name]:
        x = torch.rand(batch, 3, height, width) * 2 - 1
        out = RUNNERS[fmt](exported[name][fmt], x)
        assert out.shape == (batch, 3, height, width)
        assert (out - per_image(translator.net, x)).abs().max() < TOLERANCE
    if name == "pix2pix":  # and paper mode was exported, not eval mode, which gives other images here
        eval_net = load_translator(checkpoints[name], test_mode="eval").net
        assert (out - per_image(eval_net, x)).abs().max() > 0.01


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_exported_stargan_takes_the_labels_as_second_input(fmt, checkpoints, exported):
    translator = load_domain_translator(checkpoints["stargan"], DomainRequest(["all"]))
    assert translator.test_mode == "paper"  # instance statistics of each image, exported as such
    for batch, height, width in SHAPES["stargan"]:
        x, labels = torch.rand(batch, 3, height, width) * 2 - 1, torch.rand(batch, 3).round()
        out = RUNNERS[fmt](exported["stargan"][fmt], x, labels)
        assert (out - per_image(translator.net, x, labels)).abs().max() < TOLERANCE


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_exported_noise_generator_takes_z_and_class(fmt, checkpoints, exported):
    net = load_sampler(checkpoints["dcgan"]).net
    for batch in (1, 5):
        z, labels = torch.randn(batch, 8), torch.arange(batch) % 3
        out = RUNNERS[fmt](exported["dcgan"][fmt], z, labels)
        assert out.shape == (batch, 3, 16, 16)
        assert (out - net(z, labels).detach()).abs().max() < TOLERANCE


def test_files_record_how_to_feed_them(exported):
    _, meta = open_session(exported["cyclegan"]["onnx"], "cpu")
    assert (meta["size_multiple"], meta["direction"], meta["test_mode"], meta["weights"]) == ("4", "BtoA", "eval",
                                                                                              "ema")
    assert json.loads(open_session(exported["stargan"]["onnx"], "cpu")[1]["domains"]) == DOMAINS
    scripted = torch.jit.load(str(exported["pix2pix"]["torchscript"]))
    assert scripted.size_multiple == 32 and scripted.metadata["test_mode"] == "paper"


def test_paper_mode_with_dropout_is_exported_as_eval_and_says_so(checkpoints, exported, tmp_path, capsys):
    scripted = torch.jit.load(str(exported["dropout"]["torchscript"]))
    assert scripted.metadata["test_mode"] == "eval"
    x = torch.rand(2, 3, 64, 128) * 2 - 1
    reference = load_translator(checkpoints["dropout"], test_mode="eval").net
    assert (scripted(x) - per_image(reference, x)).abs().max() < TOLERANCE
    code = main(["export", str(checkpoints["dropout"]), "--format", "torchscript", "-o", str(tmp_path / "a.ts"),
                 "--test-mode", "paper"])
    err = capsys.readouterr().err
    assert code == 1 and "--test-mode paper: dropout is on at test time" in err and "--test-mode eval" in err
    assert list(tmp_path.iterdir()) == []


def messy_folder(root, seed=0):
    rng = np.random.default_rng(seed)
    for name, size in {"odd.png": (37, 53), "tall.jpg": (70, 20), "sub/small.png": (9, 12)}.items():
        write_image(root / name, rng.random((*size, 3)).astype(np.float32))
    return root


def same_images(a, b):
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*.png"))
    assert names and names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*.png"))
    for name in names:  # within one 8-bit step
        difference = np.abs(read_image(a / name) - read_image(b / name)).max()
        assert difference <= 1 / 255 + 1e-6, (name, difference)


@pytest.mark.parametrize("name,flags", [("pix2pix", []), ("cyclegan", []),
                                        ("stargan", ["--to", "Blond_Hair", "--from", "Black_Hair,Young"])])
def test_translate_an_onnx_file_gives_the_checkpoints_images(name, flags, checkpoints, exported, tmp_path, capsys):
    images = messy_folder(tmp_path / "in")
    assert main(["translate", str(checkpoints[name]), str(images), str(tmp_path / "torch"), "--no-progress",
                 "--device", "cpu", "--num-workers", "0", *flags]) == 0
    assert main(["translate", str(exported[name]["onnx"]), str(images), str(tmp_path / "onnx"), "--no-progress",
                 "--num-workers", "0", "--batch-size", "2", *flags]) == 0
    summaries = [line for line in capsys.readouterr().err.splitlines() if line.startswith("translated")]
    assert summaries[0] == summaries[1].replace(str(tmp_path / "onnx"), str(tmp_path / "torch"))
    same_images(tmp_path / "torch", tmp_path / "onnx")


@pytest.mark.parametrize("flags,message", [
    (["--direction", "AtoB"], "--direction: this exported file translates BtoA"),
    (["--test-mode", "paper"], "--test-mode: this exported file was exported in eval mode"),
    (["--precision", "bf16"], "--precision: this exported file runs in float32"),
    (["--no-ema"], "--no-ema: this exported file holds the EMA weights"),
    (["--to", "Young"], "--to: this exported file translates BtoA, not to named domains")])
def test_translate_refuses_options_the_file_has_fixed(flags, message, exported, tmp_path, capsys):
    images = messy_folder(tmp_path / "in")
    assert main(["translate", str(exported["cyclegan"]["onnx"]), str(images), str(tmp_path / "out"),
                 *flags]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_stargan_onnx_needs_to_and_from(exported, tmp_path, capsys):
    images = messy_folder(tmp_path / "in")
    assert main(["translate", str(exported["stargan"]["onnx"]), str(images), str(tmp_path / "out")]) == 1
    assert main(["translate", str(exported["stargan"]["onnx"]), str(images), str(tmp_path / "out"), "--to",
                 "Young"]) == 1
    err = capsys.readouterr().err
    assert "--to: this exported file translates to named domains (Black_Hair, Blond_Hair, Young)" in err
    assert "--from: the discriminator that reads what each input is was not exported" in err


@pytest.mark.parametrize("name,classes,weights", [("dcgan", ["a", "b", "c"], "raw"), ("noise", [], "ema")])
def test_sample_an_onnx_file_gives_the_checkpoints_images(name, classes, weights, checkpoints, exported, tmp_path,
                                                         capsys):
    checkpoint, onnx = load_sampler(checkpoints[name]), load_onnx_sampler(exported[name]["onnx"], "cpu")
    assert (onnx.z_dim, onnx.classes, onnx.weights, list(onnx.nets)) == (8, classes, weights, ["G"])
    z = checkpoint.noise(7, seed=3, truncation=1.5)
    labels = torch.arange(7) % 3 if classes else None
    assert torch.equal(z, onnx.noise(7, seed=3, truncation=1.5))
    for x, y in zip(checkpoint.generate(z, labels), onnx.generate(z, labels)):
        assert x.shape == y.shape == (16, 16, 3) and np.abs(x - y).max() < TOLERANCE
    label = ["--label", "b"] if classes else []
    for kind in ("pt", "onnx"):  # through the command line: files of the same names, the same images
        source = checkpoints[name] if kind == "pt" else exported[name]["onnx"]
        assert main(["sample", str(source), str(tmp_path / kind), "-n", "4", "--seed", "3", *label]) == 0
        assert main(["sample", str(source), str(tmp_path / kind / "grid"), "-n", "6", "--grid"]) == 0
    summaries = [line for line in capsys.readouterr().err.splitlines() if line.startswith("wrote")]
    assert summaries[0] == summaries[2].replace(str(tmp_path / "onnx"), str(tmp_path / "pt"))
    same_images(tmp_path / "pt", tmp_path / "onnx")


@pytest.mark.parametrize("flags,message", [
    (["--precision", "bf16"], "--precision: this exported file runs in float32"),
    (["--compile"], "--compile: this exported file runs in ONNX Runtime"),
    (["--no-ema"], "--no-ema: this exported file holds the EMA weights"),
    (["--generator", "G2"], "--generator G2: this exported file holds one generator, G; export the checkpoint "
                            "with --generator G2")])
def test_sample_refuses_options_the_file_has_fixed(flags, message, exported, tmp_path, capsys):
    assert main(["sample", str(exported["noise"]["onnx"]), str(tmp_path / "out"), *flags]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_translate_and_sample_name_each_other_for_the_other_kind_of_file(exported, tmp_path, capsys):
    images = messy_folder(tmp_path / "in")
    noise, translator = exported["dcgan"]["onnx"], exported["cyclegan"]["onnx"]
    assert main(["translate", str(noise), str(images), str(tmp_path / "out")]) == 1
    assert f"use `translation sample {noise} OUTPUT`" in capsys.readouterr().err
    assert main(["sample", str(translator), str(tmp_path / "out")]) == 1
    assert f"use `translation translate {translator} INPUT OUTPUT`" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_export_refuses_to_overwrite_and_leaves_no_temporary_file(checkpoints, tmp_path, capsys):
    target = tmp_path / "g.ts"
    target.write_bytes(b"keep")
    argv = ["export", str(checkpoints["cyclegan"]), "--format", "torchscript", "-o", str(target)]
    assert main(argv) == 1
    assert "exists; use --overwrite" in capsys.readouterr().err and target.read_bytes() == b"keep"
    assert main([*argv, "--overwrite", "--no-ema"]) == 0
    assert "exported resnet_6blocks (BtoA, test mode eval) ->" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["g.ts"]
    assert torch.jit.load(str(target)).metadata["weights"] == "raw"


def test_export_errors_say_what_to_do(checkpoints, tmp_path, monkeypatch, capsys):
    def export(*argv):
        code = main(["export", *map(str, argv)])
        return code, capsys.readouterr().err

    code, err = export(checkpoints["cyclegan"], "-o", tmp_path / "g.pt")
    assert code == 1 and "--output" in err and "ends in .onnx" in err
    with pytest.raises(SystemExit):
        main(["export", str(checkpoints["cyclegan"]), "--format", "tflite", "-o", str(tmp_path / "g")])
    assert "invalid choice: 'tflite'" in capsys.readouterr().err
    torch.save(create_generator("resnet_6blocks", ngf=4).state_dict(), tmp_path / "official.pth")
    code, err = export(tmp_path / "official.pth", "-o", tmp_path / "g.onnx")
    assert code == 1 and "bare state dict" in err and "translation import" in err
    code, err = export(checkpoints["stargan"], "--direction", "AtoB", "-o", tmp_path / "g.onnx")
    assert code == 1 and "--direction: this model has no direction" in err
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if not installed
    code, err = export(checkpoints["cyclegan"], "-o", tmp_path / "g.onnx")
    assert code == 1 and "needs the onnxscript package" in err and "pip install" in err
    assert list(tmp_path.iterdir()) == [tmp_path / "official.pth"]


def test_onnx_errors_name_the_file(tmp_path):
    (tmp_path / "broken.onnx").write_bytes(b"not onnx")
    with pytest.raises(ExportError, match="broken.onnx: cannot be opened by ONNX Runtime"):
        load_onnx_translator(tmp_path / "broken.onnx")
    with pytest.raises(ExportError, match="--format must be one of onnx, torchscript, got 'tflite'"):
        export_checkpoint("x", tmp_path / "y", "tflite")


def test_the_speed_tool_runs():
    """tools/onnx_speed.py (ONNX Runtime vs PyTorch eager): a tiny net, to keep the tool working; no timing
    is asserted (the README quotes the tool's figure for resnet_9blocks at 256 px), only what the figures are."""
    sys.path.insert(0, str(REPO / "tools"))
    from measure import count_flops
    from onnx_speed import compare

    result = compare("resnet_6blocks", size=32, batch=2, repeat=1, ngf=4)
    assert result["max_abs_difference"] < TOLERANCE  # the file it timed computes what the net computes
    assert result["speedup"] == result["pytorch_s"] / result["onnxruntime_s"]
    # the work timed is one forward of that net at that size and batch
    net = create_generator("resnet_6blocks", ngf=4, norm="instance").eval()
    with torch.no_grad():
        assert result["flops"] == count_flops(lambda: net(torch.zeros(2, 3, 32, 32))) > 0
