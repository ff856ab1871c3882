"""MAD-GAN and MRGAN: the (k+1)-way discriminator, each generator's loss, MAD-GAN-Sim's diversity term, MRGAN's
manifold and diffusion steps, the techniques they take or refuse, n_outputs discriminators, and train + sample."""
import copy
from contextlib import nullcontext
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from translation.cli import main
from translation.config import from_dict
from translation.data.io import list_images, read_image
from translation.inference.sampling import load_sampler
from translation.models import CONFIGS, model_class
from translation.models.madgan import MARGIN, diversity, real_logit
from translation.nets import build_net, create_discriminator, spec_of
from translation.training.engine import Engine
from translation.training.health import adversarial_terms, probe_outputs

from tiny_configs import NOISE, tiny_flags

DIGITS = SimpleNamespace(classes=[str(d) for d in range(10)], channels=1)


def tiny(name, **overrides):
    values = dict(NOISE, device="cpu")
    values.update(overrides)
    config = from_dict(CONFIGS[name], values)  # from_dict runs check_combinations, as the command line does
    return model_class(name)(config, torch.device("cpu"), DIGITS)


def batch(n=4):
    torch.manual_seed(3)
    return {"image": torch.rand(n, 1, 16, 16) * 2 - 1, "label": torch.tensor([0, 3, 5, 9][:n])}


def parameters(model):
    return {key: [p.detach().clone() for p in net.parameters()] for key, net in model.nets.items()}


def changed(before, model):
    return {key for key, net in model.nets.items()
            if any(not torch.equal(p, q) for p, q in zip(net.parameters(), before[key]))}


# --- configs -------------------------------------------------------------------------------------------------
def test_defaults_and_the_combinations_they_refuse():
    madgan, mrgan = CONFIGS["madgan"](), CONFIGS["mrgan"]()
    assert (madgan.generators, madgan.lambda_diversity, madgan.batch_size, madgan.arch) == (4, 0.0, 128, "dcgan")
    assert (mrgan.lambda_geometric, mrgan.batch_size, mrgan.gan_mode) == (0.2, 128, "vanilla")
    for values, flag in [({"gan_mode": "lsgan"}, "--gan-mode lsgan"), ({"smooth_real": [0.9]}, "--smooth-real"),
                         ({"flip_labels": 0.1}, "--flip-labels"),
                         ({"conditional": True, "condition": "projection"}, "--condition projection"),
                         ({"unrolled_steps": 2}, "--unrolled-steps")]:
        with pytest.raises(ValueError, match=flag):
            from_dict(CONFIGS["madgan"], values)
    with pytest.raises(ValueError, match="generators"):
        from_dict(CONFIGS["madgan"], {"generators": 1})


# --- nets: n_outputs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch,size", [("mlp", 8), ("dcgan", 16)])
def test_discriminators_give_n_outputs_scores_per_image(arch, size):
    torch.manual_seed(0)
    x = torch.rand(3, 1, size, size)
    one = create_discriminator(arch, in_channels=1, image_size=size, ndf=4)
    many = create_discriminator(arch, in_channels=1, image_size=size, ndf=4, n_outputs=5, minibatch_std=True)
    assert one(x).shape == (3,) and many(x).shape == (3, 5)
    logits, features = many(x, return_features=True)
    assert logits.shape == (3, 5) and features.shape[0] == 3
    twin = build_net(spec_of(many))  # recorded in the spec, so checkpoints rebuild it
    twin.load_state_dict(many.state_dict())
    assert spec_of(many)["kwargs"]["n_outputs"] == 5 and torch.equal(twin.eval()(x), many.eval()(x))
    with pytest.raises(ValueError, match="n_outputs=5 needs condition='concat'"):
        create_discriminator(arch, in_channels=1, image_size=size, n_classes=3, condition="projection", n_outputs=5)


