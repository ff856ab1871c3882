"""BigGAN (models/biggan.py, nets/biggan.py): the reference's parameter counts, its conditioning, hierarchical z,
orthogonal regularization and options; a run through the command line that samples and exports."""
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from translation.cli import main
from translation.config import from_dict
from translation.inference.sampling import load_sampler
from translation.losses import orthogonal_regularization
from translation.models import CONFIGS, model_class
from translation.nets import count_parameters, create_discriminator, create_generator
from translation.nets.attention import SelfAttention
from translation.nets.biggan import SN_EPS
from translation.utils.device import seed_everything

from tiny_configs import class_folders, tiny_config, tiny_flags

# Parameters of BigGAN-PyTorch's BigGAN.Generator / Discriminator (RGB, 10 classes), counted with its own code:
# (image size, ch, shared_dim (0: G_shared=False), hier, z, attention) -> count. Its Generator class defaults to
# G_shared with shared_dim = dim_z = 128 (the first two rows); the CIFAR script, to per-layer embeddings.
REFERENCE_G = [((32, 64, 128, False, 128, 0), 4_668_163), ((32, 32, 128, False, 128, 0), 1_400_835),
               ((32, 64, 0, False, 128, 0), 4_304_387), ((32, 32, 0, False, 128, 0), 1_218_307),
               ((32, 64, 128, False, 128, 32), 4_750_084), ((64, 32, 64, True, 120, 0), 8_102_147)]
REFERENCE_D = [((32, 64, 0), 4_207_361), ((32, 32, 0), 1_055_105), ((64, 32, 32), 4_894_306)]


@pytest.mark.parametrize("options,expected", REFERENCE_G)
def test_generator_has_the_references_parameter_count(options, expected):
    size, ch, shared, hier, z, attention = options
    net = create_generator("biggan", init="pytorch", weight_init="pytorch", image_size=size, ch=ch, n_classes=10,
                           shared_dim=shared, hier=hier, z_dim=z, attention=attention)
    assert count_parameters(net) == expected


@pytest.mark.parametrize("options,expected", REFERENCE_D)
def test_discriminator_has_the_references_parameter_count(options, expected):
    size, ch, attention = options
    net = create_discriminator("biggan", init="pytorch", weight_init="pytorch", image_size=size, ch=ch, n_classes=10,
                               attention=attention)
    assert count_parameters(net) == expected


def test_spectral_norm_everywhere_but_gs_embeddings_and_the_weights_as_initialised():
    torch.manual_seed(0)
    g = create_generator("biggan", init="pytorch", ch=2, n_classes=3, z_dim=8, attention=16)
    d = create_discriminator("biggan", init="pytorch", ch=2, n_classes=3, attention=16)
    for net in (g, d):
        layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
        assert all(m.parametrizations.weight[0].eps == SN_EPS for m in layers)
        # N(0, 0.02) weights (the CIFAR script's N02), read through the parametrization
        originals = torch.cat([m.parametrizations.weight.original.flatten() for m in layers])
        assert abs(originals.std().item() - 0.02) < 0.004
    g_embeddings = [m for m in g.modules() if isinstance(m, nn.Embedding)]
    assert len(g_embeddings) == 12 and not any(parametrize.is_parametrized(m, "weight") for m in g_embeddings)
    assert parametrize.is_parametrized(d.head.embed, "weight")  # the projection, as SNEmbedding
    assert sum(isinstance(m, SelfAttention) for m in g.modules()) == sum(isinstance(m, SelfAttention)
                                                                         for m in d.modules()) == 1


def test_hierarchical_z_gives_each_block_its_own_chunk_beside_the_shared_embedding():
    torch.manual_seed(0)
    g = create_generator("biggan", init="pytorch", ch=2, n_classes=3, z_dim=12, shared_dim=5, hier=True)
    seen = {}
    g.linear.register_forward_pre_hook(lambda module, inputs: seen.__setitem__("linear", inputs[0]))
    for i, block in enumerate(g.blocks):
        block.register_forward_pre_hook(lambda module, inputs, i=i: seen.__setitem__(i, inputs[1]))
    z, labels = torch.randn(4, 12), torch.tensor([0, 1, 2, 1])
    g(z, labels)
    chunks = z.split(3, dim=1)  # 3 blocks at 32 px: 4 chunks of 3
    assert torch.equal(seen["linear"], chunks[0])
    code = g.embed(labels)
    for i in range(3):
        assert torch.equal(seen[i], torch.cat([code, chunks[i + 1]], 1))
    assert g.blocks[0].bn1.gain.in_features == 5 + 3  # each cBN maps shared code + chunk
    with pytest.raises(ValueError, match="z_dim must be a multiple of 4"):
        create_generator("biggan", init="pytorch", ch=2, n_classes=3, z_dim=10, shared_dim=5, hier=True)


def test_per_layer_embeddings_condition_each_batch_norm_on_the_class():
    torch.manual_seed(0)
    g = create_generator("biggan", init="pytorch", ch=2, n_classes=3, z_dim=8).eval()
    assert g.embed is None and g.blocks[0].bn1.gain.num_embeddings == 3
    z = torch.randn(1, 8).repeat(3, 1)
    images = g(z, torch.tensor([0, 1, 2]))
    assert images.shape == (3, 3, 32, 32) and images.abs().max() <= 1
    assert not torch.allclose(images[0], images[1])  # the same z, another class
    with pytest.raises(ValueError, match="conditional on 3 classes: pass labels"):
        g(z)


