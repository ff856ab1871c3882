"""The GAN engine: phases, freezing, per-phase bookkeeping, hooks, precision, EMA, and the models' side of the line."""
import copy

import pytest
import torch
from torch import nn

from translation.checkpoint import samples
from translation.losses import WeightClipping
from translation.models.base import GANModel
from translation.training.engine import MAX_CONSECUTIVE_SKIPS, Engine, NonFiniteLossError, StepError
from translation.training.phases import OptimizerSpec, Phase


class Toy(GANModel):
    """A linear G and D; records what the engine let it see, and what its losses were."""

    name = "toy"

    def __init__(self, g_every=1, d_weight=1.0, clip=None, g_loss=None, lr=0.1):
        super().__init__(None, "cpu")
        torch.manual_seed(0)
        self.nets["G"], self.nets["D"] = nn.Linear(2, 2), nn.Linear(2, 1)
        self.use_running_nets(self.nets)
        self.g_every, self.d_weight, self.clip, self.g_loss, self.lr = g_every, d_weight, clip, g_loss, lr
        self.seen, self.logged = [], {"D_real": [], "D_fake": [], "G_adv": []}

    def generators(self):
        return {"G": samples(2)}

    def optimizers(self):
        return {"G": OptimizerSpec(("G",), kind="sgd", lr=self.lr), "D": OptimizerSpec(("D",), kind="sgd", lr=self.lr)}

    def phases(self):
        hooks = (WeightClipping(self.nets["D"], self.clip),) if self.clip else ()
        return [Phase("D", ("D",), "D", self.loss_D, weight=self.d_weight, after_step=hooks),
                Phase("G", ("G",), "G", self.loss_G, every=self.g_every)]

    def _trainable(self):
        return tuple(self.nets[k].weight.requires_grad for k in ("G", "D"))

    def forward(self, batch):
        self.seen.append(("forward", self._trainable()))
        return {"fake": self.G(batch["z"]), "real": batch["x"]}

    def loss_D(self, out):
        self.seen.append(("D", self._trainable()))
        terms = {"D_real": -self.D(out["real"]).mean(), "D_fake": self.D(out["fake"].detach()).mean()}
        for k, v in terms.items():
            self.logged[k].append(v.item())
        return terms

    def loss_G(self, out):
        self.seen.append(("G", self._trainable()))
        loss = self.g_loss(self) if self.g_loss else -self.D(out["fake"]).mean()
        self.logged["G_adv"].append(loss.item())
        return {"G_adv": loss}


def batch(step=0):
    g = torch.Generator().manual_seed(step)
    return {"z": torch.randn(4, 2, generator=g), "x": torch.randn(4, 2, generator=g) + 3}


def test_each_phase_trains_only_its_nets_and_the_shared_forward_runs_once():
    model = Toy(g_every=5)
    engine = Engine(model)
    for step in range(5):
        engine.step(batch(step), step)
    # steps 0-3: only D is due, so the forward builds no graph through G; step 4 trains both
    assert model.seen[:2] == [("forward", (False, True)), ("D", (False, True))]
    assert model.seen[-3:] == [("forward", (True, True)), ("D", (False, True)), ("G", (True, False))]
    assert [s[0] for s in model.seen].count("forward") == 5


def test_one_step_equals_plain_sgd_on_the_weighted_objective():
    model = Toy(d_weight=0.5)
    reference = Toy()
    b = batch()
    Engine(model).step(b, 0)
    fake = reference.G(b["z"]).detach()
    d_objective = 0.5 * (-reference.D(b["x"]).mean() + reference.D(fake).mean())
    grads = torch.autograd.grad(d_objective, list(reference.D.parameters()))
    with torch.no_grad():
        for p, g in zip(reference.D.parameters(), grads):
            p -= 0.1 * g
    g_objective = -reference.D(reference.G(b["z"])).mean()  # against the updated D, as in pix2pix
    grads = torch.autograd.grad(g_objective, list(reference.G.parameters()))
    with torch.no_grad():
        for p, g in zip(reference.G.parameters(), grads):
            p -= 0.1 * g
    for key in ("G", "D"):
        for p, q in zip(model.nets[key].parameters(), reference.nets[key].parameters()):
            assert torch.allclose(p, q, atol=1e-7), key


