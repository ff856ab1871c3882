"""Training health: each warning on synthetic loss series and probes, once per episode, in TensorBoard too."""
import math
import random
from contextlib import nullcontext

import pytest
import torch

from translation.training.health import (
    HealthMonitor,
    HealthThresholds,
    adversarial_terms,
    kendall_tau,
    mean_pairwise_distance,
    probe_outputs,
)

PIX2PIX = ("G", "D")
CYCLEGAN = ("G_A", "G_B", "D_A", "D_B")
W = HealthThresholds().warmup_steps  # the first step judged


class FakeWriter:
    def __init__(self):
        self.scalars, self.texts = [], []

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def add_text(self, tag, text, step):
        self.texts.append((tag, text, step))


def feed(monitor, series: list[dict], start: int = W) -> list[tuple[int, str]]:
    """Observe each log's terms in turn, one per step from `start` (by default the warm-up's end); the
    (step, line) pairs said."""
    return [(step, line) for step, losses in enumerate(series, start) for line in monitor.observe(step, losses)]


def noisy(rng, centre, spread):
    return centre + rng.uniform(-spread, spread)


# --- which terms are adversarial -------------------------------------------------------------------------
def test_the_naming_rule_finds_every_models_adversarial_terms():
    assert adversarial_terms(["D_real", "D_fake", "G_GAN", "G_L1"], PIX2PIX) == {"D": ["D_real", "D_fake"],
                                                                                 "G": ["G_GAN"]}
    cyclegan = ["D_A", "D_B", "G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B"]
    assert adversarial_terms(cyclegan, CYCLEGAN) == {"D_A": ["D_A"], "D_B": ["D_B"], "G_A": ["G_A"], "G_B": ["G_B"]}
    stargan = ["D_real", "D_fake", "D_cls", "D_gp", "G_fake", "G_rec", "G_cls"]
    assert adversarial_terms(stargan, PIX2PIX) == {"D": ["D_real", "D_fake"], "G": ["G_fake"]}
    gan = ["D_real", "D_fake", "D_gp", "D_r1", "G", "G_feature_matching"]
    assert adversarial_terms(gan, PIX2PIX) == {"D": ["D_real", "D_fake"], "G": ["G"]}


# --- D has won ----------------------------------------------------------------------------------------------
def decaying_d(n=60, floor=0.001):
    """D's terms decay from the healthy log 2 towards 0 and stay; G's loss grows as G loses."""
    return [{"D_real": max(0.69 * math.exp(-i / 5), floor), "D_fake": max(0.69 * math.exp(-i / 5), floor),
             "G_GAN": 0.7 + i / 10, "G_L1": 10.0} for i in range(n)]


def test_d_near_zero_warns_once_and_clears_once():
    writer = FakeWriter()
    monitor = HealthMonitor("vanilla", PIX2PIX, writer=writer)
    series = decaying_d(60) + [{"D_real": 0.6, "D_fake": 0.7, "G_GAN": 0.8}] * 20
    said = feed(monitor, series)
    # below 0.05 from log 14 on: warned when the last 10 all are; cleared when half the window is healthy again
    assert [line.split(":")[0] for _, line in said] == [f"health warning at step {W + 23}", f"health at step {W + 64}"]
    assert "D has won" in said[0][1] and "below 0.05" in said[0][1] and "no longer winning" in said[1][1]
    assert [text for _, text, _ in writer.texts] == [line for _, line in said]
    flags = {step: value for tag, value, step in writer.scalars if tag == "health/D_won/D"}
    assert flags[W + 20] == 0.0 and flags[W + 40] == 1.0 and flags[W + 79] == 0.0


def test_a_noisy_healthy_d_and_g_say_nothing():
    rng = random.Random(0)
    series = [{"D_real": noisy(rng, 0.6, 0.3), "D_fake": noisy(rng, 0.6, 0.3), "G_GAN": noisy(rng, 1.0, 0.5)}
              for _ in range(500)]
    assert feed(HealthMonitor("vanilla", PIX2PIX), series) == []
    lsgan = [{"D_A": noisy(rng, 0.2, 0.1), "D_B": noisy(rng, 0.2, 0.1), "G_A": noisy(rng, 0.4, 0.2),
              "G_B": noisy(rng, 0.4, 0.2)} for _ in range(500)]
    assert feed(HealthMonitor("lsgan", CYCLEGAN), lsgan) == []


