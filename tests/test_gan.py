"""GANs from noise: the named models' defaults, one step as the papers, and each technique's effect."""
import copy
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from translation import names
from translation.config import from_dict
from translation.losses import R1, GradientPenalty
from translation.models import CONFIGS, model_class
from translation.models.configs import NoiseGANConfig
from translation.models.gan import NoiseGAN
from translation.training.augment import POLICIES, diff_augment, instance_noise
from translation.training.engine import Engine
from translation.utils.device import seed_everything

from tiny_configs import NOISE, registered_models, tiny_config, tiny_data

DIGITS = SimpleNamespace(classes=[str(d) for d in range(10)], channels=1)


def tiny(name="dcgan", **overrides):
    values = dict(NOISE, device="cpu")
    values.update(overrides)
    config = CONFIGS[name](**values)
    return model_class(name)(config, torch.device("cpu"), DIGITS)


def batch(n=4, labels=True):
    torch.manual_seed(3)
    return {"image": torch.rand(n, 1, 16, 16) * 2 - 1,
            "label": torch.tensor([0, 3, 5, 9][:n]) if labels else torch.full((n,), -1)}


def test_named_models_have_their_papers_settings():
    c = {name: CONFIGS[name]() for name in ("gan", "dcgan", "wgan", "wgan-gp", "lsgan", "sngan", "cgan")}
    assert (c["gan"].arch, c["gan"].image_size, c["gan"].ngf, c["gan"].gan_mode) == ("mlp", 28, 256, "vanilla")
    assert (c["dcgan"].arch, c["dcgan"].lr, c["dcgan"].beta1, c["dcgan"].batch_size) == ("dcgan", 2e-4, 0.5, 128)
    assert (c["wgan"].clip, c["wgan"].optimizer, c["wgan"].lr, c["wgan"].n_critic) == (0.01, "rmsprop", 5e-5, 5)
    w = c["wgan-gp"]
    assert (w.lambda_gp, w.lr, w.beta1, w.beta2, w.n_critic, w.norm_D) == (10.0, 1e-4, 0.0, 0.9, 5, "none")
    assert (c["lsgan"].gan_mode, c["sngan"].gan_mode, c["sngan"].spectral_norm) == ("lsgan", "hinge", True)
    assert c["cgan"].conditional and not c["dcgan"].conditional
    assert all(config.epochs_decay == 0 for config in c.values())  # a constant learning rate, as the papers


def test_one_dcgan_step_is_the_papers_update():
    """D on real (target 1) and fake (target 0); then G against the updated D with target 1 (non-saturating)."""
    seed_everything(0)
    model = tiny("dcgan")
    ref = copy.deepcopy(model)
    engine, ref_optimizers = Engine(model), Engine(ref).optimizers
    data = batch(labels=False)
    torch.manual_seed(5)
    engine.step(data, 0)
    torch.manual_seed(5)
    fake = ref.nets["G"](torch.randn(4, 8))
    d_real = F.binary_cross_entropy_with_logits(ref.nets["D"](data["image"]), torch.ones(4))
    d_fake = F.binary_cross_entropy_with_logits(ref.nets["D"](fake.detach()), torch.zeros(4))
    ref_optimizers["D"].zero_grad()
    (d_real + d_fake).backward()
    ref_optimizers["D"].step()
    g = F.binary_cross_entropy_with_logits(ref.nets["D"](fake), torch.ones(4))
    ref_optimizers["G"].zero_grad()
    g.backward()
    ref_optimizers["G"].step()
    for key in ("G", "D"):
        for (name, p), q in zip(model.nets[key].named_parameters(), ref.nets[key].parameters()):
            assert torch.allclose(p, q, atol=1e-6), f"{key}.{name}"


def test_wgan_clips_the_critic_and_trains_g_every_fifth_step():
    model = tiny("wgan", norm_D="none")
    engine = Engine(model)
    g_before = {k: v.clone() for k, v in model.nets["G"].named_parameters()}
    for step in range(4):
        engine.step(batch(labels=False), step)
    assert all(torch.equal(v, g_before[k]) for k, v in model.nets["G"].named_parameters())  # not yet
    assert all(p.abs().max() <= 0.01 + 1e-9 for p in model.nets["D"].parameters())
    engine.step(batch(labels=False), 4)
    assert any(not torch.equal(v, g_before[k]) for k, v in model.nets["G"].named_parameters())


