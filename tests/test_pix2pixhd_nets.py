"""pix2pixHD's nets against the official NVIDIA/pix2pixHD networks.py: parameter counts (GUIDE.md section 5,
counted with the official code), key names, shapes at sizes other than the training size, the multi-scale D's
outputs, the coarse-to-fine initialisation and the spec round trip checkpoints rely on."""
import pytest
import torch
import torch.nn.functional as F

from translation.names import GENERATOR_SIZE_MULTIPLES, HD_GENERATORS, MULTISCALE_DISCRIMINATORS
from translation.nets import build_net, count_parameters, create_discriminator, create_generator, spec_of
from translation.nets.pix2pixhd import init_local_from_global

TINY_GLOBAL = dict(ngf=16, n_downsample_global=3, n_blocks_global=3)
# the GUIDE's table, every row: (kind, name, options, parameters of the official net with the same options)
OFFICIAL_COUNTS = [
    ("generator", "global", dict(in_channels=3), 182_443_267),
    ("generator", "global", dict(in_channels=36), 182_546_755),  # 35 labels + the edge map
    ("generator", "local", dict(in_channels=3, ngf=32), 182_701_827),
    ("discriminator", "multiscale", dict(in_channels=6, num_D=2), 5_535_618),
    ("discriminator", "multiscale", dict(in_channels=6, num_D=3), 8_303_427),
    ("generator", "global", TINY_GLOBAL, 1_084_099),
    ("generator", "local", dict(TINY_GLOBAL, ngf=8, n_blocks_local=3), 1_100_355),
    ("discriminator", "multiscale", dict(in_channels=6, ndf=8, num_D=2), 89_842),
    ("discriminator", "multiscale", dict(in_channels=6, ndf=8, num_D=3), 134_763),
]


def _tiny_local(**options):
    return create_generator("local", ngf=4, n_downsample_global=3, n_blocks_global=2, n_blocks_local=1, **options)


@pytest.mark.parametrize("kind,name,options,expected", OFFICIAL_COUNTS)
def test_parameter_counts_equal_the_official_ones(kind, name, options, expected):
    factory = create_generator if kind == "generator" else create_discriminator
    with torch.device("meta"):  # shapes only: the 182M-parameter nets cost no memory or init time
        net = factory(name, **options)
    assert count_parameters(net) == expected