def test_near_zero_depends_on_the_loss_and_each_discriminator_is_judged_alone():
    # 0.03 is near 0 for BCE (0.05) but not for least squares (0.02)
    assert feed(HealthMonitor("vanilla", PIX2PIX), [{"D_real": 0.03, "D_fake": 0.03}] * 12)
    assert not feed(HealthMonitor("lsgan", PIX2PIX), [{"D_real": 0.03, "D_fake": 0.03}] * 12)
    said = feed(HealthMonitor("lsgan", CYCLEGAN), [{"D_A": 0.001, "D_B": 0.25}] * 12)
    assert len(said) == 1 and "D_A has won" in said[0][1]
    shorter = HealthMonitor("vanilla", PIX2PIX, HealthThresholds(won_window=3))
    assert [step for step, _ in feed(shorter, [{"D_real": 0.01, "D_fake": 0.01}] * 12)] == [W + 2]


def test_a_critic_has_won_when_its_gap_grows_steadily_not_when_its_loss_is_near_0():
    # WGAN: D_real = -E[D(real)], D_fake = E[D(fake)]; the gap -(D_real + D_fake) growing without bound
    growing = [{"D_real": -(1 + 0.3 * i), "D_fake": 0.0, "D_gp": 0.1, "G": 0.0} for i in range(30)]
    said = feed(HealthMonitor("wgan", PIX2PIX), growing)
    assert len(said) == 1 and said[0][0] == W + 19 and "critic gap" in said[0][1]
    writer = FakeWriter()
    near_zero = [{"D_real": -0.001, "D_fake": 0.0005, "G": 0.0} for _ in range(50)]
    assert feed(HealthMonitor("wgan", PIX2PIX, writer=writer), near_zero) == []
    assert any(tag == "health/critic_gap/D" for tag, _, _ in writer.scalars)
    rng = random.Random(1)
    healthy = [{"D_real": noisy(rng, -2, 0.5), "D_fake": noisy(rng, 0.5, 0.5), "G": noisy(rng, -0.5, 0.5)}
               for _ in range(300)]
    assert feed(HealthMonitor("wgan", PIX2PIX), healthy) == []


# --- D stopped working --------------------------------------------------------------------------------------
def test_g_loss_falling_steadily_while_d_rises_warns_once():
    rng = random.Random(2)
    healthy = [{"D_real": noisy(rng, 0.5, 0.2), "D_fake": noisy(rng, 0.5, 0.2), "G_GAN": noisy(rng, 1.5, 0.3)}
               for _ in range(30)]
    falling = [{"D_real": 0.4 + 0.02 * i, "D_fake": 0.4 + 0.02 * i + noisy(rng, 0, 0.01),
                "G_GAN": 1.5 - 0.04 * i + noisy(rng, 0, 0.01)} for i in range(30)]
    writer = FakeWriter()
    said = feed(HealthMonitor("vanilla", PIX2PIX, writer=writer), healthy + falling + healthy)
    (start, warning), (end, clearing) = said
    assert W + 30 < start < W + 60 <= end and warning.startswith("health warning") and clearing.startswith("health at")
    assert "fell steadily" in warning
    assert any(tag == "health/D_stopped/G" and value == 1.0 for tag, value, _ in writer.scalars)


def test_g_loss_falling_alone_or_for_a_critic_is_not_a_warning():
    falling_g = [{"D_real": 0.5, "D_fake": 0.5, "G_GAN": 2.0 - 0.05 * i} for i in range(30)]  # D flat
    assert feed(HealthMonitor("vanilla", PIX2PIX), falling_g) == []
    critic = [{"D_real": -1.0 + 0.01 * i, "D_fake": 0.5, "G": 2.0 - 0.05 * i} for i in range(30)]
    assert feed(HealthMonitor("wgan", PIX2PIX), critic) == []


