"""Noise generators and sample discriminators (mlp, dcgan): shapes, labels, projection, spectral norm on every
discriminator, the minibatch layers, and parameter counts computed from the reference layouts."""
import io

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from translation.names import PATCH_DISCRIMINATORS
from translation.nets import (MinibatchDiscrimination, MinibatchStdDev, build_net, count_parameters,
                              create_discriminator, create_generator, spec_of)

SIZES = [("mlp", 28), ("mlp", 8), ("dcgan", 32), ("dcgan", 64), ("dcgan", 128)]
CONDITIONS = [(0, "concat"), (3, "concat"), (3, "projection")]
LABELS = torch.tensor([0, 2, 1, 2])


def small(kind, arch, **options):
    """A narrow net, so every test stays fast."""
    width = {"mlp": 8, "dcgan": 4}[arch]
    if kind == "generator":
        return create_generator(arch, **{"z_dim": 6, "ngf": width, **options})
    return create_discriminator(arch, **{"ndf": width, **options})


def labels_for(n_classes, n=4):
    return LABELS[:n] if n_classes else None


@pytest.mark.parametrize("arch,size", SIZES)
@pytest.mark.parametrize("n_classes,condition", CONDITIONS)
def test_generators_draw_images_that_discriminators_score_one_logit_each(arch, size, n_classes, condition):
    torch.manual_seed(0)
    G = small("generator", arch, out_channels=2, image_size=size, n_classes=n_classes)
    D = small("discriminator", arch, in_channels=2, image_size=size, n_classes=n_classes, condition=condition)
    assert (G.z_dim, G.n_classes, G.image_size, G.out_channels, G.image_shape) == (6, n_classes, size, 2,
                                                                                 (2, size, size))
    labels = labels_for(n_classes)
    images = G(G.sample_z(4), labels)
    assert images.shape == (4, 2, size, size) and images.abs().max() <= 1  # tanh
    logits, features = D(images, labels, return_features=True)
    assert logits.shape == (4,) and features.dim() == 2 and features.shape[0] == 4
    logits.sum().backward()
    assert all(p.grad is not None for p in [*G.parameters(), *D.parameters()])
    with torch.no_grad():  # eval: no dropout, so both ways give the same features
        assert torch.equal(D.eval().features(images, labels), D(images, labels, return_features=True)[1])


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
@pytest.mark.parametrize("condition", ["concat", "projection"])
def test_conditional_nets_use_each_samples_own_label(arch, condition):
    torch.manual_seed(0)
    # eval: batch norm does not mix samples; PyTorch's init: outputs well away from 0, where changes show
    G = small("generator", arch, image_size=32, n_classes=3, init="pytorch").eval()
    D = small("discriminator", arch, image_size=32, n_classes=3, condition=condition, init="pytorch").eval()
    z, other = torch.randn(4, 6), LABELS.clone()
    other[1] = 0  # the second sample's label only
    with torch.no_grad():
        a, b = G(z, LABELS), G(z, other)
        assert torch.equal(a[[0, 2, 3]], b[[0, 2, 3]]) and (a[1] - b[1]).abs().max() > 1e-3
        s, t = D(a, LABELS), D(a, other)
        assert torch.equal(s[[0, 2, 3]], t[[0, 2, 3]]) and (s[1] - t[1]).abs() > 1e-5


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_projection_logit_is_the_unconditional_logit_plus_the_label_embedding_dot_the_features(arch):
    torch.manual_seed(0)
    D = small("discriminator", arch, image_size=16, n_classes=3, condition="projection").eval()
    plain = small("discriminator", arch, image_size=16).eval()  # the same net without labels
    state = D.state_dict()
    embedding = state.pop("head.embed.weight")
    plain.load_state_dict(state)
    x = torch.randn(4, 1 if arch == "mlp" else 3, 16, 16)
    with torch.no_grad():
        h = D.hidden(x, LABELS)
        phi = h.flatten(2).sum(2) if h.dim() == 4 else h  # the features summed over positions
        expected = plain(x) + (embedding[LABELS] * phi).sum(1)
        assert torch.allclose(D(x, LABELS), expected, atol=1e-5)
        assert (expected - plain(x)).abs().min() > 1e-6  # the projection term is really there


