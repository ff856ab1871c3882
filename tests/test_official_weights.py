"""Official pix2pix/CycleGAN weight files load key by key and reproduce the official outputs."""
import pytest
import torch

from translation.nets import create_generator
from translation.nets.official import WeightsMismatchError, guess_generator_flags, load_official_state_dict

from conftest import FIXTURES

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"reference fixtures not found at {FIXTURES}")

CASES = [  # file stem, architecture flags (README.json beside the fixtures)
    ("pix2pix_unet256_ngf8", dict(name="unet_256", ngf=8, norm="batch", dropout=True)),
    ("cyclegan_resnet6_ngf8", dict(name="resnet_6blocks", ngf=8, norm="instance")),
    ("cyclegan_resnet9_ngf8_oldIN", dict(name="resnet_9blocks", ngf=8, norm="instance")),
]


def load(stem):
    return (torch.load(FIXTURES / f"{stem}.pth", weights_only=True),
            torch.load(FIXTURES / f"{stem}.io.pt", weights_only=True))


@pytest.mark.parametrize("stem,flags", CASES)
def test_outputs_match_the_official_code(stem, flags):
    state_dict, io = load(stem)
    net = load_official_state_dict(create_generator(**flags), state_dict, source=stem).eval()
    with torch.no_grad():
        out = net(io["input"])
    error = (out - io["output"]).abs().max().item()
    print(f"{stem}: max abs error {error:.2e}")
    assert error <= 1e-5


@pytest.mark.parametrize("stem,flags", CASES)
def test_flags_are_guessed_from_the_file(stem, flags):
    guess = guess_generator_flags(load(stem)[0])
    assert (guess["netG"], guess["ngf"], guess["norm"]) == (flags["name"], flags["ngf"], flags["norm"])


def test_old_instance_norm_buffers_are_dropped_and_dataparallel_prefix_stripped():
    state_dict, io = load("cyclegan_resnet9_ngf8_oldIN")
    assert any(k.endswith("running_mean") for k in state_dict)
    wrapped = {f"module.{k}": v for k, v in state_dict.items()}
    net = load_official_state_dict(create_generator("resnet_9blocks", ngf=8, norm="instance"), wrapped).eval()
    with torch.no_grad():
        assert (net(io["input"]) - io["output"]).abs().max() <= 1e-5


@pytest.mark.parametrize("flags,expected", [
    (dict(name="resnet_6blocks", ngf=8, norm="instance"), "weights in the file have no place"),
    (dict(name="unet_256", ngf=8, norm="batch"), "weights the net needs are not in the file"),
    (dict(name="resnet_9blocks", ngf=16, norm="instance"), "shapes differ (model.1.weight: file [8, 3, 7, 7]"),
    (dict(name="resnet_9blocks", ngf=8, norm="batch"), "weights the net needs are not in the file"),
])
def test_wrong_flags_explain_and_suggest_the_right_ones(flags, expected):
    state_dict, _ = load("cyclegan_resnet9_ngf8_oldIN")
    with pytest.raises(WeightsMismatchError) as info:
        load_official_state_dict(create_generator(**flags), state_dict, source="latest_net_G_A.pth")
    message = str(info.value)
    assert message.startswith("latest_net_G_A.pth does not fit") and expected in message
    assert "--netG resnet_9blocks --ngf 8 --norm instance" in message
