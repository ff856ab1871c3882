import io

import pytest
import torch

from translation.names import IMAGE_GENERATORS, PATCH_DISCRIMINATORS
from translation.nets import (build_net, count_parameters, create_discriminator, create_generator,
                              list_discriminators, list_generators, spec_of)


# Measured with the official pytorch-CycleGAN-and-pix2pix and StarGAN code (GUIDE.md section 5).
OFFICIAL_COUNTS = [
    ("generator", "unet_256", dict(norm="batch", dropout=True), 54_413_955),
    ("generator", "unet_128", dict(norm="batch"), 41_828_995),
    ("generator", "resnet_9blocks", dict(norm="instance"), 11_378_179),
    ("generator", "resnet_6blocks", dict(norm="instance"), 7_837_699),
    ("discriminator", "basic", dict(in_channels=6, norm="batch"), 2_768_705),
    ("discriminator", "basic", dict(in_channels=3, norm="instance"), 2_764_737),
    ("discriminator", "pixel", dict(in_channels=6, norm="batch"), 9_024),
    ("generator", "stargan", dict(ngf=64, n_labels=5, n_blocks=6), 8_430_528),
    ("discriminator", "stargan", dict(image_size=128, ndf=64, n_labels=5, n_layers=6), 44_762_048),
]


@pytest.mark.parametrize("kind,name,kwargs,expected", OFFICIAL_COUNTS)
def test_parameter_counts_equal_the_official_ones(kind, name, kwargs, expected):
    factory = create_generator if kind == "generator" else create_discriminator
    assert count_parameters(factory(name, **kwargs)) == expected


def test_registries_list_the_official_names():
    assert list_generators() == ["unet_32", "unet_64", "unet_128", "unet_256", "resnet_6blocks", "resnet_9blocks",
                                 "stargan", "global", "local", "mlp", "dcgan", "biggan", "msrresnet", "rrdbnet",
                                 "glcic", "deepfill"]
    assert list_discriminators() == ["basic", "n_layers", "pixel", "stargan", "multiscale", "mlp", "dcgan", "biggan",
                                     "vgg128", "vgg256", "glcic_context", "sn_patch", "infogan_q", "mlp_ae",
                                     "dcgan_ae"]
    # the tests below give these pix2pix-style options (norm, dropout); StarGAN's nets have their own file
    assert set(IMAGE_GENERATORS) < set(list_generators()) and set(PATCH_DISCRIMINATORS) < set(list_discriminators())


@pytest.mark.parametrize("name", IMAGE_GENERATORS)
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
@pytest.mark.parametrize("channels", [(1, 4), (4, 1)])
def test_every_generator_keeps_size_and_round_trips(name, norm, channels):
    torch.manual_seed(0)
    cin, cout = channels
    net = create_generator(name, in_channels=cin, out_channels=cout, ngf=4, norm=norm, dropout=True)
    m = max(net.size_multiple, 16)  # ResNet's reflect padding needs more than 1 px after downsampling
    x = torch.randn(2, cin, m, 2 * m)  # non-square
    y = net(x)
    assert y.shape == (2, cout, m, 2 * m) and y.abs().max() <= 1  # tanh output
    y.mean().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.eval()
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    twin = create_generator(name, in_channels=cin, out_channels=cout, ngf=4, norm=norm, dropout=True).eval()
    twin.load_state_dict(torch.load(buffer, weights_only=True))
    with torch.no_grad():
        assert torch.equal(net(x), twin(x))


@pytest.mark.parametrize("name", ["unet_256", "resnet_9blocks"])
def test_generators_run_at_sizes_other_than_the_training_size(name):
    net = create_generator(name, ngf=4, norm="instance").eval()
    with torch.no_grad():
        assert net(torch.randn(1, 3, 512, 1280)).shape == (1, 3, 512, 1280)


def test_generator_rejects_sizes_it_cannot_reproduce():
    with pytest.raises(ValueError, match="multiples of 32, got 40x64; pad to 64x64"):
        create_generator("unet_32", ngf=4)(torch.randn(1, 3, 40, 64))


