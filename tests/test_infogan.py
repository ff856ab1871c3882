"""InfoGAN: the latent codes' layout, the mutual-information terms on known inputs, Q recovering a categorical
code on 8 Gaussians, and the command line: train, sample --code / --vary, export, serve."""
import json
import math
from contextlib import nullcontext
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from translation.cli import main
from translation.config import from_dict
from translation.data.io import list_images, read_image
from translation.inference.sampling import code_sweep, draw, grid, load_sampler
from translation.nets.latent_codes import SWEEP_STEPS, LatentCodes
from translation.models import CONFIGS, model_class
from translation.models.infogan import entropy, information_terms, mutual_information
from translation.training.engine import Engine
from translation.training.health import adversarial_terms, probe_outputs

from tiny_configs import NOISE, tiny_flags

UNLABELLED = SimpleNamespace(classes=[], channels=1)


def tiny(**overrides):
    values = dict(NOISE, device="cpu", categorical=[3], continuous=1)
    values.update(overrides)
    config = from_dict(CONFIGS["infogan"], values)  # from_dict runs check_combinations, as the command line does
    return model_class("infogan")(config, torch.device("cpu"), UNLABELLED)


def batch(n=4):
    torch.manual_seed(3)
    return {"image": torch.rand(n, 1, 16, 16) * 2 - 1, "label": torch.zeros(n, dtype=torch.long)}


# --- the latent and the configuration ---------------------------------------------------------------------------
def test_the_latent_is_z_then_one_hot_codes_then_continuous_ones():
    codes = LatentCodes(4, (3, 2), 2)
    assert codes.dim == 4 + 3 + 2 + 2 and codes.names == ["c0", "c1", "c2", "c3"]
    categories, continuous = codes.draw_codes(500, torch.Generator().manual_seed(0))
    assert set(categories[:, 0].tolist()) == {0, 1, 2} and set(categories[:, 1].tolist()) == {0, 1}
    assert continuous.min() >= -1 and continuous.max() <= 1 and continuous.abs().max() > 0.9
    noise = torch.randn(500, 4)
    latent = codes.compose(noise, categories, continuous)
    assert torch.equal(latent[:, :4], noise) and torch.equal(latent[:, 4:7].argmax(1), categories[:, 0])
    assert torch.equal(latent[:, 4:9].sum(1), torch.full((500,), 2.0))  # two one-hot codes
    assert all(torch.equal(a, b) for a, b in zip(codes.split(latent), (noise, categories, continuous)))
    fixed = codes.set_code(codes.set_code(latent, "c1", 1), "c3", 0.25)
    assert torch.equal(codes.split(fixed)[1][:, 1], torch.ones(500, dtype=torch.long))
    assert torch.equal(fixed[:, -1], torch.full((500,), 0.25)) and torch.equal(fixed[:, :7], latent[:, :7])
    assert LatentCodes.from_record(codes.record()) == codes and LatentCodes.from_record(None) is None
    with pytest.raises(ValueError, match="c1 is categorical, a category from 0 to 1"):
        codes.check_value("--code", "c1", 2)
    with pytest.raises(ValueError, match="this model's codes are c0, c1, c2, c3"):
        codes.check_value("--code", "c4", 0)


def test_the_defaults_are_the_official_mnist_runs_and_bad_codes_are_refused():
    config = CONFIGS["infogan"]()
    assert (config.z_dim, config.categorical, config.continuous, config.lambda_info) == (62, [10], 2, 1.0)
    assert (config.lr, config.lr_D, config.beta1, config.batch_size) == (1e-3, 2e-4, 0.5, 128)
    for values, said in [({"categorical": [10, 1]}, "--categorical 10 1"), ({"conditional": True}, "--conditional"),
                         ({"categorical": [0], "continuous": 0}, "at least one latent code")]:
        with pytest.raises(ValueError, match=said):
            from_dict(CONFIGS["infogan"], values)
    model = tiny(categorical=[0], continuous=2)  # continuous codes alone
    assert model.codes == LatentCodes(8, (), 2) and model.nets["G"].z_dim == 10


