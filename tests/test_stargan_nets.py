"""StarGAN generator and discriminator: the official architecture, label conditioning, official files."""
import pytest
import torch

from translation.nets import (WeightsMismatchError, build_net, create_discriminator, create_generator,
                              guess_discriminator_flags, guess_generator_flags, guess_stargan_spec,
                              load_official_file, load_official_state_dict, spec_of)
from translation.nets.stargan import StarGANDiscriminator, StarGANGenerator

from conftest import FIXTURES

G_FILE = FIXTURES / "stargan_G_conv8_c5.ckpt"  # README.json: conv_dim 8, c_dim 5, repeat_num 6


def small_generator(**options):
    torch.manual_seed(0)
    return create_generator("stargan", **{"ngf": 4, "n_labels": 3, "n_blocks": 1, **options})


def test_labels_are_tiled_over_every_pixel_and_appended_to_the_image():
    net = small_generator()
    seen = {}
    net.main[0].register_forward_pre_hook(lambda module, inputs: seen.update(x=inputs[0].clone()))
    x, labels = torch.randn(2, 3, 8, 12), torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 1.0]])
    with torch.no_grad():
        net(x, labels)
    assert seen["x"].shape == (2, 6, 8, 12)
    assert torch.equal(seen["x"][:, :3], x)
    assert torch.equal(seen["x"][:, 3:], labels[:, :, None, None].expand(2, 3, 8, 12))


def test_each_image_is_translated_to_its_own_labels():
    net = small_generator()
    x = torch.randn(2, 3, 8, 8)
    labels = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    changed = labels.clone()
    changed[1, 2] = 1.0  # one label of the second image only
    with torch.no_grad():
        a, b = net(x, labels), net(x, changed)
    assert torch.equal(a[0], b[0])  # instance norm: images do not see each other
    assert (a[1] - b[1]).abs().max() > 1e-4


def test_generator_keeps_the_size_and_needs_multiples_of_4():
    net = small_generator(in_channels=1, out_channels=1)
    assert net.size_multiple == 4 and net.n_labels == 3
    y = net(torch.randn(2, 1, 12, 20), torch.zeros(2, 3))
    assert y.shape == (2, 1, 12, 20) and y.abs().max() <= 1  # tanh
    y.mean().backward()
    assert all(p.grad is not None for p in net.parameters())
    with pytest.raises(ValueError, match="stargan needs input height and width that are multiples of 4, got 10x12"):
        net(torch.randn(1, 1, 10, 12), torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"labels must have shape \(batch, n_labels\) = \(2, 3\), got \(2, 5\)"):
        net(torch.randn(2, 1, 8, 8), torch.zeros(2, 5))


def test_discriminator_gives_a_patch_map_and_domain_logits():
    torch.manual_seed(0)
    net = create_discriminator("stargan", in_channels=3, image_size=64, ndf=4, n_labels=7, n_layers=4)
    src, cls = net(torch.randn(2, 3, 64, 64))
    assert src.shape == (2, 1, 4, 4) and cls.shape == (2, 7)  # 64 / 2**4 = 4
    (src.mean() + cls.mean()).backward()
    assert all(p.grad is not None for p in net.parameters())
    # official layout: 128 px, 6 layers -> a 2x2 source map; the classifier kernel covers it whole
    official = create_discriminator("stargan", ndf=2)
    assert [t.shape for t in official(torch.randn(1, 3, 128, 128))] == [(1, 1, 2, 2), (1, 5)]
    assert official.conv2.kernel_size == (2, 2) and official.main[-2].out_channels == 2 * 2 ** 5  # no width cap


def test_discriminator_refuses_sizes_its_classifier_cannot_see():
    net = create_discriminator("stargan", image_size=64, ndf=2, n_layers=4)
    with pytest.raises(ValueError, match="built for 64x64 images \\(image_size\\), got 128x128"):
        net(torch.randn(1, 3, 128, 128))
    with pytest.raises(ValueError, match="image_size 100 must be a multiple of 2\\*\\*n_layers = 64"):
        create_discriminator("stargan", image_size=100)
    with pytest.raises(ValueError, match="n_labels must be an integer >= 1, got 0"):
        create_generator("stargan", n_labels=0)


def test_state_dict_keys_are_the_official_ones():
    g = create_generator("stargan", ngf=4, n_blocks=6)
    assert set(g.state_dict()) == set(torch.load(G_FILE, weights_only=True))
    d = create_discriminator("stargan", ndf=2, n_layers=6).state_dict()
    assert {k for k in d if not k.startswith("main.")} == {"conv1.weight", "conv2.weight"}
    assert sorted({int(k.split(".")[1]) for k in d if k.startswith("main.")}) == [0, 2, 4, 6, 8, 10]