PATCH_MAP = {"basic": lambda h: h // 8 - 2, "n_layers": lambda h: h // 4 - 2, "pixel": lambda h: h}  # n_layers=2


@pytest.mark.parametrize("name", PATCH_DISCRIMINATORS)
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_every_discriminator_gives_a_patch_map(name, norm):
    net = create_discriminator(name, in_channels=6, ndf=4, n_layers=2, norm=norm)
    out = net(torch.randn(2, 6, 48, 64))
    assert out.shape == (2, 1, PATCH_MAP[name](48), PATCH_MAP[name](64))
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_basic_discriminator_on_256_gives_the_papers_30x30_map():
    assert create_discriminator("basic", in_channels=6, ndf=4)(torch.randn(1, 6, 256, 256)).shape == (1, 1, 30, 30)


def test_normal_init_uses_the_gain_and_zero_bias():
    torch.manual_seed(0)
    net = create_generator("resnet_6blocks", ngf=16, norm="instance", init="normal", init_gain=0.02)
    conv = net.model[1]
    assert abs(conv.weight.std().item() - 0.02) < 0.002 and conv.bias.abs().max() == 0
    bn = create_generator("unet_32", ngf=8, norm="batch").model.model[1].model[2]
    assert abs(bn.weight.mean().item() - 1.0) < 0.02


@pytest.mark.parametrize("init", ["normal", "xavier", "kaiming", "orthogonal"])
def test_every_init_is_seeded_and_zeroes_biases(init):
    nets = []
    for _ in range(2):
        torch.manual_seed(1)
        nets.append(create_discriminator("basic", in_channels=3, ndf=8, norm="instance", init=init))
    for (key, a), b in zip(nets[0].state_dict().items(), nets[1].state_dict().values()):
        assert torch.equal(a, b), key
        if key.endswith("bias"):
            assert a.abs().max() == 0


def test_pytorch_init_keeps_the_layers_own_initialisation():
    from translation.nets.discriminators import NLayerDiscriminator

    torch.manual_seed(1)
    kept = create_discriminator("basic", in_channels=3, ndf=8, norm="instance", init="pytorch", init_gain=0.5)
    torch.manual_seed(1)
    bare = NLayerDiscriminator(3, 8, n_layers=3, norm="instance")
    for (key, a), b in zip(kept.state_dict().items(), bare.state_dict().values()):
        assert torch.equal(a, b), key
    assert kept.model[0].bias.abs().max() > 0  # PyTorch's default bias init, which "normal" would zero


def test_normal_keep_bias_draws_weights_as_normal_and_keeps_the_default_biases_as_pix2pixhd():
    from translation.nets.discriminators import NLayerDiscriminator

    torch.manual_seed(2)
    bare = NLayerDiscriminator(3, 8, n_layers=3, norm="batch")
    torch.manual_seed(2)
    kept = create_discriminator("basic", in_channels=3, ndf=8, norm="batch", init="normal_keep_bias")
    torch.manual_seed(2)
    normal = create_discriminator("basic", in_channels=3, ndf=8, norm="batch", init="normal")
    for (key, a), b, c in zip(kept.state_dict().items(), bare.state_dict().values(), normal.state_dict().values()):
        if key.endswith("bias") and a.dim() == 1 and key in dict(kept.named_parameters()):
            conv = isinstance(dict(kept.named_modules())[key.rsplit(".", 1)[0]], torch.nn.Conv2d)
            assert torch.equal(a, b if conv else c), key  # conv biases: PyTorch's; batch norm's: 0
        elif key.endswith("weight"):
            assert torch.equal(a, c), key  # the same draws as "normal"
    assert kept.model[0].bias.abs().max() > 0


def test_nets_record_the_arguments_that_built_them():
    net = create_generator("unet_32", in_channels=1, ngf=4, norm="instance")
    assert net.config == dict(kind="generator", name="unet_32", in_channels=1, out_channels=3, ngf=4,
                              norm="instance", dropout=False)
    assert net.size_multiple == 32 and create_generator("resnet_6blocks", ngf=4).size_multiple == 4


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="unknown generator 'unet_512'; choose one of unet_32, unet_64"):
        create_generator("unet_512")
    with pytest.raises(ValueError, match="unknown norm 'group'"):
        create_discriminator("basic", in_channels=3, norm="group")
    with pytest.raises(ValueError, match="unknown init 'he'; choose one of normal, xavier, kaiming, orthogonal, pytorch"):
        create_generator("unet_32", init="he")
    with pytest.raises(ValueError, match="unknown discriminator 'patch'; choose one of basic, n_layers, pixel, stargan"):
        create_discriminator("patch", in_channels=3)


def test_architecture_options_pass_through_to_the_builder(monkeypatch):
    from translation.nets.registry import GENERATOR_REGISTRY, register_generator

    monkeypatch.setattr(GENERATOR_REGISTRY, "declared", GENERATOR_REGISTRY.declared + ("toy_labelled",))

    @register_generator
    def toy_labelled(in_channels: int = 3, out_channels: int = 3, n_labels: int = 5) -> torch.nn.Module:
        return torch.nn.Conv2d(in_channels + n_labels, out_channels, 1)

    try:
        net = create_generator("toy_labelled", n_labels=7)  # an option the registry has never heard of
        assert net.weight.shape == (3, 10, 1, 1)
        assert spec_of(net) == {"kind": "generator", "name": "toy_labelled",
                                "kwargs": {"in_channels": 3, "out_channels": 3, "n_labels": 7}}
        assert build_net(spec_of(net)).weight.shape == net.weight.shape
        with pytest.raises(ValueError, match="toy_labelled.*'ngf'.*it takes in_channels, out_channels, n_labels"):
            create_generator("toy_labelled", ngf=8)
    finally:
        del GENERATOR_REGISTRY._builders["toy_labelled"]


@pytest.mark.parametrize("kind,name", [("generator", n) for n in IMAGE_GENERATORS] +
                         [("discriminator", n) for n in PATCH_DISCRIMINATORS])
def test_spec_round_trip_rebuilds_the_same_architecture(kind, name):
    factory = create_generator if kind == "generator" else create_discriminator
    net = factory(name, in_channels=2, ngf=4, norm="instance") if kind == "generator" else \
        factory(name, in_channels=2, ndf=4, norm="instance")
    twin = build_net(spec_of(net))
    assert {k: v.shape for k, v in twin.state_dict().items()} == {k: v.shape for k, v in net.state_dict().items()}
    with pytest.raises(ValueError, match="unknown net kind 'critic'; choose one of generator, discriminator"):
        build_net({"kind": "critic", "name": name, "kwargs": {}})