def test_labels_are_required_exactly_when_the_net_is_conditional():
    G, D = small("generator", "dcgan", image_size=8), small("discriminator", "dcgan", image_size=8, n_classes=3)
    with pytest.raises(ValueError, match=r"dcgan generator is unconditional \(n_classes=0\) but was given labels"):
        G(torch.randn(2, 6), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="dcgan discriminator is conditional on 3 classes: pass labels"):
        D(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"int64 class indices of shape \(2,\).*one-hot labels: pass labels.argmax"):
        D(torch.randn(2, 3, 8, 8), torch.eye(3)[:2])
    with pytest.raises(ValueError, match=r"takes z of shape \(batch, z_dim=6\), got \(2, 5\)"):
        G(torch.randn(2, 5))
    assert G(torch.randn(2, 6, 1, 1)).shape == (2, 3, 8, 8)  # the DCGAN example's z shape works too
    with pytest.raises(ValueError, match=r"built for images of shape \(3, 8, 8\).*got \(2, 3, 16, 16\)"):
        D(torch.randn(2, 3, 16, 16), torch.tensor([0, 1]))


def test_bad_options_are_refused_with_their_name():
    with pytest.raises(ValueError, match="power of two from 8.*got image_size 48"):
        create_generator("dcgan", image_size=48)
    with pytest.raises(ValueError, match="unknown condition 'hidden'; choose one of concat, projection"):
        create_discriminator("dcgan", condition="hidden")
    with pytest.raises(ValueError, match="mlp nets take norm 'batch' or 'none'"):
        create_discriminator("mlp", norm="instance")
    with pytest.raises(ValueError, match="n_classes must be an integer >= 0"):
        create_generator("mlp", n_classes=-1)
    with pytest.raises(ValueError, match="z_dim must be a positive integer"):
        create_generator("mlp", z_dim=0)


def test_sample_z_is_seeded_and_truncation_bounds_it():
    G = small("generator", "mlp")
    draw = lambda **kw: G.sample_z(500, generator=torch.Generator().manual_seed(3), **kw)  # noqa: E731
    assert torch.equal(draw(), draw()) and draw().shape == (500, 6)
    assert draw().abs().max() > 2 and draw(truncation=0.5).abs().max() <= 0.5


# Parameter counts from the layer shapes. DCGAN: the PyTorch example at nz 100, ngf = ndf 64, nc 3 (bias-free
# convs; batch norm has a scale and a shift per channel). MLP: the classic 100-256-512-1024-784 example.
def _convs(*shapes):
    return sum(a * b * 16 for a, b in shapes)


DCGAN_G = _convs((100, 512), (512, 256), (256, 128), (128, 64), (64, 3)) + 2 * (512 + 256 + 128 + 64)
DCGAN_D = _convs((3, 64), (64, 128), (128, 256), (256, 512), (512, 1)) + 2 * (128 + 256 + 512)
MLP_G = sum(a * b + b for a, b in [(100, 256), (256, 512), (512, 1024), (1024, 784)])
MLP_D = sum(a * b + b for a, b in [(784, 1024), (1024, 512), (512, 256), (256, 1)])


def test_parameter_counts_are_those_of_the_reference_layouts():
    assert (DCGAN_G, DCGAN_D) == (3_576_704, 2_765_568)  # what the PyTorch DCGAN example prints
    assert count_parameters(create_generator("dcgan")) == DCGAN_G
    assert count_parameters(create_discriminator("dcgan")) == DCGAN_D
    assert count_parameters(create_generator("mlp")) == MLP_G == 1_486_352
    assert count_parameters(create_discriminator("mlp")) == MLP_D == 1_460_225


