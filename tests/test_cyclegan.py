import copy
import dataclasses
import random

import pytest
import torch
import torch.nn.functional as F

from translation.cli import main
from translation.inference.translator import load_translator
from translation.models.cyclegan import CycleGANConfig, CycleGANModel
from translation.models.image_pool import ImagePool
from translation.checkpoint import read_checkpoint as load_checkpoint
from translation.training.engine import Engine
from translation.training.trainer import Trainer
from translation.utils.device import seed_everything

from test_unpaired import make_unpaired_set
from tiny_configs import tiny_config as tiny_model_config


def tiny_config(data, runs, **overrides) -> CycleGANConfig:
    """The tiny CycleGAN (tiny_configs.py), 8 steps that log, draw and save every 4, a pool of 3."""
    run = dict(steps=8, log_every=4, image_every=4, save_every=4, pool_size=3, seed=5)
    return tiny_model_config("cyclegan", data, runs, **{**run, **overrides})


@pytest.fixture
def unpaired_set(tmp_path):
    return make_unpaired_set(tmp_path / "data", n_a=6, n_b=4)


def test_defaults_are_the_papers():
    c = CycleGANConfig()
    assert (c.netG, c.norm, c.dropout, c.netD, c.gan_mode) == ("resnet_9blocks", "instance", False, "basic", "lsgan")
    assert (c.lambda_A, c.lambda_B, c.lambda_identity, c.pool_size) == (10.0, 10.0, 0.5, 50)
    assert (c.lr, c.beta1, c.batch_size, c.load_size, c.crop_size, c.flip) == (2e-4, 0.5, 1, 286, 256, True)
    assert (c.epochs, c.epochs_decay) == (100, 100)


def test_pool_fills_then_swaps_half_the_time():
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: every image passes through and is stored
    random.seed(0)
    swapped, seen = 0, {float(x) for x in first.flatten()}
    for step in range(200):
        new = float(100 + step)
        out = float(pool.query(torch.full((1, 1, 1, 1), new)))
        assert out == new or out in seen  # the new image or a past one
        swapped += out != new
        seen.add(new)
    assert 70 < swapped < 130  # about half are swapped for history
    assert len(pool.images) == 4
    restored = ImagePool(4)
    restored.load_state_dict(pool.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(pool.images, restored.images))
    assert ImagePool(0).query(first) is first


def test_a_few_steps_train_and_translate_both_ways(unpaired_set, tmp_path):
    trainer = Trainer(CycleGANModel, tiny_config(unpaired_set, tmp_path), progress=False)
    path = trainer.fit()
    state = load_checkpoint(path)
    assert {k: r["direction"] for k, r in state["generators"].items()} == {"G_A": "AtoB", "G_B": "BtoA"}
    assert state["test_mode"] == "eval" and len(state["extra"]["pool_A"]["images"]) == 3
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    outputs = trainer.model.forward({"A": x, "B": x})
    assert list(trainer.model.visuals(outputs)) == ["real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B"]
    for direction, key in (("AtoB", "G_A"), ("BtoA", "G_B")):
        translator = load_translator(path, direction)
        with torch.no_grad():
            assert torch.equal(translator.net(x), getattr(trainer.model, key).eval()(x))
    assert (tmp_path / "tiny" / "samples" / "step_00000008.png").is_file()


