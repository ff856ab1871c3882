"""Official pix2pix/CycleGAN weight files load key by key and reproduce the official outputs."""
import pytest
import torch

from translation.names import IMAGE_GENERATORS, PATCH_DISCRIMINATORS
from translation.nets import create_discriminator, create_generator
from translation.nets.official import (WeightsMismatchError, guess_discriminator_flags, guess_generator_flags,
                                       load_official_file, load_official_state_dict)

from conftest import FIXTURES



CASES = [  # file stem, architecture flags (README.json beside the fixtures)
    ("pix2pix_unet256_ngf8", dict(name="unet_256", ngf=8, norm="batch", dropout=True)),
    ("cyclegan_resnet6_ngf8", dict(name="resnet_6blocks", ngf=8, norm="instance")),
    ("cyclegan_resnet9_ngf8_oldIN", dict(name="resnet_9blocks", ngf=8, norm="instance")),
]
RESNET9 = "--netG resnet_9blocks --ngf 8 --norm instance"
UNET256 = "--netG unet_256 --ngf 8 --norm batch"


def load(stem):
    return (torch.load(FIXTURES / f"{stem}.pth", weights_only=True),
            torch.load(FIXTURES / f"{stem}.io.pt", weights_only=True))


def max_error(net, io):
    with torch.no_grad():
        return (net.eval()(io["input"]) - io["output"]).abs().max().item()


@pytest.mark.parametrize("stem,flags", CASES)
def test_outputs_match_the_official_code(stem, flags):
    net = load_official_file(create_generator(**flags), FIXTURES / f"{stem}.pth")
    error = max_error(net, load(stem)[1])  # pix2pix fixture: eval mode (running BN stats, no dropout)
    print(f"{stem}: max abs error {error:.2e}")
    assert error <= 1e-5


@pytest.mark.parametrize("stem,flags", CASES)
def test_flags_are_guessed_from_the_file(stem, flags):
    guess = guess_generator_flags(load(stem)[0])
    assert guess["netG"] == flags["name"] and guess["ngf"] == flags["ngf"] and guess["norm"] == flags["norm"]
    assert guess["in_channels"] == guess["out_channels"] == 3


def test_old_instance_norm_buffers_are_dropped_and_wrapper_prefixes_stripped():
    state_dict = load("cyclegan_resnet9_ngf8_oldIN")[0]
    assert any(k.endswith("running_mean") for k in state_dict)
    wrapped = {f"module._orig_mod.{k}": v for k, v in state_dict.items()}  # DataParallel around torch.compile
    net = load_official_state_dict(create_generator("resnet_9blocks", ngf=8, norm="instance"), wrapped)
    for key, value in net.state_dict().items():  # outputs are checked above with the plain file
        assert torch.equal(value, state_dict[key])


def test_batch_norm_files_from_before_pytorch_041_load():
    state_dict, io = load("pix2pix_unet256_ngf8")
    old = {k: v for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}
    net = load_official_state_dict(create_generator("unet_256", ngf=8, norm="batch", dropout=True), old)
    assert max_error(net, io) <= 1e-5


def mismatch(stem, **flags) -> str:
    with pytest.raises(WeightsMismatchError) as info:
        load_official_state_dict(create_generator(**flags), load(stem)[0], source="latest_net_G.pth")
    message = str(info.value)
    assert isinstance(info.value, ValueError) and message.startswith("latest_net_G.pth does not fit")
    return message


@pytest.mark.parametrize("stem,flags,expected,right", [
    ("cyclegan_resnet9_ngf8_oldIN", dict(name="resnet_6blocks", ngf=8, norm="instance"),
     "16 weights in the file have no place in the net (e.g. model.16.conv_block.1.weight", RESNET9),
    ("cyclegan_resnet9_ngf8_oldIN", dict(name="unet_256", ngf=8, norm="batch"),
     "weights the net needs are not in the file", RESNET9),
    ("pix2pix_unet256_ngf8", dict(name="resnet_9blocks", ngf=8, norm="instance"),
     "weights in the file have no place in the net (e.g. model.model.0.weight", UNET256),
    ("cyclegan_resnet9_ngf8_oldIN", dict(name="resnet_9blocks", ngf=16, norm="instance"),
     "shapes differ (model.1.weight: file [8, 3, 7, 7] vs net [16, 3, 7, 7]", RESNET9),
    ("cyclegan_resnet9_ngf8_oldIN", dict(name="resnet_9blocks", ngf=8, norm="batch"),
     "weights in the file have no place in the net (e.g. model.1.bias, model.4.bias", RESNET9),
    ("pix2pix_unet256_ngf8", dict(name="unet_256", ngf=8, norm="instance"),
     "weights in the file have no place in the net (e.g. model.model.1.model.2.weight", UNET256),
    ("pix2pix_unet256_ngf8", dict(name="unet_128", ngf=8, norm="batch"), "have no place", UNET256),
])
def test_wrong_flags_explain_and_suggest_the_right_ones(stem, flags, expected, right):
    message = mismatch(stem, **flags)
    assert expected in message, message
    assert f"this file looks like a generator saved with: {right}" in message, message
    if stem.endswith("oldIN") and flags["norm"] == "instance":
        assert "running_mean" not in message  # stale InstanceNorm buffers are not reported as misfits


def test_discriminator_and_non_state_dict_files_are_named_as_such():
    d = create_discriminator("basic", in_channels=6, ndf=8)
    with pytest.raises(WeightsMismatchError, match=r"looks like a discriminator \(netD=basic ndf=8 n_layers=3"):
        load_official_state_dict(create_generator("unet_256", ngf=8), d.state_dict())
    with pytest.raises(WeightsMismatchError, match="full training checkpoint"):
        load_official_state_dict(create_generator("unet_256", ngf=8), {"G": d.state_dict(), "step": 1})
    with pytest.raises(WeightsMismatchError, match="StarGAN"):
        stargan = torch.load(FIXTURES / "stargan_G_conv8_c5.ckpt", weights_only=True)
        load_official_state_dict(create_generator("unet_256", ngf=8), stargan)


@pytest.mark.parametrize("name", IMAGE_GENERATORS)
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
@pytest.mark.parametrize("dropout", [True, False])
def test_generator_guess_inverts_the_factory(name, norm, dropout):
    flags = dict(in_channels=4, out_channels=1, ngf=4, norm=norm)
    guess = guess_generator_flags(create_generator(name, dropout=dropout, **flags).state_dict())
    assert guess == dict(netG=name, dropout=None if name.startswith("unet") else dropout, **flags)


@pytest.mark.parametrize("name", PATCH_DISCRIMINATORS)
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_discriminator_guess_inverts_the_factory(name, norm):
    guess = guess_discriminator_flags(create_discriminator(name, in_channels=6, ndf=4, n_layers=4,
                                                           norm=norm).state_dict())
    assert (guess["netD"], guess["ndf"], guess["norm"], guess["in_channels"]) == (name, 4, norm, 6)
    assert guess.get("n_layers") == {"basic": 3, "n_layers": 4}.get(name)
