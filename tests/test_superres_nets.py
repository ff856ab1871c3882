"""Super-resolution nets (translation/nets/superres.py) against XPixelGroup/BasicSR's archs: counts, key names,
released-weight formats, the scale of the output, and the bilinear base of MSRResNet."""
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from translation.names import SR_DISCRIMINATORS, SR_GENERATORS
from translation.nets import (WeightsMismatchError, build_net, count_parameters, create_discriminator,
                              create_generator, list_discriminators, list_generators, spec_of)
from translation.nets.basicsr_weights import load_basicsr_file

TINY = {"msrresnet": dict(ngf=4, n_blocks=1), "rrdbnet": dict(ngf=4, n_blocks=1, growth=2)}

# GUIDE section 5, counted with BasicSR's own archs (3-channel images, default widths)
BASICSR_COUNTS = [
    ("generator", "msrresnet", dict(scale=2), 1_369_859),
    ("generator", "msrresnet", dict(scale=3), 1_554_499),
    ("generator", "msrresnet", dict(scale=4), 1_517_571),
    ("generator", "rrdbnet", dict(scale=4), 16_697_987),
    ("generator", "rrdbnet", dict(scale=2), 16_703_171),
    ("discriminator", "vgg128", dict(), 14_499_401),
]


def build(kind, name, **kwargs):
    factory = create_generator if kind == "generator" else create_discriminator
    return factory(name, init="pytorch", **kwargs)


@pytest.mark.parametrize("kind,name,kwargs,expected", BASICSR_COUNTS,
                         ids=[f"{n}-x{k['scale']}" if k else n for _, n, k, _ in BASICSR_COUNTS])
def test_parameter_counts_equal_basicsrs(kind, name, kwargs, expected):
    assert count_parameters(build(kind, name, **kwargs)) == expected


def test_registered_under_their_own_names():
    assert SR_GENERATORS == ("msrresnet", "rrdbnet") and SR_DISCRIMINATORS == ("vgg128", "vgg256")
    assert set(SR_GENERATORS) <= set(list_generators()) and set(SR_DISCRIMINATORS) <= set(list_discriminators())


@pytest.mark.parametrize("name,scale,size", [("msrresnet", 2, (5, 7)), ("msrresnet", 3, (5, 7)),
                                             ("msrresnet", 4, (5, 7)), ("rrdbnet", 4, (5, 7)),
                                             ("rrdbnet", 2, (6, 10)), ("rrdbnet", 1, (8, 12))])
def test_the_output_is_scale_times_the_input_and_the_spec_rebuilds_it(name, scale, size):
    torch.manual_seed(0)
    net = build("generator", name, scale=scale, **TINY[name]).eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        y = net(x)
    assert net.scale == scale and net.value_range == (0.0, 1.0)
    assert y.shape == (2, 3, size[0] * scale, size[1] * scale)
    assert size[0] % net.size_multiple == 0 and size[1] % net.size_multiple == 0
    again = build_net(spec_of(net))
    again.load_state_dict(net.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.equal(again.eval()(x), y)


def bilinear_half_pixel(image: np.ndarray, scale: int) -> np.ndarray:
    """Bilinear upsampling with pixel centres at (i + 0.5) / scale - 0.5 and edge clamping (align_corners=False),
    written out per axis."""
    def axis(n):
        src = np.maximum((np.arange(n * scale) + 0.5) / scale - 0.5, 0.0)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, n - 1)
        return low, high, src - low

    (h_lo, h_hi, h_w), (w_lo, w_hi, w_w) = axis(image.shape[-2]), axis(image.shape[-1])
    rows = image[..., h_lo, :] * (1 - h_w)[:, None] + image[..., h_hi, :] * h_w[:, None]
    return rows[..., w_lo] * (1 - w_w) + rows[..., w_hi] * w_w


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_a_zeroed_residual_gives_exactly_the_bilinear_upsampling(scale):
    net = build("generator", "msrresnet", scale=scale, **TINY["msrresnet"]).eval()
    with torch.no_grad():
        net.conv_last.weight.zero_()
        net.conv_last.bias.zero_()
        x = torch.rand(1, 3, 5, 6)
        y = net(x)
    assert torch.equal(y, F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False))
    np.testing.assert_allclose(y.numpy(), bilinear_half_pixel(x.double().numpy(), scale), atol=1e-6)
    # the residual path is live otherwise: a non-zero last conv moves the output away from the base
    with torch.no_grad():
        net.conv_last.bias.fill_(0.5)
        assert torch.allclose(net(x) - y, torch.full_like(y, 0.5))


