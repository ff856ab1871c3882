"""The super-resolution models (translation/models/superres.py): srresnet, srgan and esrgan train from the command
line on a prepared set and resume exactly; srgan starts from an srresnet run; ESRGAN's relativistic terms and the
conv5_4 perceptual loss on hand-made inputs; BasicSR's learning-rate schedules; `translation interpolate`.
The contract test (test_contract.py) covers one engine step, checkpoints and resume of the tiny configs."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision

from translation.checkpoint import read_checkpoint, save_checkpoint
from translation.cli import main
from translation.config import from_dict
from translation.inference.translator import load_translator
from translation.losses.perceptual import CONV5_4, PerceptualLoss
from translation.losses.relativistic import esrgan_discriminator_terms, esrgan_generator_loss
from translation.models import CONFIGS, model_class
from translation.nets import create_generator, spec_of
from translation.training.schedule import Schedule, cosine_restart_factor, lr_policy_of, multistep_factor
from translation.training.trainer import Trainer

from test_pix2pixhd_losses import vgg_file  # noqa: F401  (random VGG19 weights in torchvision's file format)
from tiny_configs import superres_data, tiny_config, tiny_flags

CPU = torch.device("cpu")
RUN = dict(log_every=1000, image_every=1000, save_every=1000, seed=1)
SR_MODELS = ("srresnet", "srgan", "esrgan")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Three 128 px photos through `translation prepare superres --layout sr --scale 4` (all in train)."""
    from translation.data.io import write_image

    root = tmp_path_factory.mktemp("sr")
    rng = np.random.default_rng(0)
    for i in range(3):
        cells = rng.random((8, 8, 3)).astype(np.float32)
        write_image(root / "photos" / f"p{i}.png", np.kron(cells, np.ones((16, 16, 1), np.float32)))
    assert main(["prepare", "superres", str(root / "photos"), str(root / "set"), "--layout", "sr", "--scale", "4",
                 "--size", "0", "--val-fraction", "0", "--test-fraction", "0"]) == 0
    assert len(list((root / "set" / "train" / "LR_bicubic" / "X4").glob("*.png"))) == 3
    return root / "set"


def flags(name: str, data, runs, **overrides) -> list[str]:
    return tiny_flags(name, **RUN, **overrides) + ["--data", str(data), "--checkpoints-dir", str(runs),
                                                   "--name", "tiny", "--no-progress"]


# --- training from the command line ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", SR_MODELS)
def test_each_model_trains_from_the_cli_and_resumes_exactly(name, prepared, tmp_path):
    assert main(["train", name, *flags(name, prepared, tmp_path / "straight", steps=3)]) == 0
    config = tiny_config(name, prepared, tmp_path / "split", **RUN, steps=3)
    first = Trainer(model_class(name), config, progress=False)
    first.fit(until_step=2)
    assert first.stopped and first.step == 2
    assert main(["train", name, "--resume", "--name", "tiny", "--checkpoints-dir", str(tmp_path / "split"),
                 "--no-progress"]) == 0
    whole, resumed = read_checkpoint(tmp_path / "straight" / "tiny"), read_checkpoint(tmp_path / "split" / "tiny")
    assert whole["step"] == resumed["step"] == 3
    for part in ("nets", "ema", "optimizers"):
        assert torch.equal(*(torch.cat([t.flatten().float() for t in _tensors(c[part])]) for c in (whole, resumed)))
    g = whole["generators"]["G"]
    assert g["scale"] == 4 and g["task"] == "translate" and g["weights"] == "ema"
    assert set(whole["nets"]) == ({"G"} if name == "srresnet" else {"G", "D"})
    lr = whole["optimizers"]["G"]["param_groups"][0]["lr"]  # the step-3 rate the schedule set
    c = config
    expected = (c.lr * cosine_restart_factor(3, 3, c.lr_restarts, c.lr_min / c.lr) if name == "srresnet"
                else c.lr * multistep_factor(3, 3, c.lr_milestones, c.lr_gamma))
    assert lr == pytest.approx(expected, rel=1e-12)