# --- the information terms ------------------------------------------------------------------------------------------
def test_the_information_terms_are_the_cross_entropy_and_the_gaussian_nll():
    codes = LatentCodes(2, (3,), 1)
    q_out = torch.tensor([[2.0, 0.0, 0.0, 0.5], [0.0, 1.0, 0.0, -0.5]])
    categories, continuous = torch.tensor([[0], [2]]), torch.tensor([[1.5], [-0.5]])
    terms = information_terms(codes, q_out, categories, continuous)
    ce = -(math.log(math.e ** 2 / (math.e ** 2 + 2)) + math.log(1 / (math.e + 2))) / 2
    assert terms["cat"].item() == pytest.approx(ce, rel=1e-6)
    nll = (0.5 * 1.0 ** 2 + 0.5 * 0.0 ** 2) / 2 + 0.5 * math.log(2 * math.pi)  # N(c; mean, 1): (c - mean)^2 / 2
    assert terms["cont"].item() == pytest.approx(nll, rel=1e-6)
    assert entropy(LatentCodes(2, (10, 4), 3)) == pytest.approx({"cat": math.log(40), "cont": 3 * math.log(2)})


def test_both_phases_add_lambda_times_qs_negative_log_likelihood_of_the_fakes_codes():
    model = tiny(lambda_info=0.7)
    assert [(p.name, p.nets) for p in model.phases()] == [("D", ("D", "Q")), ("G", ("G",))]
    assert model.optimizers()["D"].nets == ("D", "Q") and model.optimizers()["D"].lr == 2e-4
    out = model.forward(batch())
    q_out = model.Q(model.D.features(out["fake"]))
    expected = {kind: 0.7 * value.item() for kind, value in
                information_terms(model.codes, q_out, out["categories"], out["continuous"]).items()}
    for phase, terms in (("D", model.loss_D(out)), ("G", model.loss_G(out))):
        assert terms[f"{phase}_info_cat"].item() == pytest.approx(expected["cat"], rel=1e-5)
        assert terms[f"{phase}_info_cont"].item() == pytest.approx(expected["cont"], rel=1e-5)
    assert model.loss_G(out)["G"].item() == pytest.approx(
        F.binary_cross_entropy_with_logits(model.D(out["fake"]), torch.ones(4)).item(), rel=1e-5)


def test_health_finds_the_adversarial_terms_and_not_the_information_ones():
    model = tiny()
    engine = Engine(model)
    engine.step(batch(), 0)
    terms = adversarial_terms(engine.losses.pop_means(), model.nets)
    assert terms == {"D": ["D_real", "D_fake"], "G": ["G"]}
    assert list(probe_outputs(model, batch(), chunk_size=4, autocast=nullcontext)) == ["fake"]


# --- 8 Gaussians: Q recovers the categorical code ---------------------------------------------------------------
def test_on_8_gaussians_q_recovers_the_categorical_code_and_the_mi_bound_nears_ln_8():
    """2-D points as 2-channel 1x1 images, MLP nets; G's tanh reaches [-1, 1], so the modes lie on a circle of
    0.8. D's learning rate is G's here: at the paper's 2e-4 this small D loses to G, which collapses."""
    torch.manual_seed(0)
    config = from_dict(CONFIGS["infogan"], dict(device="cpu", arch="mlp", image_size=8, norm_D="none", z_dim=2,
                                                categorical=[8], continuous=0, lr=1e-3, lr_D=1e-3))
    model = model_class("infogan")(config, torch.device("cpu"), UNLABELLED)
    model.add_net("G", "generator", "mlp", z_dim=model.codes.dim, out_channels=2, image_size=1, ngf=128, n_layers=2)
    model.add_net("D", "discriminator", "mlp", in_channels=2, image_size=1, ndf=64, n_layers=2, dropout=0.0)
    model.add_net("Q", "discriminator", "infogan_q", in_features=64, n_outputs=8, hidden=64, norm="none")
    engine = Engine(model)
    angles = torch.arange(8) * 2 * math.pi / 8
    centres = torch.stack([angles.cos(), angles.sin()], 1) * 0.8
    data = torch.Generator().manual_seed(0)
    for step in range(400):
        mode = torch.randint(8, (64,), generator=data)
        points = centres[mode] + 0.03 * torch.randn(64, 2, generator=data)
        engine.step({"image": points[:, :, None, None], "label": mode}, step)
    found = mutual_information(model, 2000)
    assert found["accuracy_c0"] >= 0.9
    assert math.log(8) - 0.15 <= found["mi_cat"] <= math.log(8) and found["mi"] == found["mi_cat"]
    with torch.no_grad():  # and the categories are the data's modes: each category's samples near one centre
        G = model.nets["G"].eval()
        category = torch.arange(8).repeat_interleave(200)
        points = G(model.codes.compose(torch.randn(1600, 2), category[:, None], torch.zeros(1600, 0))).flatten(1)
    nearest = torch.cdist(points, centres).argmin(1).view(8, 200)
    assert len({int(row.mode().values) for row in nearest}) >= 5  # of 8: a GAN this short still drops a few


