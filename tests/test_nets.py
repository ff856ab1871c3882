import io

import pytest
import torch

from translation.nets import (count_parameters, create_discriminator, create_generator, list_discriminators,
                              list_generators)

# Measured with the official pytorch-CycleGAN-and-pix2pix code (GUIDE.md section 5).
OFFICIAL_COUNTS = [
    ("generator", "unet_256", dict(norm="batch", dropout=True), 54_413_955),
    ("generator", "unet_128", dict(norm="batch"), 41_828_995),
    ("generator", "resnet_9blocks", dict(norm="instance"), 11_378_179),
    ("generator", "resnet_6blocks", dict(norm="instance"), 7_837_699),
    ("discriminator", "basic", dict(in_channels=6, norm="batch"), 2_768_705),
    ("discriminator", "basic", dict(in_channels=3, norm="instance"), 2_764_737),
    ("discriminator", "pixel", dict(in_channels=6, norm="batch"), 9_024),
]


@pytest.mark.parametrize("kind,name,kwargs,expected", OFFICIAL_COUNTS)
def test_parameter_counts_equal_the_official_ones(kind, name, kwargs, expected):
    factory = create_generator if kind == "generator" else create_discriminator
    assert count_parameters(factory(name, **kwargs)) == expected


def test_registries_list_the_official_names():
    assert list_generators() == ["resnet_6blocks", "resnet_9blocks", "unet_128", "unet_256", "unet_32", "unet_64"]
    assert list_discriminators() == ["basic", "n_layers", "pixel"]


@pytest.mark.parametrize("name", list_generators())
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_every_generator_keeps_size_and_round_trips(name, norm):
    torch.manual_seed(0)
    net = create_generator(name, in_channels=1, out_channels=4, ngf=4, norm=norm, dropout=True)
    m = max(net.size_multiple, 16)  # ResNet's reflect padding needs more than 1 px after downsampling
    x = torch.randn(2, 1, m, 2 * m)  # non-square
    y = net(x)
    assert y.shape == (2, 4, m, 2 * m) and y.abs().max() <= 1  # tanh output
    y.mean().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.eval()
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    twin = create_generator(name, in_channels=1, out_channels=4, ngf=4, norm=norm, dropout=True).eval()
    twin.load_state_dict(torch.load(buffer, weights_only=True))
    with torch.no_grad():
        assert torch.equal(net(x), twin(x))


def test_generator_rejects_sizes_it_cannot_reproduce():
    with pytest.raises(ValueError, match="multiples of 32, got 40x64; pad to 64x64"):
        create_generator("unet_32", ngf=4)(torch.randn(1, 3, 40, 64))


@pytest.mark.parametrize("name,size,patch", [("basic", 64, 6), ("basic", 256, 30), ("pixel", 40, 40),
                                             ("n_layers", 64, 14)])
def test_patch_discriminator_output_maps(name, size, patch):
    net = create_discriminator(name, in_channels=6, ndf=4, n_layers=2)
    out = net(torch.randn(1, 6, size, size))
    assert out.shape == (1, 1, patch, patch)


def test_normal_init_uses_the_gain_and_zero_bias():
    torch.manual_seed(0)
    net = create_generator("resnet_6blocks", ngf=16, norm="instance", init="normal", init_gain=0.02)
    conv = net.model[1]
    assert abs(conv.weight.std().item() - 0.02) < 0.002 and conv.bias.abs().max() == 0
    bn = create_generator("unet_32", ngf=8, norm="batch").model.model[1].model[2]
    assert abs(bn.weight.mean().item() - 1.0) < 0.02


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="unknown generator 'unet_512'; choose one of resnet_6blocks"):
        create_generator("unet_512")
    with pytest.raises(ValueError, match="unknown norm 'group'"):
        create_discriminator("basic", 3, norm="group")
    with pytest.raises(ValueError, match="unknown init 'he'"):
        create_generator("unet_32", init="he")