def test_basicsrs_initialisation_scaled_kaiming_on_the_residual_branches():
    torch.manual_seed(0)
    net = build("generator", "rrdbnet", ngf=16, n_blocks=2, growth=8)
    conv = net.body[0].rdb1.conv5  # fan-in (16 + 4 x 8) x 9 = 432
    expected = 0.1 * math.sqrt(2 / 432)
    assert conv.weight.std().item() == pytest.approx(expected, rel=0.1) and not conv.bias.any()
    # the trunk convs outside the blocks keep PyTorch's default (uniform, non-zero biases), as BasicSR
    assert net.conv_body.bias.abs().sum() > 0
    msr = build("generator", "msrresnet", ngf=16, n_blocks=1, scale=4)
    for conv in (msr.conv_first, msr.body[0].conv1, msr.upconv2, msr.conv_last):
        assert not conv.bias.any() and conv.weight.std().item() < 0.1 * math.sqrt(2 / conv.weight[0].numel()) * 1.3


def test_rrdbnet_reads_a_small_scale_input_through_basicsrs_pixel_unshuffle():
    # BasicSR's pixel_unshuffle: view (b, c, h, s, w, s), permute to (b, c, s, s, h, w)
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 3, 4, 6)
    theirs = x.view(2, 3, 2, 2, 3, 2).permute(0, 1, 3, 5, 2, 4).reshape(2, 12, 2, 3)
    assert torch.equal(F.pixel_unshuffle(x, 2), theirs)
    net = build("generator", "rrdbnet", scale=2, **TINY["rrdbnet"])
    assert net.conv_first.in_channels == 12 and net.size_multiple == 2
    with pytest.raises(ValueError, match="multiples of 2"):
        net(torch.rand(1, 3, 5, 6))


def basicsr_keys(name, **kwargs):
    return list(build("generator", name, **kwargs).state_dict())


def test_state_dict_keys_are_basicsrs():
    msr = basicsr_keys("msrresnet", scale=4, ngf=4, n_blocks=2)
    assert msr == ["conv_first.weight", "conv_first.bias", "body.0.conv1.weight", "body.0.conv1.bias",
                   "body.0.conv2.weight", "body.0.conv2.bias", "body.1.conv1.weight", "body.1.conv1.bias",
                   "body.1.conv2.weight", "body.1.conv2.bias", "upconv1.weight", "upconv1.bias", "upconv2.weight",
                   "upconv2.bias", "conv_hr.weight", "conv_hr.bias", "conv_last.weight", "conv_last.bias"]
    assert "upconv2.weight" not in basicsr_keys("msrresnet", scale=3, ngf=4, n_blocks=1)
    rrdb = basicsr_keys("rrdbnet", **TINY["rrdbnet"])
    assert rrdb[:4] == ["conv_first.weight", "conv_first.bias", "body.0.rdb1.conv1.weight", "body.0.rdb1.conv1.bias"]
    assert rrdb[-10:] == [f"{k}.{p}" for k in ("conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last")
                          for p in ("weight", "bias")]
    assert len(rrdb) == 2 + 3 * 5 * 2 + 10  # one RRDB: three dense blocks of five convs
    disc = list(build("discriminator", "vgg128", ndf=4).state_dict())
    assert disc[:7] == ["conv0_0.weight", "conv0_0.bias", "conv0_1.weight", "bn0_1.weight", "bn0_1.bias",
                        "bn0_1.running_mean", "bn0_1.running_var"]
    assert disc[-4:] == ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"]
    assert "conv5_0.weight" in build("discriminator", "vgg256", ndf=4).state_dict()


