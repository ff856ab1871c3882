"""pix2pixHD's losses, usable by any image model: the GAN loss over a multi-scale D's output, discriminator
feature matching with the official weights, and the VGG19 perceptual loss on a random VGG19 saved in the real
file's format (torchvision's keys, its legacy serialisation); the weights file's lookup, check and download
(from a local HTTP server on 127.0.0.1)."""
import hashlib
import os

import pytest
import torch
import torch.nn.functional as F
import torchvision

from translation.losses import MultiScale, VGGLoss, adversarial_loss, feature_matching_loss
from translation.losses.vgg import TAPS
from translation.nets import create_discriminator, create_generator
from translation.utils import vgg_weights
from translation.utils.vgg_weights import VGGWeightsError, VGGWeightsNotFound

from test_download import cli, server  # noqa: F401  (server: the local HTTP server fixture on 127.0.0.1)


# --------------------------------------------------------------------------- GAN loss on a multi-scale D

def _scales(*scores, layers=2):
    """A multi-scale D's output whose scales end in the given constant scores, after random 'features'."""
    return [[torch.randn(1, 4, 3, 3) for _ in range(layers)] + [torch.full((1, 1, 2, 2), float(s))]
            for s in scores]


def test_gan_loss_sums_each_scales_scores():
    loss = adversarial_loss("lsgan", multiscale=True)
    assert isinstance(loss, MultiScale) and loss.has_targets and not loss.relativistic
    real_term, fake_term = loss.discriminator(_scales(1.0, 0.5), _scales(0.0, 0.5))
    # LSGAN: real (1-1)^2 + (0.5-1)^2, fake 0^2 + 0.5^2, summed over scales as the official GANLoss
    assert real_term.item() == pytest.approx(0.25) and fake_term.item() == pytest.approx(0.25)
    assert loss.generator(_scales(0.0, 0.5)).item() == pytest.approx(1.25)
    plain = adversarial_loss("lsgan")
    one = torch.randn(2, 1, 5, 5)
    assert torch.equal(loss.generator(one), plain.generator(one))  # a single-scale D's tensor passes through
    relativistic = adversarial_loss("ragan", multiscale=True)
    assert relativistic.relativistic and not adversarial_loss("hinge", multiscale=True).has_targets
    assert relativistic.generator(_scales(0.0, 1.0), _scales(1.0, 0.0)).item() > 0
    with pytest.raises(ValueError):  # scales that do not pair up
        loss.discriminator(_scales(1.0, 0.5), _scales(0.0))


def test_gan_loss_trains_a_real_multiscale_discriminator():
    torch.manual_seed(0)
    d = create_discriminator("multiscale", in_channels=3, ndf=4, num_D=2)
    loss = adversarial_loss("vanilla", multiscale=True)
    real_term, fake_term = loss.discriminator(d(torch.randn(2, 3, 32, 32)), d(torch.randn(2, 3, 32, 32)))
    (real_term + fake_term).backward()
    assert all(p.grad is not None for p in d.parameters())  # every scale's D gets its own term


# --------------------------------------------------------------------------- feature matching

def test_feature_matching_is_zero_for_identical_features_and_positive_otherwise():
    torch.manual_seed(0)
    d = create_discriminator("multiscale", in_channels=3, ndf=4, num_D=3, n_layers=2)
    real = torch.randn(1, 3, 32, 48)
    assert feature_matching_loss(d(real), d(real.clone())).item() == 0.0
    fake = (real + 0.1 * torch.randn_like(real)).requires_grad_()
    real.requires_grad_()
    loss = feature_matching_loss(d(fake), d(real))
    assert loss.item() > 0
    loss.backward()
    assert fake.grad.abs().sum() > 0 and real.grad is None  # the real features are detached