def test_one_step_follows_the_official_update(unpaired_set, tmp_path):
    """G step (D frozen) on the full objective, then D_A on domain B and D_B on domain A, halved."""
    config = tiny_config(unpaired_set, tmp_path, pool_size=0, lambda_A=7.0, lambda_B=3.0, lambda_identity=0.5)
    seed_everything(0)
    model = CycleGANModel(config, torch.device("cpu"))
    ref = copy.deepcopy(model)
    engine, ref_optimizers = Engine(model), Engine(ref).optimizers  # fresh optimizers of the same kind
    batch = {"A": torch.rand(2, 3, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1}
    engine.step(batch, 0)
    losses = engine.losses.pop_means()

    a, b = batch["A"], batch["B"]
    mse1 = lambda p: F.mse_loss(p, torch.ones_like(p))  # noqa: E731
    mse0 = lambda p: F.mse_loss(p, torch.zeros_like(p))  # noqa: E731
    fake_b, fake_a = ref.G_A(a), ref.G_B(b)
    loss_g = (mse1(ref.D_A(fake_b)) + mse1(ref.D_B(fake_a)) + 7 * F.l1_loss(ref.G_B(fake_b), a)
              + 3 * F.l1_loss(ref.G_A(fake_a), b) + 0.5 * 3 * F.l1_loss(ref.G_A(b), b)
              + 0.5 * 7 * F.l1_loss(ref.G_B(a), a))
    ref_optimizers["G"].zero_grad()
    loss_g.backward()
    for d in (ref.D_A, ref.D_B):
        for p in d.parameters():
            p.grad = None  # the real step never computes D gradients here (D frozen)
    ref_optimizers["G"].step()
    loss_d_a = 0.5 * (mse1(ref.D_A(b)) + mse0(ref.D_A(fake_b.detach())))
    loss_d_b = 0.5 * (mse1(ref.D_B(a)) + mse0(ref.D_B(fake_a.detach())))
    ref_optimizers["D"].zero_grad()
    (loss_d_a + loss_d_b).backward()
    ref_optimizers["D"].step()

    assert losses["D_A"] == pytest.approx(loss_d_a.item()) and losses["D_B"] == pytest.approx(loss_d_b.item())
    assert set(losses) == {"G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "D_A", "D_B"}
    for key in ("G_A", "G_B", "D_A", "D_B"):
        for (name, p), q in zip(model.nets[key].named_parameters(), ref.nets[key].parameters()):
            assert torch.allclose(p, q, atol=1e-6), f"{key}.{name}"


def _count_generator_calls(model, batch):
    calls = {"G_A": 0, "G_B": 0}
    for key in calls:
        model.nets[key].register_forward_hook(lambda *args, key=key: calls.__setitem__(key, calls[key] + 1))
    engine = Engine(model)
    engine.step(batch, 0)
    return calls, engine.losses.pop_means()


def test_identity_off_skips_its_forward_passes(unpaired_set, tmp_path):
    batch = {"A": torch.rand(1, 3, 32, 32) * 2 - 1, "B": torch.rand(1, 3, 32, 32) * 2 - 1}
    calls, losses = _count_generator_calls(
        CycleGANModel(tiny_config(unpaired_set, tmp_path, lambda_identity=0.0), torch.device("cpu")), batch)
    assert calls == {"G_A": 2, "G_B": 2} and "idt_A" not in losses
    calls, losses = _count_generator_calls(CycleGANModel(tiny_config(unpaired_set, tmp_path), torch.device("cpu")),
                                           batch)
    assert calls == {"G_A": 3, "G_B": 3} and losses["idt_A"] > 0


def test_identity_loss_needs_equal_channels(unpaired_set, tmp_path):
    with pytest.raises(ValueError, match="--input-nc == --output-nc .*--lambda-identity 0"):
        tiny_config(unpaired_set, tmp_path, input_nc=1)  # checked as the command line checks it
    model = CycleGANModel(tiny_config(unpaired_set, tmp_path, input_nc=1, lambda_identity=0.0), torch.device("cpu"))
    engine = Engine(model)
    outputs = engine.step({"A": torch.zeros(1, 1, 32, 32), "B": torch.zeros(1, 3, 32, 32)}, 0)
    assert model.visuals(outputs)["fake_A"].shape == (1, 1, 32, 32) and "D_B" in engine.losses.pop_means()


def test_resume_with_pools_is_bit_identical(unpaired_set, tmp_path):
    straight = tiny_config(unpaired_set, tmp_path / "a", steps=12)
    Trainer(CycleGANModel, straight, progress=False).fit()
    split = dataclasses.replace(straight, checkpoints_dir=str(tmp_path / "b"))
    Trainer(CycleGANModel, split, progress=False).fit(until_step=6)
    resumed = load_checkpoint(tmp_path / "b" / "tiny")
    assert resumed["step"] == 6 and len(resumed["extra"]["pool_B"]["images"]) == 3  # pool full mid-run
    Trainer(CycleGANModel, split, resume=True, progress=False).fit()
    a, b = load_checkpoint(tmp_path / "a" / "tiny"), load_checkpoint(tmp_path / "b" / "tiny")
    for net in a["nets"]:
        for key, value in a["nets"][net].items():
            assert torch.equal(value, b["nets"][net][key]), f"{net}.{key} differs after resume"
    for pool in ("pool_A", "pool_B"):
        assert all(torch.equal(x, y) for x, y in zip(a["extra"][pool]["images"], b["extra"][pool]["images"]))


def test_serial_batches_take_a_in_file_order(unpaired_set, tmp_path):
    trainer = Trainer(CycleGANModel, tiny_config(unpaired_set, tmp_path, serial_batches=True), progress=False)
    trainer._build()
    first = next(iter(trainer._loader()))
    assert [p.rsplit("/", 1)[1] for p in first["A_path"]] == ["a0.png", "a1.png"]
    assert [p.rsplit("/", 1)[1] for p in first["B_path"]] == ["b0.png", "b1.png"]


def test_cli_train_then_translate_both_directions(unpaired_set, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "cyclegan", "--data", str(unpaired_set), "--name", "h2z", "--checkpoints-dir", str(runs),
                 "--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load-size", "32", "--crop-size", "32",
                 "--steps", "2", "--num-workers", "0", "--no-progress", "--lambda-identity", "0",
                 "--pool-size", "0", "--device", "cpu"]) == 0
    for direction, source in (("AtoB", "trainA"), ("BtoA", "trainB")):
        out = tmp_path / direction
        assert main(["translate", str(runs / "h2z"), str(unpaired_set / source), str(out), "--direction",
                     direction, "--no-progress", "--num-workers", "0"]) == 0
        assert len(list(out.iterdir())) == len(list((unpaired_set / source).iterdir()))
    assert "(BtoA, test mode eval)" in capsys.readouterr().err


def test_demo_held_out_pairs_are_one_pose_in_the_two_kinds(tmp_path):
    import numpy as np

    from translation.data.io import list_images, read_image
    from translation.demo.apple2orange import build_apple2orange
    from translation.demo.fruit_scores import foreground_colour, silhouette, silhouette_iou

    assert build_apple2orange(tmp_path, train_count=3, test_count=5, seed=1) == (3, 3, 5)
    for folder, kind in (("trainA", "apple"), ("trainB", "orange")):  # the official apple2orange layout
        assert [p.name for p in list_images(tmp_path / folder)] == [f"{kind}_{i:04d}.png" for i in range(3)]
    names = [p.name for p in list_images(tmp_path / "testA")]
    assert names == [p.name for p in list_images(tmp_path / "testB")] and len(names) == 5
    apples = [read_image(tmp_path / "testA" / n) for n in names]
    oranges = [read_image(tmp_path / "testB" / n) for n in names]
    for i, (apple, orange) in enumerate(zip(apples, oranges)):
        red, green, _ = foreground_colour(apple)
        assert green < 0.35 * red and foreground_colour(orange)[1] > 0.45 * foreground_colour(orange)[0], names[i]
        # the same place and size: the orange covers the apple's body (stem and leaf aside), better than any
        # other pose's orange does
        overlaps = [silhouette_iou(apple, other) for other in oranges]
        assert overlaps[i] > 0.8 and int(np.argmax(overlaps)) == i, (names[i], overlaps)
        centre = lambda image: np.argwhere(silhouette(image)).mean(axis=0)  # noqa: E731
        assert np.abs(centre(apple) - centre(orange)).max() < 3, names[i]


def test_demo_scores_on_known_images():
    import numpy as np

    from translation.demo.fruit_scores import KindClassifier, score, silhouette, silhouette_iou
    from translation.demo.shading import BACKGROUND

    def square(colour, left):  # a 10x10 square of `colour` on paper, its left edge at column `left`
        image = np.tile(BACKGROUND, (20, 20, 1))
        image[5:15, left:left + 10] = colour
        return image

    paper, red, orange = np.tile(BACKGROUND, (20, 20, 1)), (0.6, 0.1, 0.1), (0.8, 0.4, 0.1)
    assert not silhouette(paper * 0.76).any()  # the table shadow (at most 25 % darker) is not the object
    assert silhouette_iou(square(red, 0), square(orange, 5)) == pytest.approx(50 / 150)  # overlap 5 of 15 columns
    assert silhouette_iou(paper, paper) == 1.0
    classifier = KindClassifier.fit({"apple": [square(red, 2)], "orange": [square(orange, 7)]})
    assert classifier.predict(square(red, 9)) == "apple" and classifier.predict(square(orange, 0)) == "orange"
    assert classifier.predict(square((0.7, 0.3, 0.1), 0)) == "orange" and classifier.predict(paper) is None
    apples, oranges = [square(red, 3), square(red, 6)], [square(orange, 3), square(orange, 6)]
    # leaving the apples unchanged: not oranges, every outline kept, off by the colour change over the square
    assert score(apples, apples, oranges, "orange", classifier) == pytest.approx(
        {"became": 0.0, "shape_iou": 1.0, "l1": (0.2 + 0.3 + 0.0) / 3 * 100 / 400})
    assert score(apples, oranges, oranges, "orange", classifier) == pytest.approx(
        {"became": 1.0, "shape_iou": 1.0, "l1": 0.0})
    # one bare paper, one orange two columns off: paper where the first orange and two of the second's columns
    # should be, orange over two columns of paper
    off = np.abs(BACKGROUND - orange).mean()
    assert score(apples, [paper, square(orange, 8)], oranges, "orange", classifier) == pytest.approx(
        {"became": 0.5, "shape_iou": (0 + 80 / 120) / 2, "l1": (100 / 400 + 40 / 400) * off / 2})


def test_demo_run_end_to_end_scores_its_files(tmp_path):
    import numpy as np

    from translation.data.io import list_images, read_image
    from translation.demo.cyclegan_demo import run_demo
    from translation.demo.fruit_scores import KindClassifier, score

    result = run_demo(tmp_path, steps=2, sheet_rows=3, train_count=4, test_count=3)
    assert read_image(result["sheet"]).shape[:2] == (22 + 3 * (128 + 2), 6 * 128 + 5 * 2)  # 3 poses, 6 columns
    data, outputs = tmp_path / "apple2orange", tmp_path / "cyclegan_translated"
    read = lambda folder: [read_image(p) for p in list_images(folder)]  # noqa: E731
    apples, oranges, to_orange, to_apple = (read(data / "testA"), read(data / "testB"), read(outputs / "AtoB"),
                                            read(outputs / "BtoA"))
    assert len(to_orange) == len(to_apple) == 3
    # the figures it reports are those of the files it wrote, with the classifier fitted on the training set
    classifier = KindClassifier.fit({"apple": read(data / "trainA"), "orange": read(data / "trainB")})
    assert result["AtoB"]["CycleGAN"] == pytest.approx(score(apples, to_orange, oranges, "orange", classifier))
    assert result["BtoA"]["CycleGAN"] == pytest.approx(score(oranges, to_apple, apples, "apple", classifier))
    average_orange = np.mean(read(data / "trainB"), axis=0)
    assert result["AtoB"]["average"] == pytest.approx(score(apples, [average_orange] * 3, oranges, "orange",
                                                            classifier))
    for direction in ("AtoB", "BtoA"):  # leaving the input as it is changes no kind and keeps every outline
        assert result[direction]["unchanged"]["became"] == 0.0 and result[direction]["unchanged"]["shape_iou"] == 1.0
        assert result[direction]["true"]["became"] == 1.0 and result[direction]["true"]["l1"] == 0.0