def test_dcgan_layout_grows_one_block_per_doubling_and_keeps_biases_without_batch_norm():
    for size, blocks in ((32, 4), (64, 5), (128, 6)):
        G = create_generator("dcgan", image_size=size)
        convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
        assert len(convs) == blocks and convs[0].out_channels == 64 * 2 ** (blocks - 2)
        D = create_discriminator("dcgan", image_size=size)
        assert sum(isinstance(m, nn.Conv2d) for m in D.modules()) == blocks
    assert all(m.bias is not None for m in create_discriminator("dcgan", norm="none").modules()
               if isinstance(m, nn.Conv2d))


def test_normal_init_is_the_dcgan_papers_n_0_0_02():
    torch.manual_seed(0)
    G = create_generator("dcgan", init="normal", init_gain=0.02)
    assert abs(G.main[3].weight.std().item() - 0.02) < 0.001  # a transposed conv
    assert abs(G.main[1].weight.mean().item() - 1.0) < 0.01 and G.main[1].bias.abs().max() == 0  # batch norm
    bn1d = create_generator("mlp", norm="batch").main[1]
    assert isinstance(bn1d, nn.BatchNorm1d) and 0 < (bn1d.weight - 1).abs().max() < 0.1  # N(1, 0.02) as 2-d


# --- spectral norm, on every discriminator -------------------------------------------------------------
SN_NETS = [(name, dict(in_channels=3, ndf=4, n_layers=2), (3, 32, 32), 0) for name in PATCH_DISCRIMINATORS] + [
    ("stargan", dict(image_size=32, ndf=4, n_labels=2, n_layers=3), (3, 32, 32), 0),
    ("dcgan", dict(image_size=16, ndf=4, n_classes=3, condition="projection", minibatch_discrimination=2),
     (3, 16, 16), 3),
    ("mlp", dict(image_size=8, ndf=8, n_classes=3, minibatch_discrimination=2), (1, 8, 8), 3),
]
WEIGHTED = (nn.modules.conv._ConvNd, nn.Linear, nn.Embedding)


def _sn_net(name, options):
    torch.manual_seed(0)
    return create_discriminator(name, spectral_norm=True, init="normal", init_gain=0.5, **options)


def _inputs(shape, n_classes):
    return (torch.randn(4, *shape),) + ((LABELS,) if n_classes else ())


@pytest.mark.parametrize("name,options,shape,n_classes", SN_NETS)
def test_spectral_norm_bounds_every_layer_of_every_discriminator(name, options, shape, n_classes):
    net = _sn_net(name, options).train()
    layers = [m for m in net.modules() if isinstance(m, WEIGHTED)]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
    for _ in range(20):  # one power iteration per training forward
        net(*_inputs(shape, n_classes))
    for m in layers:
        original = m.parametrizations.weight.original.detach()
        normalised = m.weight.detach()
        if isinstance(m, nn.ConvTranspose2d):
            original, normalised = original.transpose(0, 1), normalised.transpose(0, 1)
        assert abs(torch.linalg.matrix_norm(original.flatten(1), 2) - 1) > 0.2  # the init did not make it 1
        if not isinstance(m, nn.Embedding) and original.numel() >= 100:  # the init ran before the wrapping
            assert abs(original.std() - 0.5) < 0.1
        assert 0.999 < torch.linalg.matrix_norm(normalised.flatten(1), 2) < 1.05


@pytest.mark.parametrize("name,options,shape,n_classes", SN_NETS)
def test_spectrally_normalised_weights_load_back_through_the_spec(name, options, shape, n_classes):
    net = _sn_net(name, options).train()
    net(*_inputs(shape, n_classes))  # move the power iteration's vectors off their initial values
    assert spec_of(net)["kwargs"]["spectral_norm"] is True
    assert any(key.endswith("parametrizations.weight.original") for key in net.state_dict())
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    twin = build_net(spec_of(net))
    twin.load_state_dict(torch.load(buffer, weights_only=True))
    x = _inputs(shape, n_classes)
    with torch.no_grad():
        a, b = net.eval()(*x), twin.eval()(*x)
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        assert torch.equal(u, v)