def test_feature_matching_weights_are_the_officials():
    # two scales of a D with n_layers = 1: two feature maps and the scores per scale; fake = real + c per layer
    real = [[torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 2, 2), torch.zeros(1, 1, 2, 2)] for _ in range(2)]
    offsets = [[0.5, 1.0, 100.0], [2.0, -3.0, -100.0]]  # the scores' offsets (100) must not count
    fake = [[r + c for r, c in zip(scale, cs, strict=True)] for scale, cs in zip(real, offsets, strict=True)]
    # lambda_feat 10 x per layer 4 / (n_layers + 1) = 2 x per scale 1 / num_D = 1/2 x L1 = |c|
    expected = 10 * 2 * 0.5 * (0.5 + 1.0 + 2.0 + 3.0)
    assert feature_matching_loss(fake, real).item() == pytest.approx(expected)
    assert feature_matching_loss(fake, real, lambda_feat=1.0).item() == pytest.approx(expected / 10)
    with pytest.raises(ValueError, match="same scales for fake and real, got 2 and 1"):
        feature_matching_loss(fake, real[:1])
    with pytest.raises(ValueError, match="each scale's list of layer outputs"):
        feature_matching_loss([torch.zeros(1)], [torch.zeros(1)])


# --------------------------------------------------------------------------- the VGG19 loss

@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    """Random VGG19 feature weights under torchvision's keys (features.N.weight/bias), saved in the legacy
    format its 2017 file has, named vgg19-<first 8 digits of its SHA-256>.pth as hub files are. The file's
    classifier tensors (480 MB) are left out: the loss never reads them."""
    torch.manual_seed(0)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in torchvision.models.vgg19(weights=None).state_dict().items()
                  if k.startswith("features.")}
    state = {}
    for key, shape in shapes.items():  # He-scaled, so activations stay alive through 13 convs
        fan_in = shape[1:].numel() if len(shape) > 1 else 1
        state[key] = torch.randn(shape) * (2 / fan_in) ** 0.5 if len(shape) > 1 else torch.randn(shape) * 0.01
    folder = tmp_path_factory.mktemp("vgg")
    path = folder / "vgg19-unnamed.pth"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    named = folder / f"vgg19-{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}.pth"
    path.rename(named)
    return named


@pytest.fixture(scope="module")
def vgg_loss(vgg_file):
    return VGGLoss(vgg_file)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert torch.hub.get_dir().startswith(str(tmp_path))  # nothing has fixed the hub dir elsewhere
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_vgg_loss_reads_the_official_taps_with_the_official_weights(vgg_file, vgg_loss):
    reference = torchvision.models.vgg19(weights=None, init_weights=False).features.eval()
    state = torch.load(vgg_file, weights_only=True)
    reference.load_state_dict({k[len("features."):]: v for k, v in state.items()})
    # the official Vgg19's slices: [0, 2), [2, 7), [7, 12), [12, 21), [21, 30)
    slices = [reference[a:b] for a, b in ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30))]
    torch.manual_seed(1)
    fake, real = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    expected, x, y = 0.0, fake, real
    with torch.no_grad():
        for weight, block in zip((1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0), slices, strict=True):
            x, y = block(x), block(y)
            expected += weight * F.l1_loss(x, y).item()
        got = vgg_loss(fake, real).item()
    assert got == pytest.approx(expected, rel=1e-5) and got > 0
    assert TAPS == (1, 6, 11, 20, 29) and not any(p.requires_grad for p in vgg_loss.parameters())