# --- the command line -------------------------------------------------------------------------------------------
TINY = ["--data", "digits", *tiny_flags("dcgan", batch_size=8), "--steps", "2", "--no-progress"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["train", "infogan", *TINY, "--categorical", "3", "--continuous", "2", "--ema-decay", "0.9",
                 "--checkpoints-dir", str(runs), "--name", "info"]) == 0
    return runs / "info"


def test_the_checkpoint_records_the_latent_and_samples_draw_codes_from_their_priors(run):
    sampler = load_sampler(run)
    assert sampler.codes == LatentCodes(8, (3,), 2) and sampler.z_dim == 13 and list(sampler.nets) == ["G"]
    z = sampler.noise(200, seed=1)
    noise, categories, continuous = sampler.codes.split(z)
    assert torch.equal(z[:, 8:11].sum(1), torch.ones(200)) and set(categories[:, 0].tolist()) == {0, 1, 2}
    assert continuous.abs().max() <= 1 and torch.equal(sampler.noise(200, seed=1), z)
    assert sampler.noise(200, seed=1, truncation=0.5)[:, :8].abs().max() <= 0.5  # truncation: z's alone


def test_a_fixed_code_changes_that_code_alone(run, tmp_path):
    sampler = load_sampler(run)
    drawn = sampler.codes.split(sampler.noise(8, seed=2))[1][:, 0]
    assert main(["sample", str(run), str(tmp_path / "free"), "-n", "8", "--seed", "2"]) == 0
    assert main(["sample", str(run), str(tmp_path / "fixed"), "-n", "8", "--seed", "2", "--code", "c0=1",
                 "--code", "c2=0.5"]) == 0
    assert main(["sample", str(run), str(tmp_path / "again"), "-n", "8", "--seed", "2", "--code", "c0=1",
                 "--code", "c2=0.5"]) == 0
    free, fixed, again = ([read_image(p) for p in list_images(tmp_path / x)] for x in ("free", "fixed", "again"))
    assert all(np.array_equal(a, b) for a, b in zip(fixed, again))
    assert all(np.array_equal(a, b) for a, b in zip(free, [read_image(p) for p in list_images(tmp_path / "free")]))
    free, _ = draw(sampler, 8, seed=2)
    images, _ = draw(sampler, 8, seed=2, codes={"c0": 1})  # c0 alone fixed: where the seed drew c0 = 1, no change
    assert all(np.array_equal(image, free[i]) == (drawn[i] == 1).item() for i, image in enumerate(images))
    assert 0 < (drawn == 1).sum() < 8