def test_defaults_are_the_official_options():
    with torch.device("meta"):
        g, local = create_generator("global"), create_generator("local")
        d = create_discriminator("multiscale", in_channels=6)
    assert spec_of(g)["kwargs"] == dict(in_channels=3, out_channels=3, ngf=64, n_downsample_global=4,
                                        n_blocks_global=9, norm="instance")
    assert spec_of(local)["kwargs"]["ngf"] == 32 and spec_of(local)["kwargs"]["n_local_enhancers"] == 1
    assert spec_of(d)["kwargs"] == dict(in_channels=6, ndf=64, n_layers=3, num_D=2, norm="instance",
                                        spectral_norm=False)
    norms = [m for m in g.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    assert norms and not any(m.affine or m.track_running_stats for m in norms)
    convs = [m for m in list(g.modules()) + list(d.modules()) if isinstance(m, torch.nn.modules.conv._ConvNd)]
    assert all(m.bias is not None for m in convs)  # the official convs always have a bias


def test_key_names_are_the_officials():
    with torch.device("meta"):
        g = create_generator("global", **TINY_GLOBAL)
        local = create_generator("local", **dict(TINY_GLOBAL, ngf=8))
        d = create_discriminator("multiscale", in_channels=6, ndf=8, num_D=3)
    keys = set(g.state_dict())
    # c7s1 (model.1), 3 downs (.4, .7, .10), blocks .13-.15 with convs at conv_block.1 and .5, 3 ups (.16, .19,
    # .22), last conv .26
    assert {"model.1.weight", "model.4.weight", "model.10.bias", "model.13.conv_block.5.weight",
            "model.16.weight", "model.22.weight", "model.26.bias"} <= keys and "model.27.weight" not in keys
    local_keys = set(local.state_dict())
    assert {"model.1.weight", "model.22.weight", "model1_1.1.weight", "model1_1.4.weight",
            "model1_2.0.conv_block.1.weight", "model1_2.3.weight", "model1_2.7.weight"} <= local_keys
    assert "model.26.weight" not in local_keys  # the global output conv is cut off
    d_keys = set(d.state_dict())
    assert {f"scale{i}_layer{j}.0.weight" for i in range(3) for j in range(5)} <= d_keys
    assert "scale2_layer1.1.weight" not in d_keys  # instance norm: no parameters


@pytest.mark.parametrize("name", HD_GENERATORS)
@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_generators_keep_odd_multiples_of_their_size(name, norm):
    torch.manual_seed(0)
    if name == "global":
        net = create_generator(name, in_channels=2, out_channels=1, ngf=4, n_blocks_global=2, norm=norm)
    else:
        net = _tiny_local(in_channels=2, out_channels=1, norm=norm)
    m = net.size_multiple
    assert m == 16  # global: 4 halvings; the tiny local: 3 + its pooled input
    x = torch.randn(2, 2, 3 * m, 5 * m)
    y = net(x)
    assert y.shape == (2, 1, 3 * m, 5 * m) and y.abs().max() <= 1
    y.square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_size_multiples_follow_the_options_and_the_names_table():
    with torch.device("meta"):
        for name in HD_GENERATORS:
            assert create_generator(name).size_multiple == GENERATOR_SIZE_MULTIPLES[name]
        assert create_generator("global", n_downsample_global=2).size_multiple == 4
        assert create_generator("local", n_local_enhancers=2).size_multiple == 64
    with pytest.raises(ValueError, match="global needs input height and width that are multiples of 16, got "
                                         "40x48; pad to 48x48"):
        create_generator("global", ngf=2, n_blocks_global=1)(torch.randn(1, 3, 40, 48))
    with pytest.raises(ValueError, match="n_downsample_global must be an integer >= 1, got 0"):
        create_generator("local", n_downsample_global=0)
    with pytest.raises(ValueError, match="num_D must be an integer >= 1, got 0"):
        create_discriminator("multiscale", in_channels=3, num_D=0)


def test_local_enhancer_adds_the_global_features_of_the_pooled_input():
    torch.manual_seed(0)
    net = _tiny_local().eval()
    x = torch.randn(1, 3, 48, 80)
    pooled = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
    with torch.no_grad():
        expected = net.model1_2(net.model1_1(x) + net.model(pooled))
        assert torch.equal(net(x), expected)
        assert net.model(pooled).shape == (1, 8, 24, 40)  # the global part: ngf * 2 features at half size


def test_two_local_enhancers_nest():
    net = create_generator("local", ngf=2, n_downsample_global=2, n_blocks_global=1, n_local_enhancers=2,
                           n_blocks_local=1)
    assert net.size_multiple == 16 and hasattr(net, "model2_2")
    assert net(torch.randn(1, 3, 32, 48)).shape == (1, 3, 32, 48)


def _patch_size(size, n_layers):
    for _ in range(n_layers):  # stride-2 4x4 convs padded by 2: H -> H // 2 + 1
        size = size // 2 + 1
    return size + 2  # the two stride-1 convs each add one


@pytest.mark.parametrize("num_D,n_layers", [(1, 3), (2, 3), (3, 2)])
def test_multiscale_discriminator_returns_each_layer_of_each_scale(num_D, n_layers):
    torch.manual_seed(0)
    d = create_discriminator("multiscale", in_channels=6, ndf=4, n_layers=n_layers, num_D=num_D)
    x = torch.randn(2, 6, 48, 80)
    out = d(x)
    assert len(out) == num_D and all(len(scale) == n_layers + 2 for scale in out)
    h, w = 48, 80
    for scale in out:
        assert [t.shape[1] for t in scale] == [4 * 2 ** k for k in range(n_layers + 1)] + [1]
        assert scale[-1].shape[-2:] == (_patch_size(h, n_layers), _patch_size(w, n_layers))
        h, w = -(-h // 2), -(-w // 2)  # the 3x3 stride-2 pool, ceil(H / 2)
    sum(t.mean() for scale in out for t in scale).backward()
    assert all(p.grad is not None for p in d.parameters())


def test_the_full_resolution_goes_to_the_last_built_scale():
    torch.manual_seed(0)
    d = create_discriminator("multiscale", in_channels=3, ndf=4, num_D=2).eval()
    x = torch.randn(1, 3, 32, 48)
    pooled = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
    with torch.no_grad():
        out = d(x)
        for scale, image in ((1, x), (0, pooled)):  # official order: scale{num_D-1} sees the full image
            features = image
            for j, got in enumerate(out[1 - scale]):
                features = getattr(d, f"scale{scale}_layer{j}")(features)
                assert torch.equal(got, features)


@pytest.mark.parametrize("kind,name,options", [
    ("generator", "global", dict(in_channels=5, out_channels=2, ngf=4, n_downsample_global=3, n_blocks_global=2,
                                 norm="batch")),
    ("generator", "local", dict(ngf=2, n_downsample_global=2, n_blocks_global=1, n_local_enhancers=2,
                                n_blocks_local=2)),
    ("discriminator", "multiscale", dict(in_channels=4, ndf=4, n_layers=2, num_D=3, norm="batch")),
])
def test_spec_round_trip_rebuilds_the_same_net(kind, name, options):
    torch.manual_seed(0)
    factory = create_generator if kind == "generator" else create_discriminator
    net = factory(name, **options).eval()
    spec = spec_of(net)
    assert spec["name"] == name and all(spec["kwargs"][k] == v for k, v in options.items())
    twin = build_net(spec).eval()
    twin.load_state_dict(net.state_dict())
    x = torch.randn(1, options.get("in_channels", 3), 32, 48)
    with torch.no_grad():
        a, b = net(x), twin(x)
    flat = (lambda o: [t for scale in o for t in scale]) if kind == "discriminator" else (lambda o: [o])
    assert all(torch.equal(s, t) for s, t in zip(flat(a), flat(b), strict=True))


def test_names_are_declared():
    assert MULTISCALE_DISCRIMINATORS == ("multiscale",) and HD_GENERATORS == ("global", "local")


def test_local_enhancer_starts_from_a_trained_global_generator():
    torch.manual_seed(0)
    trained = create_generator("global", ngf=8, n_downsample_global=3, n_blocks_global=2, init_gain=0.3)
    local = _tiny_local(init_gain=0.3)
    copied = init_local_from_global(local, trained.state_dict())
    assert copied and all(key.startswith("model.") for key in copied)
    assert "model.25.weight" not in copied  # the global output conv has no place in the enhancer
    x = torch.randn(1, 3, 16, 32)
    with torch.no_grad():
        assert torch.equal(local.model(x), trained.model[:-3](x))
    too_wide = create_generator("global", ngf=16, n_downsample_global=3, n_blocks_global=2)
    with pytest.raises(ValueError, match=r"model.1.weight has shape \(16, 3, 7, 7\), the local enhancer needs "
                                         r"\(8, 3, 7, 7\): train the global net with ngf = 2 x the enhancer's"):
        init_local_from_global(local, too_wide.state_dict())
    with pytest.raises(ValueError, match="not the weights of a pix2pixHD global generator"):
        init_local_from_global(local, create_discriminator("basic", in_channels=3, ndf=4).state_dict())
    deeper = create_generator("global", ngf=8, n_downsample_global=3, n_blocks_global=1)
    with pytest.raises(ValueError, match="lack model.*that the local enhancer's global part needs"):
        init_local_from_global(local, deeper.state_dict())