def test_vgg_loss_gradient_reaches_the_generator(vgg_loss):
    torch.manual_seed(0)
    g = create_generator("global", ngf=2, n_downsample_global=2, n_blocks_global=1, init_gain=0.3)
    source, target = torch.randn(1, 3, 32, 32), (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_()
    fake = g(source)
    loss = vgg_loss(fake, target)
    loss.backward()
    assert loss.item() > 0 and all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
    assert target.grad is None and all(p.grad is None for p in vgg_loss.parameters())  # the target side is fixed
    target = target.detach()
    assert vgg_loss(target, target).item() == 0.0
    gray = vgg_loss(fake.detach()[:, :1], target[:, :1])  # one channel goes in as RGB
    assert gray.item() > 0
    with pytest.raises(ValueError, match="RGB \\(or gray\\) images, got 2 channels"):
        vgg_loss(fake[:, :2], target[:, :2])


def test_missing_weights_name_the_file_and_the_download(empty_hub):
    with pytest.raises(VGGWeightsNotFound) as error:
        VGGLoss()
    message = str(error.value)
    for needed in (vgg_weights.FILE_NAME, str(empty_hub / vgg_weights.FILE_NAME), vgg_weights.URL,
                   "translation download vgg19-weights"):
        assert needed in message, needed
    with pytest.raises(VGGWeightsNotFound, match="VGG19 weights .*missing.pth: no such file"):
        VGGLoss(empty_hub / "missing.pth")


def test_weights_are_found_in_the_hub_cache(vgg_file, empty_hub, monkeypatch):
    monkeypatch.setattr(vgg_weights, "FILE_NAME", vgg_file.name)
    empty_hub.mkdir(parents=True)
    os.link(vgg_file, empty_hub / vgg_file.name)
    assert vgg_weights.find_vgg19_weights() == empty_hub / vgg_file.name
    assert VGGLoss().features[0].weight.shape == (64, 3, 3, 3)


def test_damaged_or_foreign_files_are_refused(vgg_file, tmp_path):
    damaged = tmp_path / "vgg19-dcbbe1a8.pth"
    damaged.write_bytes(vgg_file.read_bytes()[:1000])
    with pytest.raises(VGGWeightsError, match="but the name says dcbbe1a8: the file is damaged"):
        VGGLoss(damaged)
    foreign = tmp_path / "other.pth"
    torch.save(create_discriminator("basic", in_channels=3, ndf=4).state_dict(), foreign)
    with pytest.raises(VGGWeightsError, match="not torchvision's VGG19 weights file: 26 of its 26 feature tensors"):
        VGGLoss(foreign)
    state = torch.load(vgg_file, weights_only=True)
    state["features.28.weight"] = state["features.28.weight"][:, :256]
    torch.save(state, tmp_path / "narrow.pth")
    with pytest.raises(VGGWeightsError, match=r"features.28.weight has shape \(512, 256, 3, 3\), VGG19's is "
                                              r"\(512, 512, 3, 3\)"):
        VGGLoss(tmp_path / "narrow.pth")
    (tmp_path / "text.pth").write_text("not a weights file")
    with pytest.raises(VGGWeightsError, match="could not be read as a PyTorch weights file"):
        VGGLoss(tmp_path / "text.pth")


def test_download_into_the_hub_cache_checks_the_digest(empty_hub, server, monkeypatch, capsys):  # noqa: F811
    data = os.urandom(300_000)  # stands in for the 548 MB file: the download does not read it as weights
    digest = hashlib.sha256(data).hexdigest()
    monkeypatch.setattr(vgg_weights, "FILE_NAME", f"vgg19-{digest[:8]}.pth")
    monkeypatch.setattr(vgg_weights, "SHA256", digest[:8])  # what the name promises, as torchvision checks
    monkeypatch.setattr("translation.data.download.time.sleep", lambda seconds: None)
    server.files["/vgg.pth"], server.files["/bad.pth"] = data, data[:-1] + b"x"
    server.drop["/vgg.pth"] = 1  # cut half-way: resumed
    assert cli("vgg19-weights", "--url", server.url("/vgg.pth")) == 0
    hub = empty_hub / vgg_weights.FILE_NAME
    assert hub.read_bytes() == data and digest in capsys.readouterr().out
    assert vgg_weights.find_vgg19_weights() == hub and sorted(empty_hub.iterdir()) == [hub]
    assert cli("vgg19-weights", "--url", server.url("/vgg.pth")) == 0
    assert "already present" in capsys.readouterr().out
    assert cli("vgg19-weights", "--sha256", "0" * 64) == 1  # not a digest the name allows
    assert "names another file" in capsys.readouterr().err

    hub.unlink()
    assert cli("vgg19-weights", "--url", server.url("/bad.pth")) == 1
    assert f"does not start with {digest[:8]}" in capsys.readouterr().err
    assert not list(empty_hub.iterdir())  # nothing left under any name
    assert cli("vgg19-weights", "--url", server.url("/bad.pth"), "--sha256", digest) == 1  # whole digest
    assert "SHA-256" in capsys.readouterr().err and not list(empty_hub.iterdir())


def test_download_is_listed(capsys):
    assert cli("--list") == 0
    assert "vgg19-weights" in capsys.readouterr().out
