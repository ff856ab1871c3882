"""EBGAN: the energy and its margin, the pulling-away term, the auto-encoder discriminators of both archs, the
terms the model logs, what health reads from them, the options it refuses, and train -> sample -> export -> serve
on digits from the command line."""
import warnings
from contextlib import nullcontext
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from translation.cli import main
from translation.config import from_dict
from translation.data.io import decode_image, list_images, read_image
from translation.inference.sampling import load_sampler
from translation.models import CONFIGS, model_class
from translation.models.ebgan import NEAR_ZERO_FRACTION, margin_loss, pulling_away
from translation.nets import build_net, create_discriminator, spec_of
from translation.nets.autoencoder import energy
from translation.training.engine import Engine
from translation.training.health import HealthMonitor, HealthThresholds, TrainingHealth, probe_outputs

from tiny_configs import NOISE, tiny_flags

DIGITS = SimpleNamespace(classes=[str(d) for d in range(10)], channels=1)
W = HealthThresholds().warmup_steps


def tiny(**overrides):
    config = from_dict(CONFIGS["ebgan"], {**NOISE, "device": "cpu", **overrides})  # checked as the CLI checks
    return model_class("ebgan")(config, torch.device("cpu"), DIGITS)


def batch(n=4):
    torch.manual_seed(3)
    return {"image": torch.rand(n, 1, 16, 16) * 2 - 1, "label": torch.tensor([0, 3, 5, 9][:n])}


# --- the energy and the margin -------------------------------------------------------------------------------
def test_the_energy_is_the_l2_norm_of_each_images_reconstruction_error():
    x = torch.zeros(2, 1, 2, 2)
    reconstruction = torch.zeros(2, 1, 2, 2)
    reconstruction[0, 0, 0] = torch.tensor([3.0, 4.0])  # image 0 off by (3, 4): 5; image 1 perfect: 0
    assert torch.equal(energy(x, reconstruction), torch.tensor([5.0, 0.0]))


def test_a_perfect_auto_encoder_gives_energy_0():
    # mlp_ae with one layer each way, both the identity: LeakyReLU passes images in [0, 1] unchanged
    net = create_discriminator("mlp_ae", in_channels=1, image_size=3, ndf=9, n_layers=1)
    with torch.no_grad():
        for layer in (net.main[0], net.decoder[0]):
            layer.weight.copy_(torch.eye(9))
            layer.bias.zero_()
    x = torch.rand(4, 1, 3, 3)
    assert torch.allclose(net(x), torch.zeros(4), atol=1e-6)
    assert torch.allclose(net.reconstruct(x), x, atol=1e-6)
    with torch.no_grad():
        net.decoder[0].bias.fill_(0.5)  # every pixel off by 0.5: sqrt(9 * 0.25) = 1.5
    assert torch.allclose(net(x), torch.full((4,), 1.5))


def test_the_fake_term_is_the_hinge_up_to_the_margin_and_flat_beyond_it():
    beyond = torch.tensor([12.0, 15.0], requires_grad=True)
    loss = margin_loss(beyond, 10.0)
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(beyond.grad, torch.zeros(2))  # no push past the margin
    within = torch.tensor([4.0, 10.0, 13.0], requires_grad=True)
    loss = margin_loss(within, 10.0)
    loss.backward()
    assert loss.item() == pytest.approx(2.0)  # (6 + 0 + 0) / 3
    assert torch.allclose(within.grad, torch.tensor([-1 / 3, 0.0, 0.0]))  # D raises the energy below the margin


# --- the pulling-away term -----------------------------------------------------------------------------------
def test_pulling_away_is_0_for_orthogonal_codes_1_for_identical_ones():
    assert pulling_away(torch.eye(4)).item() == 0.0
    assert pulling_away(torch.tensor([[1.0, 2.0, -1.0]]).repeat(5, 1)).item() == pytest.approx(1.0)
    assert pulling_away(torch.tensor([[1.0, 0.0], [-3.0, 0.0]])).item() == pytest.approx(1.0)  # squared: sign-blind