def test_a_phase_every_fifth_step_updates_then_only_and_is_averaged_over_its_own_steps():
    model = Toy(g_every=5)
    engine = Engine(model)
    before = model.G.weight.clone()
    changed = []
    for step in range(10):
        engine.step(batch(step), step)
        changed.append(not torch.equal(model.G.weight, before))
        before = model.G.weight.clone()
    assert changed == [False, False, False, False, True] * 2
    means = engine.losses.pop_means()
    assert len(model.logged["G_adv"]) == 2 and len(model.logged["D_real"]) == 10
    assert means["G_adv"] == pytest.approx(sum(model.logged["G_adv"]) / 2)  # not diluted over 10 steps
    assert means["D_fake"] == pytest.approx(sum(model.logged["D_fake"]) / 10)
    assert engine.losses.pop_means() == {}


def test_post_step_hooks_run_after_the_optimizer_step():
    model = Toy(clip=0.01, lr=10.0)  # a large step would leave D far outside the clip range
    engine = Engine(model)
    for step in range(3):
        engine.step(batch(step), step)
        assert all(p.abs().max() <= 0.01 for p in model.D.parameters())
    assert any(p.abs().max() == pytest.approx(0.01) for p in model.D.parameters())


def test_a_non_finite_loss_is_refused_before_it_reaches_the_weights():
    model = Toy(g_loss=lambda m: m.G.weight.sum() * float("nan"))
    engine = Engine(model)
    g_before, d_before = model.G.weight.clone(), model.D.weight.clone()
    with pytest.raises(NonFiniteLossError, match="loss G_adv became nan in phase G") as info:
        engine.step(batch(), 0)
    assert info.value.bad == ["G_adv"]
    assert torch.equal(model.G.weight, g_before)  # G untouched
    assert not torch.equal(model.D.weight, d_before)  # D's phase ran before and stepped


def test_fp16_overflowing_gradients_are_skipped_not_errors():
    # 1e35 * sum(w) is finite, but times the initial scale 65536 it overflows float32: the scaler skips the
    # step until the scale has halved below 3.4e38 / 1e35; a tiny lr keeps the weights sane afterwards
    model = Toy(g_loss=lambda m: m.G.weight.sum() * 1e35, lr=1e-36)
    engine = Engine(model, precision="fp16")
    start = model.G.weight.clone()
    engine.step(batch(), 0)
    assert torch.equal(model.G.weight, start) and engine.scalers["G"].get_scale() == 32768.0
    for step in range(1, 12):  # the scale halves until the scaled gradients fit, then steps go through
        engine.step(batch(step), step)
    assert not torch.equal(model.G.weight, start) and engine.scalers["G"].get_scale() < 4096
    assert engine.skipped_in_a_row["G"] == 0 and "G_adv" in engine.losses.pop_means()


def test_fp16_that_never_stops_overflowing_stops_with_advice():
    model = Toy(g_loss=lambda m: m.G.weight.sum() * float("inf"))
    engine = Engine(model, precision="fp16")
    with pytest.raises(RuntimeError, match=f"overflowed on {MAX_CONSECUTIVE_SKIPS} steps in a row.*bf16"):
        for step in range(MAX_CONSECUTIVE_SKIPS + 1):
            engine.step(batch(step), step)


def test_a_batch_too_small_for_a_batch_norm_is_a_step_error_that_says_what_to_change():
    # a batch norm over 1x1 maps (GLCIC's context D at 64 px) cannot normalise an epoch's last batch of one image
    model = Toy(g_loss=lambda m: nn.BatchNorm1d(2)(m.G(m.last_z)).sum())
    model.forward = lambda batch: (setattr(model, "last_z", batch["z"]), {"fake": model.G(batch["z"]),
                                                                          "real": batch["x"]})[1]
    engine = Engine(model)
    one = {key: value[:1] for key, value in batch().items()}
    with pytest.raises(StepError, match=r"a batch of 1 image\(s\) is too small for a batch-norm layer.*--batch-size"):
        engine.step(one, 0)
    engine.step(batch(), 1)  # two or more: fine