# how BasicSR saves: {'params': G} and, with an EMA of G, {'params_ema': ...} beside it; the ESRGAN repo: bare
FILE_FORMATS = {"params_ema": lambda ema, raw: {"params_ema": ema}, "params": lambda ema, raw: {"params": raw},
                "both": lambda ema, raw: {"params": raw, "params_ema": ema}, "bare": lambda ema, raw: ema}


@pytest.mark.parametrize("layout", FILE_FORMATS)
def test_released_weights_in_basicsrs_file_format_load_strictly(layout, tmp_path):
    torch.manual_seed(1)
    ema = build("generator", "rrdbnet", **TINY["rrdbnet"]).state_dict()
    raw = {k: torch.randn_like(v) for k, v in ema.items()}
    path = tmp_path / "ESRGAN_SRx4_DF2KOST_official-ff704c30.pth"
    torch.save(FILE_FORMATS[layout](ema, raw), path)
    loaded = load_basicsr_file(build("generator", "rrdbnet", **TINY["rrdbnet"]), path).state_dict()
    expected = raw if layout == "params" else ema  # the EMA weights when there are both
    assert list(loaded) == list(expected) and all(torch.equal(loaded[k], expected[k]) for k in expected)


def test_the_original_esrgan_repositorys_names_are_renamed(tmp_path):
    net = build("generator", "rrdbnet", **TINY["rrdbnet"])
    renames = {"body.": "RRDB_trunk.", ".rdb": ".RDB", "conv_body.": "trunk_conv.", "conv_up1.": "upconv1.",
               "conv_up2.": "upconv2.", "conv_hr.": "HRconv."}
    theirs = {}
    for key, value in net.state_dict().items():
        for ours, old in renames.items():
            key = key.replace(ours, old) if ours.startswith(".") else (old + key[len(ours):]
                                                                        if key.startswith(ours) else key)
        theirs[key] = value * 2
    assert "RRDB_trunk.0.RDB1.conv1.weight" in theirs and "HRconv.bias" in theirs
    torch.save(theirs, tmp_path / "RRDB_ESRGAN_x4.pth")
    fresh = load_basicsr_file(build("generator", "rrdbnet", **TINY["rrdbnet"]), tmp_path / "RRDB_ESRGAN_x4.pth")
    assert torch.equal(fresh.conv_hr.weight, net.conv_hr.weight * 2)


def test_weights_of_another_scale_are_refused_with_what_differs(tmp_path):
    torch.save({"params_ema": build("generator", "msrresnet", scale=4, **TINY["msrresnet"]).state_dict()},
               tmp_path / "x4.pth")
    with pytest.raises(WeightsMismatchError, match="upconv2"):
        load_basicsr_file(build("generator", "msrresnet", scale=2, **TINY["msrresnet"]), tmp_path / "x4.pth")


@pytest.mark.parametrize("size", [128, 256])
def test_vgg_discriminator_scores_each_patch_once(size):
    net = build("discriminator", f"vgg{size}", ndf=2).train()
    assert net(torch.rand(2, 3, size, size)).shape == (2, 1)
    with pytest.raises(ValueError, match=f"{size}x{size} patches"):
        net(torch.rand(2, 3, 64, 64))


def test_options_they_cannot_build_are_refused():
    with pytest.raises(ValueError, match="rrdbnet upscales by 1, 2, 4; got scale 3"):
        create_generator("rrdbnet", scale=3)
    with pytest.raises(ValueError, match="msrresnet upscales by 2, 3, 4"):
        create_generator("msrresnet", scale=8)
    with pytest.raises(ValueError, match="in_channels"):
        create_generator("msrresnet", in_channels=1, out_channels=3)
    with pytest.raises(ValueError, match="128 or 256"):
        from translation.nets.superres import VGGStyleDiscriminator
        VGGStyleDiscriminator(image_size=96)