def test_spectral_norm_is_recorded_for_every_discriminator_and_refused_for_generators():
    assert spec_of(create_discriminator("basic", in_channels=3, ndf=4))["kwargs"]["spectral_norm"] is False
    assert "spectral_norm" not in spec_of(create_generator("dcgan", ngf=4))["kwargs"]
    with pytest.raises(ValueError, match="spectral_norm is a discriminator option"):
        create_generator("dcgan", spectral_norm=True)
    with pytest.raises(ValueError, match="spectral_norm must be True or False"):
        create_discriminator("dcgan", spectral_norm="yes")


# --- minibatch layers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 3, 3)])
def test_minibatch_std_appends_one_channel_holding_the_batch_std(shape):
    x = torch.randn(shape)
    out = MinibatchStdDev(group_size=6)(x)
    assert out.shape == (6, 6, *shape[2:]) and torch.equal(out[:, :5], x)
    std = x.std(dim=0, unbiased=False).mean()
    assert torch.allclose(out[:, 5], std.expand_as(out[:, 5]), atol=1e-6)
    # groups as the official code: sample i in group i mod (n / size); 4 does not divide 6, so groups of 3
    for size, members in ((2, lambda i: [i % 3, i % 3 + 3]), (4, lambda i: [i % 2, i % 2 + 2, i % 2 + 4])):
        grouped = MinibatchStdDev(group_size=size)(x)[:, 5].reshape(6, -1)[:, 0]
        for i in range(6):
            assert torch.allclose(grouped[i], x[members(i)].std(dim=0, unbiased=False).mean(), atol=1e-6)


def test_minibatch_discrimination_scores_closeness_to_the_other_samples():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(5, kernels=3, kernel_dim=2)
    x = torch.randn(4, 5)
    out = layer(x)
    assert out.shape == (4, 8) and torch.equal(out[:, :5], x)
    m = layer.T(x).view(4, 3, 2)
    for i in range(4):
        expected = sum(torch.exp(-(m[i] - m[j]).abs().sum(-1)) for j in range(4) if j != i)
        assert torch.allclose(out[i, 5:], expected, atol=1e-6)
    assert torch.allclose(layer(x[:1].expand(4, 5))[:, 5:], torch.full((4, 3), 3.0))  # identical: n - 1
    assert torch.equal(layer(x[:1])[:, 5:], torch.zeros(1, 3))  # alone: nothing to compare with


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
@pytest.mark.parametrize("option", [{}, {"minibatch_std": True}, {"minibatch_discrimination": 3}])
def test_a_samples_score_depends_on_the_rest_of_the_batch_only_with_a_minibatch_layer(arch, option):
    torch.manual_seed(0)
    D = small("discriminator", arch, image_size=16, norm="none", init="pytorch", **option).eval()
    x = torch.randn(4, 1 if arch == "mlp" else 3, 16, 16)
    y = x.clone()
    y[1:] = torch.randn_like(y[1:])  # the first sample stays, the others change
    with torch.no_grad():
        changed = (D(x)[0] - D(y)[0]).abs().item()
    assert changed > 1e-5 if option else changed == 0
    extra = 1 if option.get("minibatch_std") else option.get("minibatch_discrimination", 0)
    plain = small("discriminator", arch, image_size=16, norm="none")
    assert D.head.final.weight.shape[1] == plain.head.final.weight.shape[1] + extra


@pytest.mark.parametrize("kind,arch", [(k, a) for k in ("generator", "discriminator") for a in ("mlp", "dcgan")])
def test_spec_round_trip_rebuilds_the_noise_nets(kind, arch):
    net = small(kind, arch, image_size=16, n_classes=3, embed_dim=5)
    twin = build_net(spec_of(net))
    assert {k: v.shape for k, v in twin.state_dict().items()} == {k: v.shape for k, v in net.state_dict().items()}
    assert spec_of(net)["kwargs"]["n_classes"] == 3 and spec_of(net)["kwargs"]["embed_dim"] == 5