def test_pulling_away_on_a_hand_computed_example():
    # cos^2: (a, b) 1/2, (a, c) 0, (b, c) 1/2; each pair twice over N (N - 1) = 6 ordered pairs: 2 / 6
    codes = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert pulling_away(codes).item() == pytest.approx(1 / 3)
    assert pulling_away(codes * torch.tensor([[5.0], [0.1], [2.0]])).item() == pytest.approx(1 / 3)  # per-code scale
    # image-shaped codes are flattened; a zero code is orthogonal to the others; one code has no pair
    assert pulling_away(codes.view(3, 2, 1, 1)).item() == pytest.approx(1 / 3)
    assert pulling_away(torch.cat([codes[:2], torch.zeros(1, 2)])).item() == pytest.approx(1 / 6)
    single = torch.ones(1, 3, requires_grad=True)
    term = pulling_away(single)
    term.backward()
    assert term.item() == 0.0 and torch.equal(single.grad, torch.zeros(1, 3))


def test_pulling_away_pushes_similar_codes_apart():
    codes = torch.tensor([[1.0, 0.1], [1.0, -0.1]], requires_grad=True)
    pulling_away(codes).backward()
    step = codes.detach() - 0.1 * codes.grad
    assert pulling_away(step) < pulling_away(codes.detach())


# --- the auto-encoder discriminators -------------------------------------------------------------------------
@pytest.mark.parametrize("arch,size,code", [("mlp", 8, 4), ("dcgan", 16, 16 * 2 * 2)])
def test_the_auto_encoders_give_an_energy_and_a_code_per_image(arch, size, code):
    torch.manual_seed(0)
    x = torch.rand(3, 1, size, size) * 2 - 1
    net = create_discriminator(f"{arch}_ae", in_channels=1, image_size=size, ndf=4, norm="batch").eval()
    energies, codes = net(x, return_codes=True)
    assert energies.shape == (3,) and codes.shape == (3, code) and (energies >= 0).all()
    reconstruction = net.reconstruct(x)
    assert reconstruction.shape == x.shape and torch.allclose(energies, energy(x, reconstruction))
    twin = build_net(spec_of(net))  # what checkpoints store rebuilds it
    twin.load_state_dict(net.state_dict())
    assert torch.equal(twin.eval()(x), energies)
    conditional = create_discriminator(f"{arch}_ae", in_channels=1, image_size=size, ndf=4, n_classes=10)
    assert conditional(x, torch.tensor([1, 2, 3])).shape == (3,)
    with pytest.raises(ValueError, match="conditional on 10 classes: pass labels"):
        conditional(x)
    with pytest.raises(ValueError, match="condition='projection' needs a score head"):
        create_discriminator(f"{arch}_ae", in_channels=1, image_size=size, n_classes=3, condition="projection")


def test_the_dcgan_auto_encoder_is_the_papers_at_64_px():
    net = create_discriminator("dcgan_ae", in_channels=3, image_size=64, ndf=64)
    convs = [m for m in net.main if isinstance(m, nn.Conv2d)]
    deconvs = [m for m in net.decoder if isinstance(m, nn.ConvTranspose2d)]
    # (64)4c2s-(128)4c2s-(256)4c2s, then (128)4c2s-(64)4c2s-(3)4c2s
    assert [m.out_channels for m in convs] == [64, 128, 256] and [m.out_channels for m in deconvs] == [128, 64, 3]
    assert all(m.kernel_size == (4, 4) and m.stride == (2, 2) for m in convs + deconvs)
    with pytest.raises(ValueError, match="image_size must be a multiple of 8"):
        create_discriminator("dcgan_ae", image_size=20)