def _tensors(tree):
    if isinstance(tree, torch.Tensor):
        yield tree
    elif isinstance(tree, dict):
        for key in sorted(tree, key=str):
            yield from _tensors(tree[key])
    elif isinstance(tree, (list, tuple)):
        for item in tree:
            yield from _tensors(item)


def test_the_defaults_are_basicsrs():
    sr, gan, es = (CONFIGS[name](data="x") for name in SR_MODELS)
    assert (sr.netG, sr.ngf, sr.blocks, sr.scale, sr.gt_size, sr.batch_size) == ("msrresnet", 64, 16, 4, 128, 16)
    assert (sr.lr, sr.beta1, sr.beta2, sr.ema_decay, sr.steps, sr.lambda_l1) == (2e-4, 0.9, 0.99, 0.999, 10**6, 1.0)
    assert (sr.lr_policy, sr.lr_restarts, sr.lr_min, sr.init) == ("cosine", 4, 1e-7, "pytorch")
    assert (gan.lr, gan.steps, gan.lr_policy, gan.lr_milestones, gan.lr_gamma) == (
        1e-4, 400000, "multistep", [0.125, 0.25, 0.5, 0.75], 0.5)
    assert (gan.lambda_l1, gan.lambda_perceptual, gan.lambda_gan, gan.gan_mode, gan.netD) == (
        1e-2, 1.0, 5e-3, "vanilla", "vgg128")
    assert (es.netG, es.blocks, es.growth, es.gan_mode, es.lambda_gan) == ("rrdbnet", 23, 32, "ragan", 5e-3)
    # BasicSR's milestones 50k, 100k, 200k, 300k of 400k: the rate halves from those iterations on
    schedule = Schedule(100, 16, 0, 0, steps=400000, policy=lr_policy_of(gan))
    assert [schedule.lr_factor(s) for s in (0, 49998, 49999, 99999, 199999, 299999, 399999)] == [
        1, 1, 0.5, 0.25, 0.125, 0.0625, 0.0625]


@pytest.mark.parametrize("values, message", [
    (dict(scale=3, netG="rrdbnet"), "--scale 3: --netG rrdbnet upscales by 1, 2, 4"),
    (dict(gt_size=130), "--gt-size 130 must be a multiple of --scale 4"),
    (dict(gt_size=96), "--netD vgg128 judges 128 px patches: use --gt-size 128"),
    (dict(gan_mode="ragan"), "the relativistic GAN of super-resolution is esrgan's"),
    (dict(lr_min=1e-3), "--lr-min 0.001 must be below --lr"),
])
def test_bad_combinations_are_one_line_errors(values, message):
    with pytest.raises(ValueError, match=message):
        from_dict(CONFIGS["srgan"], dict(data="x", lr_policy="cosine", **values))
    with pytest.raises(ValueError, match="esrgan is the relativistic average GAN"):
        from_dict(CONFIGS["esrgan"], dict(data="x", gan_mode="vanilla"))
    with pytest.raises(ValueError, match="--lambda-l1 0: the L1 pixel loss is srresnet's only loss"):
        from_dict(CONFIGS["srresnet"], dict(data="x", lambda_l1=0.0))