# --- MAD-GAN -------------------------------------------------------------------------------------------------
def test_madgan_builds_k_generators_and_a_k_plus_1_way_discriminator():
    model = tiny("madgan", generators=3)
    assert list(model.generators()) == ["G0", "G1", "G2"] and model.generators()["G1"]["task"] == "sample"
    assert model.D(torch.zeros(2, 1, 16, 16)).shape == (2, 4)
    assert model.optimizers()["G"].nets == ("G0", "G1", "G2")
    assert [(p.name, p.nets) for p in model.phases()] == [("D", ("D",)), ("G", ("G0", "G1", "G2"))]
    out = model.forward(batch())
    assert out["fakes"].shape == (3, 4, 1, 16, 16) and torch.equal(out["fake"][4:8], out["fakes"][1])
    assert list(model.visuals(out)) == ["real", "G0", "G1", "G2"]


def test_madgan_d_learns_which_generator_made_each_sample_or_that_it_is_real():
    model, k = tiny("madgan", generators=3), 3
    torch.manual_seed(1)
    out = model.forward(batch())
    terms = model.loss_D(out)
    logits_real = model.D(out["real"])
    logits_fake = torch.cat([model.D(fakes) for fakes in out["fakes"]])  # one batch per generator, as real's
    targets = torch.tensor([3] * 4 + [0] * 4 + [1] * 4 + [2] * 4)  # real = class k, G_i's samples class i
    mixture = F.cross_entropy(torch.cat([logits_real, logits_fake]), targets)  # the k + 1 sources alike
    assert (terms["D_real"] + terms["D_fake"]).item() == pytest.approx(mixture.item(), rel=1e-5)
    assert terms["D_real"].item() * (k + 1) == pytest.approx(F.cross_entropy(logits_real, targets[:4]).item(),
                                                             rel=1e-5)


@pytest.mark.parametrize("gan_mode", ["vanilla", "minimax"])
def test_each_generators_loss_is_its_own_be_classified_real_term(gan_mode):
    model = tiny("madgan", generators=3, gan_mode=gan_mode)
    torch.manual_seed(1)
    out = model.forward(batch())
    terms = model.loss_G(out)
    real_prob = torch.stack([model.D(fakes).softmax(1)[:, 3] for fakes in out["fakes"]])
    for i in range(3):
        expected = -real_prob[i].log().mean() if gan_mode == "vanilla" else (1 - real_prob[i]).log().mean()
        assert terms[f"G{i}"].item() == pytest.approx(expected.item(), rel=1e-4)
    logits = torch.randn(5, 4)
    assert torch.allclose(real_logit(logits).sigmoid(), logits.softmax(1)[:, -1], atol=1e-6)
    model.loss_G(out)["G1"].backward()  # G1's term moves G1 only
    grads = {key: any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.nets[key].parameters())
             for key in model.keys}
    assert grads == {"G0": False, "G1": True, "G2": False}


def test_diversity_term_is_largest_when_the_generators_agree():
    k, n = 3, 5
    same = torch.randn(1, n, 7).expand(k, n, 7)
    assert torch.allclose(diversity(torch.full((k, n), 0.4), same), torch.full((k,), MARGIN))  # margin unmet
    orthogonal = torch.eye(k)[:, None, :].expand(k, n, k)  # cosine 0: no margin to meet
    assert torch.equal(diversity(torch.full((k, n), 0.4), orthogonal), torch.zeros(k))

    model = tiny("madgan", generators=k, lambda_diversity=2.0)
    data = batch()
    torch.manual_seed(1)
    differ = model.loss_G(model.forward(data))["G_diversity"]
    for key in ("G1", "G2"):  # now all three generators draw the same images
        model.nets[key].load_state_dict(model.nets["G0"].state_dict())
    torch.manual_seed(1)
    agree = model.loss_G(model.forward(data))["G_diversity"]
    assert agree.item() == pytest.approx(2.0 * k * MARGIN, rel=1e-4) and differ < agree
    assert "G_diversity" not in tiny("madgan").loss_G(model.forward(data))  # 0 = off