def test_orthogonal_regularization_is_zero_for_orthogonal_rows_and_half_the_squared_off_diagonal():
    q, _ = torch.linalg.qr(torch.randn(6, 6))
    assert orthogonal_regularization([q, q * torch.arange(1.0, 7.0)[:, None]]).item() == pytest.approx(0, abs=1e-9)
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # W W^T = [[5, 11], [11, 25]]: 1/2 (11^2 + 11^2)
    assert orthogonal_regularization([w, torch.ones(5)]).item() == pytest.approx(121.0)
    # its gradient is the one BigGAN-PyTorch's utils.ortho adds: 2 (W W^T * (1 - I)) W, W as (out, rest)
    conv = torch.randn(4, 3, 3, 3, requires_grad=True)
    orthogonal_regularization([conv]).backward()
    flat = conv.detach().flatten(1)
    expected = 2 * (flat @ flat.t() * (1 - torch.eye(4))) @ flat
    assert torch.allclose(conv.grad.flatten(1), expected, atol=1e-5)


def test_the_g_phase_adds_ortho_on_gs_weights_but_the_shared_embedding(tmp_path):
    config = tiny_config("biggan", class_folders(tmp_path / "data"), tmp_path, lambda_ortho=0.5)
    cls = model_class("biggan")
    model = cls(config, torch.device("cpu"), cls.build_dataset(config))
    weights = model.ortho_weights()
    g = model.nets["G"]
    assert all(w is not g.embed.weight for w in weights) and len(weights) == sum(
        p.dim() >= 2 for p in g.parameters()) - 1
    seed_everything(0)
    batch = {"image": torch.rand(2, model.channels, 32, 32) * 2 - 1, "label": torch.tensor([0, 1])}
    terms = model.loss_G(model.forward(batch))
    assert set(terms) == {"G", "G_ortho"}
    assert terms["G_ortho"].item() == pytest.approx(0.5 * orthogonal_regularization(weights).item())
    assert set(model.loss_D(model.forward(batch))) == {"D_real", "D_fake"}


def test_defaults_are_the_cifar_scripts_and_the_options_are_checked():
    c = CONFIGS["biggan"](data="digits")
    assert (c.gan_mode, c.n_critic, c.lr, c.lr_D, c.beta1, c.beta2, c.batch_size, c.z_dim) == (
        "hinge", 4, 2e-4, None, 0.0, 0.999, 50, 128)
    assert (c.ema_decay, c.init, c.init_gain, c.attention, c.lambda_ortho, c.shared_dim, c.conditional) == (
        0.9999, "normal", 0.02, 0, 0.0, 0, True)
    bad = [(dict(hier=True), "--hier joins each chunk of z to the shared class embedding"),
           (dict(hier=True, shared_dim=16, z_dim=10), "--z-dim must be a multiple of 4"),
           (dict(attention=4), "--attention 4: at 32 px biggan's G has feature maps of 8, 16, 32 px and its D of "
                               "16, 8 px"),
           (dict(image_size=16), "--image-size 16: biggan has"), (dict(arch="dcgan"), "--arch dcgan: biggan trains"),
           (dict(spectral_norm=False), "--no-spectral-norm"), (dict(condition="concat"), "--condition concat"),
           (dict(init="kaiming"), "--init kaiming: biggan initialises as BigGAN-PyTorch")]
    for options, message in bad:
        with pytest.raises(ValueError, match=message):
            from_dict(CONFIGS["biggan"], dict(data="digits", **options))
    with pytest.raises(ValueError, match="--arch biggan: BigGAN's nets train with `translation train biggan`"):
        from_dict(CONFIGS["sngan"], dict(data="digits", arch="biggan"))


def test_train_sample_and_export_through_the_command_line(tmp_path):
    """ONNX export takes tens of seconds on a small CPU (torch.export): test_export.py covers it for noise
    generators; here TorchScript, which shares the export path up to the writer."""
    data = class_folders(tmp_path / "data")
    runs = tmp_path / "runs"
    flags = tiny_flags("biggan", shared_dim=0, hier=False, attention=32)  # per-layer embeddings, attention in G
    assert main(["train", "biggan", "--data", data, "--checkpoints-dir", str(runs), "--name", "b", "--steps", "2",
                 "--ema-decay", "0.9", *flags]) == 0
    run = runs / "b"
    assert main(["sample", str(run), str(tmp_path / "grid"), "-n", "4", "--grid", "--label", "light",
                 "--truncation", "0.5"]) == 0
    assert (tmp_path / "grid" / "grid.png").is_file()
    scripted = tmp_path / "g.ts"
    assert main(["export", str(run), "--format", "torchscript", "-o", str(scripted)]) == 0
    sampler = load_sampler(run)
    assert sampler.weights == "ema" and sampler.classes == ["dark", "light"]
    z, labels = sampler.noise(3, seed=1, truncation=0.5), torch.tensor([1, 0, 1])
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(scripted))(z, labels), sampler.net(z, labels), atol=1e-5)


def test_an_unconditional_biggan_has_plain_batch_norm_or_z_chunks_and_no_projection():
    torch.manual_seed(0)
    plain = create_generator("biggan", init="pytorch", ch=2, z_dim=8)
    assert not any(isinstance(m, nn.Embedding) for m in plain.modules())
    assert isinstance(plain.blocks[0].bn1.norm, nn.BatchNorm2d) and plain.blocks[0].bn1.norm.affine
    hier = create_generator("biggan", init="pytorch", ch=2, z_dim=8, hier=True)
    assert hier.blocks[0].bn1.gain.in_features == 2  # its own chunk of z alone
    d = create_discriminator("biggan", init="pytorch", ch=2)
    assert d.head.embed is None
    for g in (plain, hier):
        assert d(g(torch.randn(3, 8))).shape == (3,)
