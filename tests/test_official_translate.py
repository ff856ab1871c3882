"""Official weight files through the user-facing paths (load_translator, `translation translate`).

The fixtures hold official generator files, an input and the output the official code produced
(README.json beside them says how); our outputs must match to 1e-5.
"""
import numpy as np
import pytest
import torch

from translation.cli import main
from translation.data.io import read_image, write_image
from translation.inference.translator import OfficialFlags, load_translator

from conftest import FIXTURES


CASES = {  # stem: (CLI flags as a user types them, the official test mode the output was made with)
    "cyclegan_resnet6_ngf8": (["--netG", "resnet_6blocks", "--norm", "instance", "--ngf", "8"], "eval"),
    "cyclegan_resnet9_ngf8_oldIN": (["--netG", "resnet_9blocks", "--norm", "instance", "--ngf", "8"], "eval"),
    "pix2pix_unet256_ngf8": (["--netG", "unet_256", "--norm", "batch", "--ngf", "8"], "eval"),
}


def flags_of(cli: list[str]) -> OfficialFlags:
    values = dict(zip(cli[::2], cli[1::2]))
    return OfficialFlags(netG=values["--netG"], norm=values["--norm"], ngf=int(values["--ngf"]))


def reference(stem):
    io = torch.load(FIXTURES / f"{stem}.io.pt", weights_only=True)
    return io["input"], io["output"]


@pytest.mark.parametrize("stem", CASES)
def test_translator_reproduces_the_official_output(stem):
    cli, mode = CASES[stem]
    translator = load_translator(FIXTURES / f"{stem}.pth", test_mode=mode, official=flags_of(cli))
    x, expected = reference(stem)
    with torch.no_grad():
        error = (translator.net(x) - expected).abs().max().item()
    print(f"{stem}: max abs error {error:.1e}")
    assert error <= 1e-5


@pytest.mark.parametrize("stem", ["cyclegan_resnet9_ngf8_oldIN", "pix2pix_unet256_ngf8"])
def test_translate_command_on_official_files(stem, tmp_path):
    """The issue's commands: `translate horse2zebra.pth in/ out/ --netG resnet_9blocks --norm instance`."""
    cli, mode = CASES[stem]
    x, _ = reference(stem)
    image = ((x[0] + 1) / 2).permute(1, 2, 0).numpy()
    write_image(tmp_path / "in" / "photo.png", image, bit_depth=16)
    assert main(["translate", str(FIXTURES / f"{stem}.pth"), str(tmp_path / "in"), str(tmp_path / "out"),
                 "--bit-depth", "16", "--test-mode", mode, "--no-progress", "--num-workers", "0", *cli]) == 0
    written = read_image(tmp_path / "out" / "photo.png")
    translator = load_translator(FIXTURES / f"{stem}.pth", test_mode=mode, official=flags_of(cli))
    expected = translator.translate(read_image(tmp_path / "in" / "photo.png"))
    assert written.shape == image.shape and np.abs(written - expected).max() < 1e-4


@pytest.mark.parametrize("flags,expected", [
    (["--netG", "resnet_9blocks", "--norm", "instance", "--ngf", "8"], "weights the net needs are not in the file"),
    (["--netG", "resnet_6blocks", "--norm", "instance", "--ngf", "16"], "shapes differ"),
    (["--netG", "unet_256", "--norm", "batch", "--ngf", "8"], "weights the net needs are not in the file"),
])
def test_wrong_flags_give_a_readable_message(flags, expected, tmp_path, capsys):
    write_image(tmp_path / "in" / "x.png", np.zeros((32, 32, 3), np.float32))
    code = main(["translate", str(FIXTURES / "cyclegan_resnet6_ngf8.pth"), str(tmp_path / "in"),
                 str(tmp_path / "out"), "--no-progress", *flags])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and expected in err
    assert "--netG resnet_6blocks --ngf 8 --norm instance" in err  # the flags to try


def test_missing_architecture_flags_say_which_to_give(tmp_path, capsys):
    write_image(tmp_path / "in" / "x.png", np.zeros((32, 32, 3), np.float32))
    code = main(["translate", str(FIXTURES / "cyclegan_resnet6_ngf8.pth"), str(tmp_path / "in"),
                 str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "--netG" in err and "resnet_6blocks" in err and "Traceback" not in err