# --- the model ------------------------------------------------------------------------------------------------
def test_defaults_and_the_combinations_they_refuse():
    config = CONFIGS["ebgan"]()
    assert (config.margin, config.lambda_pt, config.batch_size, config.arch) == (10.0, 0.1, 64, "dcgan")
    for values, flag in [({"gan_mode": "hinge"}, "--gan-mode hinge"), ({"smooth_real": [0.9]}, "--smooth-real"),
                         ({"flip_labels": 0.1}, "--flip-labels"), ({"feature_matching": 1.0}, "--feature-matching"),
                         ({"unrolled_steps": 2}, "--unrolled-steps"), ({"minibatch_std": True}, "--minibatch-std"),
                         ({"minibatch_discrimination": 2}, "--minibatch-discrimination"),
                         ({"conditional": True, "condition": "projection"}, "--condition projection"),
                         ({"arch": "dcgan", "attention": 8}, "--attention 8: ebgan's auto-encoder"),
                         ({"margin": 0.0}, "margin"), ({"lambda_pt": -1.0}, "lambda")]:
        with pytest.raises(ValueError, match=flag):
            from_dict(CONFIGS["ebgan"], values)


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_the_terms_are_the_energies_the_hinge_and_the_pulling_away_term(arch):
    model = tiny(arch=arch, margin=3.0, norm_D="none")
    assert model.net_specs["D"]["name"] == f"{arch}_ae"
    model.nets.eval()  # no dropout or batch statistics: the terms can be recomputed
    out = model.forward(batch())
    d_terms, g_terms = model.loss_D(out), model.loss_G(out)
    real_energy = model.D(out["real"])
    fake_energy, codes = model.D(out["fake"], return_codes=True)
    assert set(d_terms) == {"D_real", "D_fake"} and set(g_terms) == {"G", "G_pt"}
    assert torch.allclose(d_terms["D_real"], real_energy.mean())
    assert torch.allclose(d_terms["D_fake"], (3.0 - fake_energy).clamp(min=0).mean())
    assert torch.allclose(g_terms["G"], fake_energy.mean())
    assert torch.allclose(g_terms["G_pt"], 0.1 * pulling_away(codes))
    assert set(tiny(lambda_pt=0.0).loss_G(out)) == {"G"}  # plain EBGAN


@pytest.mark.parametrize("flags", [
    dict(norm_D="none", lambda_gp=10.0, lambda_r1=1.0, lambda_dragan=1.0, clip=0.5),
    dict(diffaugment=["color", "translation"], instance_noise=0.1, n_critic=2, lr_D=1e-3, optimizer_D="sgd"),
    dict(arch="mlp", spectral_norm=True, conditional=True),
])
def test_the_techniques_of_the_family_combine_with_it(flags):
    model = tiny(**flags)
    engine = Engine(model)
    engine.step(batch(), 0)
    engine.step(batch(), 1)
    means = engine.losses.pop_means()
    assert {"D_real", "D_fake", "G"} <= set(means) and all(np.isfinite(v) for v in means.values())
    if flags.get("clip"):
        assert all(p.abs().max() <= flags["clip"] + 1e-9 for p in model.nets["D"].parameters())


def test_d_learns_to_reconstruct_the_data_and_g_to_lower_the_energy_of_its_samples():
    torch.manual_seed(0)
    model = tiny(arch="mlp", ngf=32, ndf=32, image_size=8, margin=2.0, lr=1e-3)  # no batch norm, no dropout
    data = {"image": batch(8)["image"][:, :, ::2, ::2]}
    engine = Engine(model)
    real_energy = []
    for step in range(40):
        engine.step(data, step)
        real_energy.append(engine.losses.pop_means()["D_real"])
    assert np.mean(real_energy[-5:]) < 0.7 * np.mean(real_energy[:5])  # D's energy falls on the data
    # G's phase alone against this D: each step lowers the energy of the very samples it learned from
    engine.phases = [phase for phase in engine.phases if phase.name == "G"]
    for step in range(40, 45):
        torch.manual_seed(step)  # forward() draws z as below
        z = torch.randn(8, model.config.z_dim)
        with torch.no_grad():
            before = model.D(model.G(z)).mean().item()
        torch.manual_seed(step)
        engine.step(data, step)
        with torch.no_grad():
            assert model.D(model.G(z)).mean().item() < before