def d_terms(model, data, progress=0.0):
    model.progress = progress
    out = model.forward(data)
    return out, model.loss_D(out)


def test_label_smoothing_and_flips_change_ds_targets_only():
    data = batch()
    plain = tiny("cgan")
    torch.manual_seed(1)
    out, terms = d_terms(plain, data)
    scores = plain.D(out["real"], out["labels"])
    assert terms["D_real"].item() == pytest.approx(F.binary_cross_entropy_with_logits(scores, torch.ones(4)).item())
    smooth = tiny("cgan", smooth_real=[0.9])
    smooth.nets.load_state_dict(plain.nets.state_dict())
    torch.manual_seed(1)
    _, terms = d_terms(smooth, data)
    assert terms["D_real"].item() == pytest.approx(
        F.binary_cross_entropy_with_logits(scores, torch.full((4,), 0.9)).item())
    real, fake = tiny("cgan", smooth_real=[0.7, 1.2]).d_targets(1000, "cpu")
    assert 0.7 <= real.min() and real.max() <= 1.2 and real.std() > 0.1 and fake.abs().max() == 0  # one-sided
    real, fake = tiny("cgan", flip_labels=1.0).d_targets(4, "cpu")
    assert real.tolist() == [0.0] * 4 and fake.tolist() == [1.0] * 4
    with pytest.raises(ValueError, match="--smooth-real and --flip-labels change D's targets, which --gan-mode wgan"):
        from_dict(CONFIGS["wgan"], {"smooth_real": [0.9]})


def test_instance_noise_is_annealed_and_diffaugment_keeps_gs_gradient():
    model = tiny("dcgan", instance_noise=0.5)
    images = torch.zeros(64, 1, 16, 16)
    model.progress = 0.0
    assert model.d_input(images).std() == pytest.approx(0.5, rel=0.05)
    model.progress = 1.0
    assert torch.equal(model.d_input(images), images)  # annealed to nothing at the end
    assert instance_noise(images, 0.0) is images
    assert set(POLICIES) == set(names.DIFFAUGMENT_POLICIES)
    fake = torch.rand(8, 3, 16, 16, requires_grad=True)
    torch.manual_seed(0)
    augmented = diff_augment(fake, ["color", "translation", "cutout"])
    assert not torch.equal(augmented, fake)
    augmented.sum().backward()
    assert fake.grad.abs().sum() > 0  # G still learns through the augmentation
    for hole in diff_augment(torch.ones(16, 1, 16, 16), ["cutout"])[:, 0] == 0:
        rows, cols = hole.any(1).nonzero().flatten(), hole.any(0).nonzero().flatten()
        # one square of half the side, clipped where its centre is near the border
        assert hole.sum() == len(rows) * len(cols) and 0 < len(rows) <= 8 and 0 < len(cols) <= 8


def test_feature_matching_adds_its_term_and_optimizers_can_differ():
    model = tiny("dcgan", feature_matching=2.0, optimizer_D="sgd", lr_D=4e-4)
    out = model.forward(batch(labels=False))
    terms = model.loss_G(out)
    _, real_features = model.D(out["real"], None, return_features=True)
    _, fake_features = model.D(out["fake"], None, return_features=True)
    expected = 2.0 * F.mse_loss(fake_features.mean(0), real_features.mean(0))
    assert terms["G_feature_matching"].item() == pytest.approx(expected.item(), rel=1e-5)
    engine = Engine(model)
    assert isinstance(engine.optimizers["D"], torch.optim.SGD) and isinstance(engine.optimizers["G"], torch.optim.Adam)
    assert engine.optimizers["D"].param_groups[0]["lr"] == 4e-4 and engine.optimizers["G"].param_groups[0]["lr"] == 2e-4


