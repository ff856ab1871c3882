"""The inpainting models (translation/models/inpainting.py): glcic and deepfill train from the command line on a set
`prepare inpaint --layout masks` wrote, resume exactly, and fill holes through `translate --mask` with every known
pixel kept; GLCIC's three stages switch at their steps; its local area holds the hole as theirs; DeepFill's hinge
terms on hand-made scores. The contract test (test_contract.py) covers one engine step of the tiny configs."""
import numpy as np
import pytest
import torch
from conftest import blocky_image
from tiny_configs import inpaint_photos, tiny_config, tiny_flags

from translation.checkpoint import read_checkpoint
from translation.cli import main
from translation.data.io import read_image, write_image
from translation.models import CONFIGS, model_class
from translation.models.inpainting import hole_areas
from translation.training.engine import Engine
from translation.training.trainer import Trainer

CPU = torch.device("cpu")
RUN = {"log_every": 1000, "image_every": 1000, "save_every": 1000, "seed": 1}
# glcic through all three stages in 5 steps: G alone at 0-1, D alone at 2, both at 3-4
STAGED = {"steps_c": 2, "steps_d": 1}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Four 64 px photos with rectangle masks through `prepare inpaint --layout masks` (all in train)."""
    root = tmp_path_factory.mktemp("inpaint")
    inpaint_photos(root / "photos")
    assert main(["prepare", "inpaint", str(root / "photos"), str(root / "set"), "--layout", "masks", "--size", "0",
                 "--mask-kind", "rectangles", "--val-fraction", "0", "--test-fraction", "0", "--no-progress"]) == 0
    assert len(list((root / "set" / "train" / "masks").glob("*.png"))) == 4
    return root / "set"


def flags(name: str, data, runs, **overrides) -> list[str]:
    return tiny_flags(name, **RUN, **overrides) + ["--data", str(data), "--checkpoints-dir", str(runs),
                                                   "--name", "tiny", "--no-progress"]


def _flat(tree) -> torch.Tensor:
    """Every tensor and number of a nested state, in order, as one vector."""
    if isinstance(tree, torch.Tensor):
        return tree.flatten().double()
    if isinstance(tree, (int, float)):
        return torch.tensor([float(tree)], dtype=torch.float64)
    values = tree.values() if isinstance(tree, dict) else tree if isinstance(tree, (list, tuple)) else []
    return torch.cat([_flat(v) for v in values] + [torch.zeros(0, dtype=torch.float64)])


@pytest.mark.parametrize("name, extra", [("glcic", STAGED), ("deepfill", {})])
def test_each_model_trains_from_the_cli_resumes_exactly_and_keeps_known_pixels(name, extra, prepared, tmp_path):
    options = dict(extra, steps=5, masks="files")
    assert main(["train", name, *flags(name, prepared, tmp_path / "straight", **options)]) == 0
    first = Trainer(model_class(name), tiny_config(name, prepared, tmp_path / "split", **RUN, **options),
                    progress=False)
    first.fit(until_step=3)  # glcic: stopped in its joint stage, resumed there
    assert first.stopped and first.step == 3
    assert main(["train", name, "--resume", "--name", "tiny", "--checkpoints-dir", str(tmp_path / "split"),
                 "--no-progress"]) == 0
    whole, resumed = read_checkpoint(tmp_path / "straight" / "tiny"), read_checkpoint(tmp_path / "split" / "tiny")
    assert whole["step"] == resumed["step"] == 5
    for part in ("nets", "optimizers"):
        assert torch.equal(_flat(whole[part]), _flat(resumed[part])), part
    record = whole["generators"]["G"]
    assert record["inpaint"] and record["task"] == "translate"

    # translate --mask: an odd size, the hole from a mask file; outside it the input's samples exactly
    rng = np.random.default_rng(3)
    image = blocky_image(rng, 40)[:37, :29]
    mask = np.zeros((37, 29, 1), np.float32)
    mask[5:20, 9:27] = 1.0
    write_image(tmp_path / "in" / "a.png", image)
    write_image(tmp_path / "masks" / "a.png", mask)
    assert main(["translate", str(tmp_path / "straight" / "tiny"), str(tmp_path / "in"), str(tmp_path / "out"),
                 "--mask", str(tmp_path / "masks"), "--no-progress", "--num-workers", "0"]) == 0
    source, out = read_image(tmp_path / "in" / "a.png"), read_image(tmp_path / "out" / "a.png")
    known = mask[..., 0] == 0
    assert out.shape == source.shape
    assert np.array_equal(out[known], source[known])
    assert not np.array_equal(out[~known], source[~known])


def test_glcic_stages_switch_at_their_steps(prepared, tmp_path):
    config = tiny_config("glcic", prepared, tmp_path, **RUN, **STAGED, masks="files", alpha=0.25, steps=5)
    model = model_class("glcic")(config, CPU, model_class("glcic").build_dataset(config))
    phases = model.phases()
    due = [[p.name for p in phases if p.due(step)] for step in range(6)]
    assert due == [["G_MSE"], ["G_MSE"], ["D_alone"], ["D", "G"], ["D", "G"], ["D", "G"]]
    weights = {p.name: p.weight for p in phases}
    assert weights == {"G_MSE": 1.0, "D_alone": 0.5, "D": 0.25 / 2, "G": 0.5}  # theirs: the /2 and alpha

    # a run: G updated at steps 0, 1, 3, 4 and D at 2, 3, 4 (Adadelta counts its own steps)
    trainer = Trainer(model_class("glcic"), config, progress=False)
    trainer.fit()
    counts = {name: {int(s["step"]) for s in optimizer.state.values()}
              for name, optimizer in trainer.engine.optimizers.items()}
    assert counts == {"G": {4}, "D": {3}}
    group = trainer.engine.optimizers["G"].param_groups[0]
    assert isinstance(trainer.engine.optimizers["G"], torch.optim.Adadelta)
    assert (group["initial_lr"], group["rho"], group["eps"]) == (1.0, 0.9, 1e-6)  # torch's defaults, as theirs


def test_glcic_stages_log_their_own_terms(prepared, tmp_path):
    config = tiny_config("glcic", prepared, tmp_path, **RUN, **STAGED, masks="files", steps=5)
    data = model_class("glcic").build_dataset(config)
    model = model_class("glcic")(config, CPU, data)
    engine = Engine(model)
    batch = {key: torch.stack([data[(i, 0)][key] for i in range(2)]) for key in ("A", "B", "mask")}
    logged = []
    for step in range(4):
        engine.step(batch, step)
        logged.append(sorted(engine.losses.pop_means()))
    assert logged == [["G_MSE"], ["G_MSE"], ["D_fake", "D_real"], ["D_fake", "D_real", "G_GAN", "G_MSE"]]


def test_glcic_mean_pixel_fills_the_holes(prepared, tmp_path):
    from translation.data.inpaint import find_masked_images, mean_pixel

    config = tiny_config("glcic", prepared, tmp_path, masks="files")
    data = model_class("glcic").build_dataset(config)
    mpv = mean_pixel([item.image for item in find_masked_images(prepared, "train")])
    item = data[(0, 0)]
    hole = item["mask"][0] == 1
    assert torch.allclose(item["A"][:, hole], torch.as_tensor(2 * mpv - 1)[:, None].expand(-1, int(hole.sum())))
    model = model_class("glcic")(config, CPU, data)
    assert np.allclose(model.generators()["G"]["hole_fill"], 2 * mpv - 1)
    given = tiny_config("glcic", prepared, tmp_path, masks="files", mpv=[0.25, 0.5, 0.75])
    assert model_class("glcic")(given, CPU).generators()["G"]["hole_fill"] == [-0.5, 0.0, 0.5]


def test_glcic_local_area_holds_the_hole_uniformly():
    torch.manual_seed(0)
    mask = torch.zeros(1, 1, 64, 48)
    mask[0, 0, 20:30, 10:22] = 1  # rows 20-29, columns 10-21
    areas = [hole_areas(mask, 32)[0] for _ in range(400)]
    tops, lefts = {a[0] for a in areas}, {a[1] for a in areas}
    assert tops == set(range(21)) and lefts == set(range(11))  # every square holding the hole, no other
    mask[0, 0, 5:60, 20] = 1  # taller than the square: centred on it (rows 5-59, columns 10-21)
    for _ in range(20):
        [(top, left)] = hole_areas(mask, 32)
        assert top == 16 and 0 <= left <= 10
    mask[0, 0, 40] = 1  # and wider: centred both ways (columns 0-47: the image's width)
    assert hole_areas(mask, 32) == [(16, 8)]
    empty = torch.zeros(3, 1, 64, 48)
    assert all(0 <= t <= 32 and 0 <= left <= 16 for t, left in hole_areas(empty, 32))


class ScoresOf:
    """A stand-in discriminator: its scores are a fixed function of what it is shown, and it keeps its inputs."""

    def __init__(self, pos, neg):
        self.pos, self.neg, self.seen = torch.tensor(pos), torch.tensor(neg), []

    def __call__(self, x):
        self.seen.append(x)
        return torch.cat([self.pos, self.neg]).view(-1, 1, 1, 1) + 0 * x.sum()


def test_deepfill_hinge_terms_on_hand_made_scores(tmp_path):
    config = tiny_config("deepfill", inpaint_photos(tmp_path / "photos"), tmp_path, lambda_gan=2.0, lambda_l1=3.0)
    model = model_class("deepfill")(config, CPU)
    d = ScoresOf([0.5, -2.0], [1.5, -0.5])
    model.use_running_nets({"G": model.nets["G"], "D": d})
    image = torch.rand(2, 3, 16, 16) * 2 - 1
    mask = torch.zeros(2, 1, 16, 16)
    mask[:, :, 4:12, 4:12] = 1
    coarse, refined = torch.zeros_like(image), torch.full_like(image, 0.5)
    out = {"real_B": image, "mask": mask, "coarse": coarse, "refined": refined,
           "fake_B": torch.where(mask >= 0.5, refined, image)}
    terms = model.loss_D(out)
    # neuralgym's gan_hinge_loss: mean relu(1 - pos), mean relu(1 + neg), each x 0.5 by the phase's weight
    assert terms["D_real"].item() == pytest.approx((0.5 + 3.0) / 2)
    assert terms["D_fake"].item() == pytest.approx((2.5 + 0.5) / 2)
    assert {p.name: p.weight for p in model.phases()} == {"D": 0.5, "G": 1.0}
    shown = d.seen[-1]  # real then completed, each with its mask as a 4th channel
    assert shown.shape == (4, 4, 16, 16)
    assert torch.equal(shown[:2, :3], image) and torch.equal(shown[2:, :3], out["fake_B"])
    assert torch.equal(shown[:, 3:], mask.repeat(2, 1, 1, 1))
    terms = model.loss_G(out)
    assert terms["G_GAN"].item() == pytest.approx(-(1.5 - 0.5) / 2 * 2.0)
    assert terms["G_L1_coarse"].item() == pytest.approx(image.abs().mean().item() * 3.0, rel=1e-6)
    assert terms["G_L1"].item() == pytest.approx((image - 0.5).abs().mean().item() * 3.0, rel=1e-6)


def test_deepfill_gradient_reaches_the_generator_through_the_holes_only(tmp_path):
    config = tiny_config("deepfill", inpaint_photos(tmp_path / "photos"), tmp_path)
    model = model_class("deepfill")(config, CPU)
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    mask = torch.zeros(1, 1, 32, 32)
    mask[:, :, 8:24, 8:24] = 1
    refined = torch.zeros_like(image, requires_grad=True)
    out = {"real_B": image, "mask": mask, "coarse": refined * 0, "refined": refined,
           "fake_B": torch.where(mask >= 0.5, refined, image)}
    model.loss_G(out)["G_GAN"].backward()
    grad = refined.grad.abs().sum(1, keepdim=True)
    assert grad[mask == 0].sum() == 0 and grad[mask == 1].sum() > 0


def test_defaults_are_the_references():
    glcic, deepfill = CONFIGS["glcic"](), CONFIGS["deepfill"]()
    assert (glcic.steps, glcic.steps_c, glcic.steps_d, glcic.alpha) == (500000, 90000, 10000, 4e-4)
    assert (glcic.optimizer, glcic.lr, glcic.batch_size, glcic.crop_size, glcic.local_size) == \
        ("adadelta", 1.0, 16, 160, 96)
    assert (deepfill.lr, deepfill.beta1, deepfill.beta2, deepfill.gan_mode, deepfill.batch_size) == \
        (1e-4, 0.5, 0.999, "hinge", 16)
    assert (deepfill.crop_size, deepfill.ngf, deepfill.ndf, deepfill.lambda_l1, deepfill.lambda_gan,
            deepfill.masks) == (256, 48, 64, 1.0, 1.0, "deepfill")
    assert glcic.epochs_decay == deepfill.epochs_decay == 0  # constant learning rates


@pytest.mark.parametrize("name, args, message", [
    ("deepfill", ["--masks", "glcic"], "--masks glcic draws GLCIC's local area"),
    ("glcic", ["--local-size", "192"], "--local-size 192 must be a multiple of 32 and at most --crop-size 160"),
    ("glcic", ["--crop-size", "150", "--load-size", "160"], "--crop-size 150 must be a multiple of 32"),
    ("glcic", ["--gan-mode", "hinge"], "--gan-mode hinge: GLCIC's context discriminator is trained on labels"),
    ("deepfill", ["--spectral-norm"], "--spectral-norm: the inpainting discriminators"),
])
def test_bad_combinations_are_one_line_errors(name, args, message, tmp_path, capsys):
    assert main(["train", name, "--data", str(tmp_path), *args]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