def test_official_generator_file_reproduces_the_official_outputs():
    io = torch.load(FIXTURES / "stargan_G_conv8_c5.io.pt", weights_only=True)
    net = create_generator("stargan", ngf=8, n_labels=5, n_blocks=6)
    net.load_state_dict(torch.load(G_FILE, weights_only=True), strict=True)  # as it is, no key mapping
    with torch.no_grad():
        error = (net.train()(io["input"], io["labels"]) - io["output"]).abs().max().item()
        eval_error = (net.eval()(io["input"], io["labels"]) - io["output"]).abs().max().item()
    print(f"stargan_G_conv8_c5: max abs error {error:.2e} (train mode), {eval_error:.2e} (eval mode)")
    assert error <= 1e-5
    assert eval_error > 1e-2  # the official test runs G in train mode: running stats would be wrong


def test_the_architecture_is_read_from_official_files():
    state_dict = torch.load(G_FILE, weights_only=True)
    spec = guess_stargan_spec(state_dict)
    assert spec == {"kind": "generator", "name": "stargan",
                    "kwargs": dict(in_channels=3, out_channels=3, ngf=8, n_labels=5, n_blocks=6)}
    net = load_official_file(build_net(spec), G_FILE)  # no flags needed
    assert torch.equal(net.main[0].weight, state_dict["main.0.weight"])
    wrapped = {f"module.{k}": v for k, v in state_dict.items()}  # saved from DataParallel
    assert guess_stargan_spec(wrapped) == spec
    # and the pix2pix/CycleGAN guesses do not claim it
    assert guess_generator_flags(state_dict) == {} and guess_discriminator_flags(state_dict) == {}


@pytest.mark.parametrize("kind,options", [
    ("generator", dict(in_channels=1, out_channels=1, ngf=4, n_labels=7, n_blocks=2)),
    ("generator", dict(in_channels=3, out_channels=3, ngf=4, n_labels=1, n_blocks=0)),
    ("discriminator", dict(in_channels=1, ndf=4, image_size=96, n_labels=7, n_layers=5)),
])
def test_spec_guess_inverts_the_factory(kind, options):
    net = build_net({"kind": kind, "name": "stargan", "kwargs": options})
    assert guess_stargan_spec(net.state_dict()) == spec_of(net)


def test_pix2pix_files_are_not_taken_for_stargan():
    for name in ("pix2pix_unet256_ngf8", "cyclegan_resnet6_ngf8"):
        assert guess_stargan_spec(torch.load(FIXTURES / f"{name}.pth", weights_only=True)) == {}
    assert guess_stargan_spec(create_discriminator("basic", in_channels=6, ndf=4).state_dict()) == {}


def test_a_file_with_other_options_says_which_it_needs():
    with pytest.raises(WeightsMismatchError) as info:
        load_official_state_dict(create_generator("stargan", ngf=16), torch.load(G_FILE, weights_only=True),
                                 source="200000-G.ckpt")
    message = str(info.value)
    assert "shapes differ (main.0.weight: file [8, 8, 7, 7] vs net [16, 8, 7, 7]" in message, message
    assert ("looks like a StarGAN generator (in_channels=3 out_channels=3 ngf=8 n_labels=5 n_blocks=6)"
            in message), message


@pytest.mark.parametrize("kind,options", [
    ("generator", dict(ngf=4, n_labels=2, n_blocks=3)),
    ("discriminator", dict(image_size=32, ndf=4, n_labels=2, n_layers=3)),
])
def test_spec_round_trip_rebuilds_the_same_architecture(kind, options):
    net = build_net({"kind": kind, "name": "stargan", "kwargs": options})
    assert options.items() <= spec_of(net)["kwargs"].items()
    twin = build_net(spec_of(net))
    assert type(twin) is type(net) and spec_of(twin) == spec_of(net)
    assert {k: v.shape for k, v in twin.state_dict().items()} == {k: v.shape for k, v in net.state_dict().items()}


@pytest.mark.parametrize("kind,cls,options", [
    ("generator", StarGANGenerator, dict(ngf=4, n_blocks=2)),
    ("discriminator", StarGANDiscriminator, dict(ndf=4, image_size=64, n_layers=4)),
])
def test_pytorch_init_is_the_official_stargan_initialisation(kind, cls, options):
    """The official code never re-initialises: the weights are the seeded layer defaults, draw for draw."""
    factory = create_generator if kind == "generator" else create_discriminator
    torch.manual_seed(2)
    official = cls(**options).state_dict()
    torch.manual_seed(2)
    kept = factory("stargan", init="pytorch", **options).state_dict()
    torch.manual_seed(2)
    redrawn = factory("stargan", **options).state_dict()  # the factories' default init, normal
    assert all(torch.equal(kept[k], v) for k, v in official.items())
    assert not all(torch.equal(redrawn[k], v) for k, v in official.items())