def test_penalties_join_ds_terms_when_asked():
    model = tiny("dcgan", norm_D="none", lambda_gp=10.0, lambda_r1=1.0)
    model.progress = 0.0
    out = model.forward(batch(labels=False))
    random_state = torch.get_rng_state()
    terms = model.loss_D(out)
    assert {"D_real", "D_fake", "D_gp", "D_r1"} == set(terms)
    # each is its penalty (test_losses.py checks their formulas) on this D, at the batch's real and generated
    # images, with the weight asked for; and D's weights get its gradient
    real, fake, extra = out["real"], out["fake"].detach(), [] if out["labels"] is None else [out["labels"]]
    torch.set_rng_state(random_state)  # the same points between real and fake
    assert terms["D_gp"].item() == pytest.approx(GradientPenalty(10.0)(model.D, real, fake, *extra).item(), rel=1e-6)
    assert terms["D_r1"].item() == pytest.approx(R1(1.0)(model.D, real, None, *extra).item(), rel=1e-6)
    terms["D_gp"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.D.parameters())


def test_conditional_gan_records_its_classes_and_needs_labels():
    assert tiny("cgan").generators() == {"G": {"task": "sample", "z_dim": 8, "classes": DIGITS.classes}}
    with pytest.raises(ValueError, match="--conditional needs labelled data"):
        NoiseGAN(NoiseGANConfig(conditional=True, image_size=16), torch.device("cpu"),
                 SimpleNamespace(classes=[], channels=1))


# models whose discriminators stay as their references built them: --spectral-norm is refused by name
NO_SPECTRAL_NORM = {"srresnet": "no discriminator; BasicSR's VGG-style D has none",
                    "srgan": "BasicSR's VGG-style D has none", "esrgan": "BasicSR's VGG-style D has none",
                    "glcic": "GLCIC's context D has none", "deepfill": "SN-PatchGAN has it built in"}


@pytest.mark.parametrize("name", registered_models())
def test_spectral_norm_is_a_switch_on_every_models_discriminators(name, tmp_path):
    from translation.nets.registry import spec_of

    if name in NO_SPECTRAL_NORM:
        with pytest.raises(ValueError, match="--spectral-norm: "):
            tiny_config(name, tiny_data(name, tmp_path), spectral_norm=True)
        return
    config = tiny_config(name, tiny_data(name, tmp_path), spectral_norm=True)
    cls = model_class(name)
    model = cls(config, torch.device("cpu"), cls.build_dataset(config))
    critics = [key for key in model.nets if key.startswith("D")]
    for key in critics:
        assert spec_of(model.nets[key])["kwargs"]["spectral_norm"] is True
        convs = [m for m in model.nets[key].modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        assert convs and all(hasattr(m, "parametrizations") for m in convs)


def test_unrolled_g_loss_looks_ahead_through_ds_steps_and_leaves_d_alone():
    from torch.func import functional_call

    seed_everything(0)
    model = tiny("dcgan", norm_D="none", unrolled_steps=1, lr=0.5)
    data = batch(labels=False)
    out = model.forward(data)
    d_before = {k: v.clone() for k, v in model.nets["D"].state_dict().items()}
    loss = model.loss_G(out)["G"]
    assert all(torch.equal(v, d_before[k]) for k, v in model.nets["D"].state_dict().items())
    # by hand: one gradient step of D's objective at lr 0.5, then G's loss against that D
    d = model.nets["D"]
    weights = {n: p.detach().requires_grad_(True) for n, p in d.named_parameters()}
    real_loss, fake_loss = model.gan.discriminator(functional_call(d, weights, (out["real"],)),
                                                   functional_call(d, weights, (out["fake"],)))
    grads = torch.autograd.grad(real_loss + fake_loss, list(weights.values()), create_graph=True)
    ahead = {n: w - 0.5 * g for (n, w), g in zip(weights.items(), grads)}
    expected = model.gan.generator(functional_call(d, ahead, (out["fake"],)))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss.item() != pytest.approx(model.gan.generator(d(out["fake"])).item(), rel=1e-3)
    # G's gradient flows through the unrolled step, not only through the last D
    g_params = list(model.nets["G"].parameters())
    full = torch.autograd.grad(loss, g_params, retain_graph=True)
    frozen = {n: w.detach() for n, w in ahead.items()}
    first_order = torch.autograd.grad(model.gan.generator(functional_call(d, frozen, (out["fake"],))), g_params)
    assert any(not torch.allclose(a, b, atol=1e-7) for a, b in zip(full, first_order))