# --- health ----------------------------------------------------------------------------------------------------
def test_health_finds_the_adversarial_terms_and_judges_d_on_the_margins_scale():
    model = tiny(margin=10.0)
    engine = Engine(model)
    engine.step(batch(), 0)
    logged = engine.losses.pop_means()
    health = TrainingHealth(model, None, None, nullcontext, 4)
    monitor = health.monitor
    assert monitor.terms == {"D": ["D_real", "D_fake"], "G": ["G"]} and set(logged) >= {"D_real", "D_fake", "G"}
    assert monitor.near_zero == NEAR_ZERO_FRACTION * 10.0 == 0.5 and not monitor.critic
    # energies of 2 with every fake past the margin: a working D (the BCE threshold 0.05 would never fire)
    working = [{"D_real": 2.0, "D_fake": 0.0, "G": 12.0, "G_pt": 0.01}] * 12
    assert [health.losses(W + i, terms) for i, terms in enumerate(working)] == [[]] * 12
    # D reconstructs the data almost perfectly and holds every fake beyond the margin: D has won
    won = [{"D_real": 0.3, "D_fake": 0.0, "G": 15.0, "G_pt": 0.01}] * 10
    said = [line for i, terms in enumerate(won) for line in health.losses(W + 12 + i, terms)]
    assert len(said) == 1 and "D has won: its loss stayed below 0.5" in said[0]
    # G's energy falling steadily while D's loss rises: found among the same terms
    monitor = HealthMonitor("vanilla", model.nets, terms=model.adversarial_terms, near_zero=model.health_near_zero)
    series = [{"D_real": 2.0 + 0.1 * i, "D_fake": 1.0, "G": 9.0 - 0.2 * i, "G_pt": 0.05} for i in range(20)]
    said = [line for i, terms in enumerate(series) for line in monitor.observe(W + i, terms)]
    assert len(said) == 1 and "G's adversarial loss fell steadily" in said[0]
    probes = probe_outputs(model, batch(), chunk_size=4, autocast=nullcontext)
    assert list(probes) == ["fake"] and probes["fake"][0].shape == (4, 1, 16, 16)


# --- the command line: train, sample, export, serve -----------------------------------------------------------
TINY = ["--data", "digits", *tiny_flags("ebgan", batch_size=8), "--steps", "3", "--no-progress"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["train", "ebgan", *TINY, "--margin", "4", "--ema-decay", "0.9", "--checkpoints-dir", str(runs),
                 "--name", "eb"]) == 0
    return runs / "eb"


def test_ebgan_trains_on_digits_and_samples_exports_and_serves(run, tmp_path, capsys):
    from translation.inference.onnx_translator import load_onnx_sampler

    sampler = load_sampler(run)
    assert list(sampler.nets) == ["G"] and sampler.weights == "ema"  # D is no sampler
    assert main(["sample", str(run), str(tmp_path / "out"), "-n", "3", "--seed", "1"]) == 0
    images = [read_image(p) for p in list_images(tmp_path / "out")]
    assert len(images) == 3 and images[0].shape[:2] == (16, 16)
    assert main(["sample", str(run), str(tmp_path / "grid"), "-n", "4", "--grid"]) == 0
    assert read_image(tmp_path / "grid" / "grid.png").shape[:2] == (2 * 16 + 2, 2 * 16 + 2)
    assert main(["export", str(run), "-o", str(tmp_path / "g.onnx")]) == 0
    z = sampler.noise(2, seed=0)
    exported = load_onnx_sampler(tmp_path / "g.onnx")
    expected = sampler.generate(z, None)
    got = exported.generate(z, None)
    assert all(np.abs(a.astype(float) - b.astype(float)).max() <= 1 for a, b in zip(got, expected))

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
        from starlette.testclient import TestClient
    from translation.serve.app import create_app

    with TestClient(create_app([run.parent], device="cpu")) as client:
        listed = {m["id"]: m for m in client.get("/api/models").json()["models"]}
        assert listed["eb"]["kind"] == "sample"
        response = client.post("/api/sample?model=eb&n=4&seed=2")
        assert response.status_code == 200 and decode_image(response.content).shape[:2] == (2 * 16 + 2, 2 * 16 + 2)