# --- srgan from a trained srresnet ----------------------------------------------------------------------------
def test_srgan_starts_from_the_srresnet_run_and_refuses_another_generator(tmp_path):
    data = superres_data(tmp_path / "data", size=128)
    config = tiny_config("srresnet", data, tmp_path / "runs", **RUN, steps=1)
    Trainer(model_class("srresnet"), config, progress=False).fit()
    run = config.run_dir
    trained = read_checkpoint(run)["nets"]["G"]
    gan = model_class("srgan")(tiny_config("srgan", data, tmp_path / "runs", init_from=str(run)), CPU)
    assert all(torch.equal(value, trained[key]) for key, value in gan.nets["G"].state_dict().items())
    fresh = model_class("srgan")(tiny_config("srgan", data, tmp_path / "runs"), CPU)
    assert not torch.equal(fresh.nets["G"].conv_first.weight, trained["conv_first.weight"])
    with pytest.raises(ValueError, match=r"--init-from .*its generator is msrresnet \(.*ngf 4.*this run's is "
                                         r"msrresnet \(.*ngf 8"):
        model_class("srgan")(tiny_config("srgan", data, tmp_path / "runs", ngf=8, init_from=str(run)), CPU)


def test_a_missing_vgg_file_stops_srgan_at_start_up(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_cache"))
    data = superres_data(tmp_path / "data")
    assert main(["train", "srgan", *flags("srgan", data, tmp_path / "runs", steps=1, lambda_perceptual=1.0)]) == 1
    err = capsys.readouterr().err
    assert "vgg19-dcbbe1a8.pth" in err and "translation download vgg19-weights" in err
    assert "--lambda-perceptual 0" in err and not (tmp_path / "runs").exists()


def test_srgan_generator_terms_weigh_l1_perceptual_and_gan_as_basicsr(vgg_file, tmp_path):  # noqa: F811
    data = superres_data(tmp_path / "data", n=1)
    config = tiny_config("srgan", data, tmp_path / "runs", lambda_perceptual=1.0, vgg_weights=str(vgg_file),
                         batch_size=1)
    cls = model_class("srgan")
    torch.manual_seed(0)
    model = cls(config, CPU)
    dataset = cls.build_dataset(config)
    batch = {k: v[None] for k, v in dataset[(0, 3)].items() if k != "path"}
    with torch.no_grad():
        out = model.forward(batch)
        terms = model.loss_G(out)
        sr, hr = out["sr"], out["hr"]
        assert torch.allclose(out["fake_B"], sr * 2 - 1) and torch.allclose(hr, (batch["B"] + 1) / 2)
        assert terms["G_L1"].item() == pytest.approx(1e-2 * (sr - hr).abs().mean().item(), rel=1e-6)
        assert terms["G_perceptual"].item() == pytest.approx(model.perceptual(sr, hr).item(), rel=1e-6)
        logits = model.D(sr)
        assert terms["G_GAN"].item() == pytest.approx(
            5e-3 * F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)).item(), rel=1e-5)


# --- ESRGAN's relativistic average terms ------------------------------------------------------------------------
def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_esrgan_terms_on_hand_made_logits():
    real = torch.tensor([[2.0], [0.0]], requires_grad=True)  # mean 1
    fake = torch.tensor([[1.0], [-1.0]], requires_grad=True)  # mean 0
    # BCE(x, 1) = softplus(-x), BCE(x, 0) = softplus(x)
    g = esrgan_generator_loss(real, fake)
    expected_g = ((softplus(2) + softplus(0)) / 2 + (softplus(-0.0) + softplus(2)) / 2) / 2
    assert g.item() == pytest.approx(expected_g)
    (g_real,) = torch.autograd.grad(g, real, retain_graph=True, allow_unused=True)
    assert g_real is None  # D's verdict on real data is a constant for G
    d_real, d_fake = esrgan_discriminator_terms(real, fake)
    assert d_real.item() == pytest.approx(0.5 * (softplus(-2) + softplus(0)) / 2)
    assert d_fake.item() == pytest.approx(0.5 * (softplus(0) + softplus(-2)) / 2)
    # as BasicSR's detach: the real term trains D through its real logits only, the fake term through the fakes
    grad_real = torch.autograd.grad(d_real, [real, fake], retain_graph=True, allow_unused=True)
    grad_fake = torch.autograd.grad(d_fake, [real, fake], allow_unused=True)
    assert grad_real[1] is None and grad_real[0].abs().sum() > 0
    assert grad_fake[0] is None and grad_fake[1].abs().sum() > 0