def test_vary_makes_a_grid_of_categories_by_sweep(run, tmp_path, capsys):
    assert main(["sample", str(run), str(tmp_path / "sweep"), "--vary", "c1"]) == 0
    assert "30 images along c1" in capsys.readouterr().err
    # rows: c0's 3 categories; columns: the sweep's 10 values of c1; 16 px cells, 2 px gaps
    assert read_image(tmp_path / "sweep" / "grid.png").shape[:2] == (3 * 16 + 2 * 2, 10 * 16 + 9 * 2)
    sampler = load_sampler(run)
    images, columns = code_sweep(sampler, "c1", -2, 2, seed=0)
    assert columns == SWEEP_STEPS and len(images) == 3 * SWEEP_STEPS
    z = sampler.noise(1, seed=0)  # every cell is this one latent with c0 = its row and c1 = its column's value
    for row in range(3):
        for column, value in enumerate(np.linspace(-2, 2, SWEEP_STEPS)):
            cell = sampler.codes.set_code(sampler.codes.set_code(z, "c0", row), "c1", float(value))
            assert np.array_equal(sampler.generate(cell)[0], images[row * SWEEP_STEPS + column])
    images, columns = code_sweep(sampler, "c0", count=7)  # a categorical code: its categories as columns
    assert columns == 3 and len(images) == 2 * 3
    images, columns = code_sweep(sampler, "c2", fixed={"c0": 2}, count=20)  # c0 fixed: rows of their own z
    assert columns == SWEEP_STEPS and len(images) == 2 * SWEEP_STEPS


@pytest.mark.parametrize("flags,said", [
    (["--code", "c0=3"], "--code c0=3: c0 is categorical, a category from 0 to 2"),
    (["--code", "c9=0"], "--code c9: this model's codes are c0, c1, c2"),
    (["--vary", "c1", "--code", "c1=0"], "--vary c1 and --code c1: a code is either swept or fixed"),
    (["--vary", "c1", "--interpolate", "4"], "--vary and --interpolate each make a grid of their own"),
])
def test_bad_codes_are_named_in_one_line(run, tmp_path, capsys, flags, said):
    assert main(["sample", str(run), str(tmp_path / "out"), *flags]) == 1
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1


def test_code_flags_on_a_model_without_codes_or_in_a_bad_form_are_refused(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "dcgan", *TINY, "--checkpoints-dir", str(runs), "--name", "plain"]) == 0
    assert main(["sample", str(runs / "plain"), str(tmp_path / "out"), "--code", "c0=1"]) == 1
    assert "--code: this model has no latent codes" in capsys.readouterr().err
    for flag, value in (("--code", "c0"), ("--code", "x=1"), ("--vary", "c1=2:-2")):
        with pytest.raises(SystemExit):
            main(["sample", str(runs / "plain"), str(tmp_path / "out"), flag, value])
        assert flag in capsys.readouterr().err


def test_the_exported_file_takes_the_whole_latent_and_samples_as_the_checkpoint(run, tmp_path):
    from translation.inference.onnx_translator import load_onnx_sampler, open_session

    onnx = tmp_path / "infogan.onnx"
    assert main(["export", str(run), "--format", "onnx", "-o", str(onnx)]) == 0
    session, meta = open_session(onnx, "cpu")
    assert [(i.name, i.shape[1]) for i in session.get_inputs()] == [("z", 13)]
    assert LatentCodes.from_record(json.loads(meta["codes"])) == LatentCodes(8, (3,), 2)
    exported, checkpoint = load_onnx_sampler(onnx, "cpu"), load_sampler(run)
    assert exported.codes == checkpoint.codes
    for a, b in zip(code_sweep(exported, "c1", seed=4)[0], code_sweep(checkpoint, "c1", seed=4)[0]):
        assert np.abs(a - b).max() <= 2 / 255
    assert main(["sample", str(onnx), str(tmp_path / "out"), "--vary", "c2", "--code", "c0=0"]) == 0


def test_serve_draws_from_it_with_codes_from_their_priors(run):
    import warnings

    with warnings.catch_warnings():  # as tests/test_serve_api.py: Starlette would rather have httpx2
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
        from starlette.testclient import TestClient

    from translation.serve.app import create_app
    from translation.data.io import encode_image

    with TestClient(create_app([run.parent], device="cpu")) as client:
        response = client.post("/api/sample?model=info&n=4&seed=3")
    assert response.status_code == 200
    assert response.content == encode_image(".png", grid(*draw(load_sampler(run), 4, seed=3)))