# --- MRGAN ---------------------------------------------------------------------------------------------------
def test_mrgan_phases_each_train_their_declared_nets():
    model = tiny("mrgan")
    assert model.E(torch.zeros(2, 1, 16, 16)).shape == (2, 8)  # an encoder to z
    phases = model.phases()
    assert [(p.name, p.nets) for p in phases] == [("D_M", ("D_M",)), ("manifold", ("G", "E")), ("D", ("D",)),
                                                  ("G", ("G",))]
    for phase in phases:  # each phase alone, on its own copy
        alone = copy.deepcopy(model)
        alone.phases = lambda alone=alone, name=phase.name: [p for p in type(alone).phases(alone) if p.name == name]
        engine, before = Engine(alone), parameters(alone)
        engine.step(batch(), 0)
        assert changed(before, alone) == set(phase.nets), phase.name
    whole, before = Engine(model), parameters(model)
    whole.step(batch(), 0)
    assert changed(before, model) == {"G", "E", "D", "D_M"}


def test_mrgan_regularizer_and_what_each_discriminator_sees():
    model = tiny("mrgan", lambda_geometric=0.7)
    torch.manual_seed(1)
    out = model.forward(batch())
    x, G, E = out["real"], model.nets["G"], model.nets["E"]
    recon = G(E(x))
    terms = model.loss_manifold(out)
    distance = ((x - recon) ** 2).sum((1, 2, 3))  # ||x - G(E(x))||^2 per image
    assert terms["G_geometric"].item() == pytest.approx(0.7 * distance.mean().item(), rel=1e-5)
    assert terms["G_manifold"].item() == pytest.approx(
        F.binary_cross_entropy_with_logits(model.D_M(recon), torch.ones(4)).item(), rel=1e-5)
    d_m = model.loss_D_M(out)  # the manifold step's D_M: x real, G(E(x)) fake
    assert d_m["D_M_real"].item() == pytest.approx(
        F.binary_cross_entropy_with_logits(model.D_M(x), torch.ones(4)).item(), rel=1e-5)
    d = model.loss_D(out)  # the diffusion step's D: G(E(x)) "real", G(z) fake
    assert d["D_real"].item() == pytest.approx(
        F.binary_cross_entropy_with_logits(model.D(recon), torch.ones(4)).item(), rel=1e-5)
    assert d["D_fake"].item() == pytest.approx(
        F.binary_cross_entropy_with_logits(model.D(G(out["z"])), torch.zeros(4)).item(), rel=1e-5)


# --- both ------------------------------------------------------------------------------------------------
def test_the_models_never_call_backward_or_step(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model called backward or an optimizer step")

    monkeypatch.setattr(torch.Tensor, "backward", refuse)
    monkeypatch.setattr(torch.autograd, "backward", refuse)
    monkeypatch.setattr(torch.optim.Optimizer, "step", refuse)
    monkeypatch.setattr(torch.optim.Optimizer, "zero_grad", refuse)
    for model in (tiny("madgan", lambda_diversity=1.0, lambda_gp=1.0, norm_D="none"),
                  tiny("mrgan", lambda_r1=1.0, feature_matching=1.0)):
        out = model.forward(batch())
        for phase in model.phases():
            assert all(torch.isfinite(term) for term in phase.loss(out).values())


@pytest.mark.parametrize("name,flags", [
    ("madgan", dict(norm_D="none", lambda_gp=10.0, lambda_r1=1.0, lambda_dragan=1.0, clip=0.5)),
    ("madgan", dict(feature_matching=1.0, diffaugment=["color", "translation"], instance_noise=0.1,
                    lambda_diversity=1.0)),
    ("madgan", dict(arch="mlp", minibatch_std=True, minibatch_discrimination=2, spectral_norm=True)),
    ("madgan", dict(conditional=True, n_critic=2, optimizer_D="sgd", lr_D=1e-3, gan_mode="minimax")),
    ("mrgan", dict(gan_mode="hinge", norm_D="none", lambda_gp=1.0, lambda_r1=1.0, spectral_norm=True)),
    ("mrgan", dict(smooth_real=[0.7, 1.2], flip_labels=0.1, instance_noise=0.1, diffaugment=["cutout"])),
    ("mrgan", dict(conditional=True, condition="projection", gan_mode="ragan", feature_matching=1.0)),
    ("mrgan", dict(arch="mlp", gan_mode="wgan", clip=0.01, n_critic=2, minibatch_std=True)),
    ("mrgan", dict(unrolled_steps=2, lr_D=1e-3)),
])
def test_the_techniques_of_the_family_combine_with_both(name, flags):
    model = tiny(name, **flags)
    engine = Engine(model)
    engine.step(batch(), 0)
    engine.step(batch(), 1)
    means = engine.losses.pop_means()
    assert means and all(np.isfinite(v) for v in means.values())
    if flags.get("clip"):
        assert all(p.abs().max() <= flags["clip"] + 1e-9 for p in model.nets["D"].parameters())


def test_health_judges_the_generators_and_probes_all_their_samples():
    for name, nets in [("madgan", {"D", "G0", "G1", "G2", "G3"}), ("mrgan", {"D", "G", "D_M"})]:
        model = tiny(name)
        engine = Engine(model)
        engine.step(batch(), 0)
        terms = getattr(model, "adversarial_terms", None) or adversarial_terms(engine.losses.pop_means(), model.nets)
        assert set(terms) == nets
        probes = probe_outputs(model, batch(), chunk_size=4, autocast=nullcontext)
        assert list(probes) == ["fake"]
        assert probes["fake"][0].shape[0] == (16 if name == "madgan" else 4)  # MAD-GAN: the k generators' mixture


# --- the command line --------------------------------------------------------------------------------------
TINY = ["--data", "digits", *tiny_flags("dcgan", batch_size=8), "--steps", "2", "--no-progress"]  # the family's


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["train", "madgan", *TINY, "--generators", "3", "--lambda-diversity", "1", "--ema-decay", "0.9",
                 "--checkpoints-dir", str(runs), "--name", "mad"]) == 0
    assert main(["train", "mrgan", *TINY, "--lambda-geometric", "1", "--checkpoints-dir", str(runs),
                 "--name", "mr"]) == 0
    return runs