# --- the conv5_4 perceptual loss --------------------------------------------------------------------------------
def test_perceptual_loss_is_l1_of_conv5_4_before_relu_on_imagenet_normalised_inputs(vgg_file):  # noqa: F811
    loss = PerceptualLoss(vgg_file)
    with torch.device("meta"):  # the layers only: the weights are the file's
        reference = torchvision.models.vgg19(weights=None, init_weights=False).features.eval()
    state = torch.load(vgg_file, weights_only=True)
    reference = reference.to_empty(device="cpu")
    reference.load_state_dict({k[len("features."):]: v for k, v in state.items()})
    assert CONV5_4 == 34 and isinstance(reference[34], torch.nn.Conv2d) and isinstance(reference[35], torch.nn.ReLU)
    assert len(loss.features) == 35 and not any(p.requires_grad for p in loss.parameters())
    torch.manual_seed(1)
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        fx, fy = reference[:35]((x - mean) / std), reference[:35]((y - mean) / std)
        assert fx.min() < 0  # before the ReLU: negative responses count too
        assert loss(x, y).item() == pytest.approx(F.l1_loss(fx, fy).item(), rel=1e-5)
        assert loss(x, x.clone()).item() == 0.0
    assert torch.equal(loss.state_dict()["features.0.weight"], state["features.0.weight"])
    assert set(loss.state_dict()) == {k for k in state if int(k.split(".")[1]) <= 34}


def test_perceptual_gradient_reaches_the_generator_and_not_the_target(vgg_file):  # noqa: F811
    loss = PerceptualLoss(vgg_file)
    torch.manual_seed(0)
    g = create_generator("msrresnet", ngf=4, n_blocks=1, scale=4, init="pytorch")
    low, target = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 32, 32).requires_grad_()
    value = loss(g(low), target)
    grads = torch.autograd.grad(value, [*g.parameters(), target], allow_unused=True)
    assert value.item() > 0 and all(grad is not None for grad in grads[:-1]) and grads[-1] is None
    assert grads[0].abs().sum() > 0  # conv_first: through the whole net


# --- schedules --------------------------------------------------------------------------------------------------
def basicsr_cosine(iteration: int, periods: list[int], eta_min: float, base: float) -> float:
    """BasicSR's CosineAnnealingRestartLR.get_lr at last_epoch = iteration, restart weights 1."""
    cumulative = [sum(periods[:i + 1]) for i in range(len(periods))]
    index = next(i for i, bound in enumerate(cumulative) if iteration <= bound)
    restart = 0 if index == 0 else cumulative[index - 1]
    return eta_min + 0.5 * (base - eta_min) * (1 + math.cos(math.pi * (iteration - restart) / periods[index]))


def test_cosine_and_multistep_follow_basicsr_iteration_by_iteration():
    config = from_dict(CONFIGS["srresnet"], dict(data="x", steps=40, lr_min=1e-7))
    schedule = Schedule(10, 2, 0, 0, steps=40, policy=lr_policy_of(config))
    # the engine's step s is BasicSR's iteration s + 1 (its scheduler steps before each iteration)
    rates = [2e-4 * schedule.lr_factor(s) for s in range(40)]
    assert rates == pytest.approx([basicsr_cosine(s + 1, [10] * 4, 1e-7, 2e-4) for s in range(40)], rel=1e-12)
    assert rates[9] == pytest.approx(1e-7) and rates[10] > 0.97 * 2e-4  # the end of a cycle, then the restart
    assert multistep_factor(1, 8, [0.25, 0.5], 0.1) == 1 and multistep_factor(2, 8, [0.25, 0.5], 0.1) == 0.1
    assert multistep_factor(4, 8, [0.25, 0.5], 0.1) == pytest.approx(0.01)
    linear = from_dict(CONFIGS["srresnet"], dict(data="x", steps=10, lr_policy="linear", epochs=1, epochs_decay=1))
    assert lr_policy_of(linear).kind == "linear" and lr_policy_of(CONFIGS["pix2pix"]()).kind == "linear"