def test_each_cyclegan_generator_is_judged_against_its_own_discriminator():
    series = [{"D_A": 0.2 + 0.01 * i, "D_B": 0.25, "G_A": 1.0 - 0.03 * i, "G_B": 1.0 - 0.03 * i}
              for i in range(25)]
    said = feed(HealthMonitor("lsgan", CYCLEGAN), series)
    assert len(said) == 1 and said[0][1].split(f"warning at step {W + 19}: ")[1].startswith("G_A's")


def test_a_model_may_declare_its_adversarial_terms():
    monitor = HealthMonitor("vanilla", ("G", "D"), terms={"D": ("D_adv",), "G": ("G_adv",)})
    assert feed(monitor, [{"D_adv": 0.01, "D_real": 0.7}] * 10)


def test_kendall_tau_reads_the_trend_not_the_scale():
    assert kendall_tau([1, 2, 3, 4]) == 1.0 and kendall_tau([4, 3, 2, 1]) == -1.0
    assert kendall_tau([1e-6, 3e-6, 2e-6, 4e-6]) == kendall_tau([1, 3, 2, 4])


# --- the warm-up --------------------------------------------------------------------------------------------
def test_nothing_is_judged_or_remembered_during_the_warm_up():
    writer = FakeWriter()
    monitor = HealthMonitor("vanilla", PIX2PIX, writer=writer)
    won = {"D_real": 0.001, "D_fake": 0.001, "G_GAN": 5.0}
    assert feed(monitor, [won] * W, start=0) == [] and writer.scalars == []
    # the window starts filling at the warm-up's end: D's near-0 loss is said after won_window logs past it
    said = feed(monitor, [won] * 20)
    assert [step for step, _ in said] == [W + HealthThresholds().won_window - 1]
    torch.manual_seed(0)
    real = torch.rand(8, 3, 16, 16)
    same = real[:1].expand(8, -1, -1, -1)
    assert monitor.diversity(W - 1, same, real) == [] and "collapsed" in monitor.diversity(W, same, real)[0]


def test_a_4_step_run_says_nothing_though_its_fresh_generator_would_read_as_collapsed(paired_set, tmp_path, capsys):
    from conftest import tiny_pix2pix_config

    from translation.models.pix2pix import Pix2PixModel
    from translation.training.health import TrainingHealth
    from translation.training.trainer import Trainer

    # a log and a sheet (with its probe) at every step
    trainer = Trainer(Pix2PixModel, tiny_pix2pix_config(paired_set, tmp_path, steps=4, log_every=1, image_every=1),
                      progress=False)
    trainer.fit()
    log = capsys.readouterr().err
    assert "step 4/4" in log and "health" not in log
    # the same generator probed at the warm-up's end: a collapse, said (a fresh U-Net passes little of its input)
    health = TrainingHealth(trainer.model, trainer.dataset, None, nullcontext, batch_size=2)
    assert health.samples(W - 1) == []
    said = health.samples(W)
    assert len(said) == 1 and "fake_B: sample diversity collapsed" in said[0]


# --- diversity ----------------------------------------------------------------------------------------------
def test_identical_outputs_are_a_collapse_diverse_ones_are_not():
    torch.manual_seed(0)
    real = torch.rand(8, 3, 16, 16) * 2 - 1
    diverse = torch.rand(8, 3, 16, 16) * 2 - 1
    collapsed = diverse[:1].expand(8, -1, -1, -1) + 0.001 * torch.randn(8, 3, 16, 16)
    writer = FakeWriter()
    monitor = HealthMonitor("vanilla", PIX2PIX, writer=writer)
    assert monitor.diversity(W + 10, diverse, real, "fake_B") == []
    said = monitor.diversity(W + 20, collapsed, real, "fake_B")
    assert len(said) == 1 and "collapsed" in said[0] and "fake_B" in said[0]
    assert monitor.diversity(W + 30, collapsed, real, "fake_B") == []  # still collapsed: said once
    assert "recovered" in monitor.diversity(W + 40, diverse, real, "fake_B")[0]
    ratios = [value for tag, value, _ in writer.scalars if tag == "health/diversity/fake_B"]
    assert ratios[0] == pytest.approx(1.0, abs=0.1) and ratios[1] < 0.01
    assert [value for tag, value, _ in writer.scalars if tag == "health/collapse/fake_B"] == [0.0, 1.0, 1.0, 0.0]