def test_bf16_runs_the_nets_in_bfloat16_and_keeps_weights_float32():
    model = Toy()
    outputs = Engine(model, precision="bf16").step(batch(), 0)
    assert outputs["fake"].dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in model.nets.parameters())


def test_ema_follows_the_generator_and_is_saved():
    model = Toy()
    engine = Engine(model, ema_decay=0.5)
    average = model.G.weight.detach().clone()
    for step in range(4):
        engine.step(batch(step), step)
        decay = min(0.5, (1 + step + 1) / (10 + step + 1))  # warm-up, then the decay
        average = decay * average + (1 - decay) * model.G.weight.detach()
    ema = engine.ema["G"].average
    assert torch.allclose(ema.weight, average, atol=1e-6) and not torch.equal(ema.weight, model.G.weight)
    state = engine.state_dict()["ema"]
    assert state["updates"] == 4 and set(state["nets"]) == {"G"}  # generators only
    again = Engine(Toy(), ema_decay=0.5)
    again.load_state_dict(engine.state_dict())
    assert torch.equal(again.ema["G"].average.weight, ema.weight) and again.ema["G"].updates == 4


def test_lazy_r1_runs_in_its_own_phase_every_kth_step_with_weight_k():
    from translation.losses import R1

    class LazyR1(Toy):
        r1 = R1(gamma=10.0, every=4)

        def phases(self):
            return super().phases() + [Phase("D_reg", ("D",), "D", self.loss_R1, every=self.r1.every,
                                             weight=self.r1.every)]

        def loss_R1(self, out):
            self.expected.append(0.5 * 10.0 * self.D.weight.detach().pow(2).sum().item())  # linear D: grad = w
            return {"R1": self.r1(self.D, out["real"])}

    model, plain = LazyR1(), Toy()
    model.expected = []
    engine, plain_engine = Engine(model), Engine(plain)
    differs = []
    for step in range(8):
        engine.step(batch(step), step)
        plain_engine.step(batch(step), step)
        differs.append(not torch.equal(model.D.weight, plain.D.weight))
    assert differs == [False] * 3 + [True] * 5  # first applied at step 3, then D's path has changed for good
    assert len(model.expected) == 2  # steps 3 and 7
    assert engine.losses.pop_means()["R1"] == pytest.approx(sum(model.expected) / 2)  # logged unweighted
    assert "R1" not in plain_engine.losses.pop_means()


def test_phases_must_name_declared_nets_and_optimizers():
    class Broken(Toy):
        def phases(self):
            return [Phase("D", ("D",), "critic", self.loss_D)]

    with pytest.raises(ValueError, match="phase D uses optimizer 'critic'; the model declares G, D"):
        Engine(Broken())


def test_resuming_with_another_memory_layout_continues_the_same_optimisation():
    """Adam's moments saved from NCHW weights, loaded for NHWC ones (--channels-last switched on at resume)."""
    from translation.models.pix2pix import Pix2PixModel

    from conftest import tiny_pix2pix_config

    def fresh(channels_last):
        torch.manual_seed(0)
        # batch norm: the conv biases before an instance norm get only rounding noise as gradient, which Adam
        # would blow up to full steps whatever the layout
        model = Pix2PixModel(tiny_pix2pix_config(".", ".", dropout=False, norm="batch"), torch.device("cpu"))
        return model, Engine(model, channels_last=channels_last)

    b = {"A": torch.rand(2, 3, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1}
    straight, straight_engine = fresh(False)
    straight_engine.step(b, 0)
    saved = copy.deepcopy({"nets": {k: v.state_dict() for k, v in straight.nets.items()},
                           **straight_engine.state_dict()})  # as written to disk, before the next step
    straight_engine.step(b, 1)
    resumed, resumed_engine = fresh(True)
    for key, net in resumed.nets.items():
        net.load_state_dict(saved["nets"][key])
    resumed_engine.load_state_dict(saved)
    resumed_engine.step(b, 1)
    for key in ("G", "D"):
        for p, q in zip(straight.nets[key].parameters(), resumed.nets[key].parameters()):
            assert torch.allclose(p, q, atol=1e-6), key  # mixed-up moments are off by ~lr (2e-4)