# --- translation interpolate ------------------------------------------------------------------------------------
def _checkpoint(path, seed: int, ngf: int = 4, ema: bool = False, model: str = "srresnet"):
    torch.manual_seed(seed)
    net = create_generator("msrresnet", ngf=ngf, n_blocks=1, scale=4, init="pytorch")
    for p in net.parameters():  # BasicSR's init leaves biases at 0: make every weight differ between A and B
        torch.nn.init.normal_(p, std=0.1)
    state = {"model": model, "net_specs": {"G": spec_of(net)}, "nets": {"G": net.state_dict()},
             "generators": {"G": {"task": "translate", "direction": "AtoB", "paired": True, "scale": 4}},
             "test_mode": "eval"}
    if ema:
        averaged = {k: v + 1.0 for k, v in net.state_dict().items()}
        state["ema"] = {"decay": 0.999, "updates": 1, "nets": {"G": averaged}}
    save_checkpoint(path, state)
    return path


def test_interpolate_blends_every_generator_weight(tmp_path, capsys):
    a, b = _checkpoint(tmp_path / "a.pt", 0), _checkpoint(tmp_path / "b.pt", 1, ema=True, model="esrgan")
    wa, wb_raw = read_checkpoint(a)["nets"]["G"], read_checkpoint(b)["nets"]["G"]
    wb = read_checkpoint(b)["ema"]["nets"]["G"]  # B's moving average: what translate uses
    for alpha in (0.0, 1.0, 0.5):
        out = tmp_path / f"c{alpha}.pt"
        assert main(["interpolate", str(a), str(b), "--alpha", str(alpha), "-o", str(out)]) == 0
        c = read_checkpoint(out)
        wc = c["nets"]["G"]
        for key in wa:
            expected = {0.0: wa[key], 1.0: wb[key], 0.5: (wa[key] + wb[key]) / 2}[alpha]
            assert torch.equal(wc[key], expected), (alpha, key)
        assert (c["model"], c["test_mode"], c["generators"]["G"]["scale"]) == ("srresnet", "eval", 4)
    assert "0.5 x" in capsys.readouterr().err
    assert main(["interpolate", str(a), str(b), "--alpha", "1", "--no-ema", "-o", str(tmp_path / "raw.pt")]) == 0
    assert torch.equal(read_checkpoint(tmp_path / "raw.pt")["nets"]["G"]["conv_first.weight"],
                       wb_raw["conv_first.weight"])
    # C translates like A: alpha 0 gives A's pixels
    image = np.random.default_rng(0).random((9, 11, 3)).astype(np.float32)
    got = load_translator(tmp_path / "c0.0.pt").translate(image)
    assert got.shape == (36, 44, 3) and np.array_equal(got, load_translator(a).translate(image))


def test_interpolate_refuses_other_architectures_and_bad_alphas(tmp_path, capsys):
    a, wide = _checkpoint(tmp_path / "a.pt", 0), _checkpoint(tmp_path / "wide.pt", 1, ngf=8)
    assert main(["interpolate", str(a), str(wide), "--alpha", "0.5", "-o", str(tmp_path / "c.pt")]) == 1
    err = capsys.readouterr().err
    assert "different architectures: G.conv_first.weight is (4, 3, 3, 3) in A and (8, 3, 3, 3) in B" in err
    assert not (tmp_path / "c.pt").exists()
    assert main(["interpolate", str(a), str(a), "--alpha", "1.5", "-o", str(tmp_path / "c.pt")]) == 1
    assert "--alpha 1.5 must be in [0, 1]" in capsys.readouterr().err
    assert main(["interpolate", str(a), str(a), "--alpha", "0.5", "-o", str(a), "--overwrite"]) == 1
    assert "is one of the checkpoints being blended" in capsys.readouterr().err