def test_mean_pairwise_distance_is_the_mean_l1_over_pairs():
    images = torch.stack([torch.zeros(1, 2, 2), torch.ones(1, 2, 2), torch.full((1, 2, 2), 3.0)])
    assert mean_pairwise_distance(images) == pytest.approx((1 + 3 + 2) / 3)
    assert math.isnan(mean_pairwise_distance(images[:1]))
    # identical real images (nothing to compare with) are not judged
    assert HealthMonitor("vanilla", PIX2PIX).diversity(W, images, torch.zeros(3, 1, 2, 2)) == []


def test_probing_keeps_modes_rng_and_batch_norm_statistics():
    from types import SimpleNamespace

    class Model:  # the contract's shared forward: noise drawn inside, batch norm in train mode
        device = torch.device("cpu")

        def __init__(self):
            self.nets = torch.nn.ModuleDict({"G": torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1),
                                                                      torch.nn.BatchNorm2d(2))})
            self.config = SimpleNamespace(gan_mode="vanilla")

        def forward(self, batch):
            noise = torch.randn_like(batch["image"])
            return {"real": batch["image"], "fake": self.nets["G"](batch["image"] + noise)[:, :1]}

    model = Model()
    batch = {"image": torch.rand(6, 1, 4, 4), "path": [str(i) for i in range(6)]}
    statistics = {k: v.clone() for k, v in model.nets.state_dict().items()}
    torch.manual_seed(7)
    expected_next = torch.rand(3)
    torch.manual_seed(7)
    first = probe_outputs(model, batch, chunk_size=4, autocast=nullcontext)
    assert torch.equal(torch.rand(3), expected_next)  # the run's random stream is untouched
    assert all(torch.equal(v, statistics[k]) for k, v in model.nets.state_dict().items())
    assert model.nets.training
    second = probe_outputs(model, batch, chunk_size=4, autocast=nullcontext)
    assert list(first) == ["fake"] and torch.equal(first["fake"][0], second["fake"][0])  # fixed noise
    assert first["fake"][0].shape == (6, 1, 4, 4) and torch.equal(first["fake"][1], batch["image"])


# --- a real run ---------------------------------------------------------------------------------------------
def test_training_runs_the_monitor(paired_set, tmp_path, monkeypatch):
    from conftest import tiny_pix2pix_config

    from translation.models.pix2pix import Pix2PixModel
    from translation.training import health
    from translation.training.trainer import Trainer

    calls = []
    # a warm-up of 10 steps, so that this 20-step run probes at its two sheets (10 and 20)
    init = health.TrainingHealth.__init__
    monkeypatch.setattr(health.TrainingHealth, "__init__", lambda self, *args: init(
        self, *args, thresholds=HealthThresholds(warmup_steps=10)))
    observe, diversity = health.HealthMonitor.observe, health.HealthMonitor.diversity
    monkeypatch.setattr(health.HealthMonitor, "observe",
                        lambda self, step, losses: calls.append(("observe", step)) or observe(self, step, losses))
    monkeypatch.setattr(health.HealthMonitor, "diversity", lambda self, step, generated, real, name="fake": (
        calls.append(("diversity", step, name, tuple(generated.shape))) or diversity(self, step, generated, real, name)))
    Trainer(Pix2PixModel, tiny_pix2pix_config(paired_set, tmp_path), progress=False).fit()
    assert ("observe", 5) in calls and ("observe", 20) in calls
    probed = [(call[1], call[2], call[3]) for call in calls if call[0] == "diversity"]
    assert probed == [(10, "fake_B", (8, 3, 32, 32)), (20, "fake_B", (8, 3, 32, 32))]  # all 8 samples