def test_madgan_trains_and_samples_each_generator_in_turn(runs, tmp_path, capsys):
    sampler = load_sampler(runs / "mad")
    assert list(sampler.nets) == ["G0", "G1", "G2"] and sampler.weights == "ema"
    assert main(["sample", str(runs / "mad"), str(tmp_path / "all"), "-n", "6"]) == 0
    assert "6 images from G0, G1, G2 in turn" in capsys.readouterr().err
    names = [p.name for p in list_images(tmp_path / "all")]
    assert names == ["sample_0000_G0.png", "sample_0000_G1.png", "sample_0000_G2.png", "sample_0001_G0.png",
                     "sample_0001_G1.png", "sample_0001_G2.png"]
    # --generator by index or by name: the same generator, and the same z as its turn above
    assert main(["sample", str(runs / "mad"), str(tmp_path / "one"), "-n", "2", "--generator", "1"]) == 0
    assert main(["sample", str(runs / "mad"), str(tmp_path / "named"), "-n", "2", "--generator", "G1"]) == 0
    one, named = ([read_image(p) for p in list_images(tmp_path / x)] for x in ("one", "named"))
    assert all(np.array_equal(a, b) for a, b in zip(one, named))
    assert np.array_equal(one[1], read_image(tmp_path / "all" / "sample_0001_G1.png"))
    assert not np.array_equal(read_image(tmp_path / "all" / "sample_0000_G0.png"),
                              read_image(tmp_path / "all" / "sample_0000_G1.png"))
    assert main(["sample", str(runs / "mad"), str(tmp_path / "grid"), "-n", "6", "--grid"]) == 0
    assert read_image(tmp_path / "grid" / "grid.png").shape[:2] == (2 * 16 + 2, 3 * 16 + 2 * 2)  # a column each
    assert main(["sample", str(runs / "mad"), str(tmp_path / "x"), "--generator", "G7"]) == 1
    assert "--generator G7: this checkpoint's generators are G0, G1, G2 (or 0 to 2)" in capsys.readouterr().err


def test_mrgan_trains_and_samples_from_g(runs, tmp_path, capsys):
    sampler = load_sampler(runs / "mr")
    assert list(sampler.nets) == ["G"]  # the encoder is no sampler
    assert main(["sample", str(runs / "mr"), str(tmp_path / "out"), "-n", "3"]) == 0
    assert len(list_images(tmp_path / "out")) == 3 and "3 images (raw weights" in capsys.readouterr().err
