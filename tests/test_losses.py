"""Adversarial losses and regularizers on inputs whose values and gradient signs are known by hand."""
import math

import pytest
import torch
from torch import nn

from translation.losses import (DRAGAN, R1, GradientPenalty, WeightClipping, adversarial_loss,
                                adversarial_losses)

REAL, FAKE = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])


def softplus(x):
    return math.log1p(math.exp(x))


def test_registry_names_every_loss_and_rejects_unknown_ones():
    assert adversarial_losses() == ["minimax", "vanilla", "nonsaturating", "lsgan", "wgan", "hinge", "ragan",
                                    "ralsgan"]
    with pytest.raises(ValueError, match="unknown GAN loss 'wasserstein'; choose one of minimax, vanilla"):
        adversarial_loss("wasserstein")


@pytest.mark.parametrize("name", ["minimax", "vanilla", "nonsaturating"])
def test_binary_cross_entropy_discriminator(name):
    real, fake = adversarial_loss(name).discriminator(REAL, FAKE)
    # -log sigmoid(x) = softplus(-x); -log(1 - sigmoid(x)) = softplus(x)
    assert real.item() == pytest.approx((softplus(-2.0) + softplus(1.0)) / 2)
    assert fake.item() == pytest.approx((softplus(0.5) + softplus(-3.0)) / 2)


def test_minimax_generator_saturates_and_nonsaturating_does_not():
    confident = torch.tensor([-8.0], requires_grad=True)  # D is sure the fake is fake
    minimax = adversarial_loss("minimax").generator(confident)
    assert minimax.item() == pytest.approx(-softplus(-8.0))  # log(1 - D(G(z)))
    (grad_minimax,) = torch.autograd.grad(minimax, confident)
    nonsat = adversarial_loss("nonsaturating").generator(confident)
    assert nonsat.item() == pytest.approx(softplus(8.0))  # -log D(G(z))
    (grad_nonsat,) = torch.autograd.grad(nonsat, confident)
    assert grad_minimax.item() < 0 and grad_nonsat.item() < 0  # both push the logit up...
    assert abs(grad_nonsat.item()) > 1000 * abs(grad_minimax.item())  # ...the original game barely (sec. 3)


def test_lsgan_is_mean_squared_distance_to_label():
    real, fake = adversarial_loss("lsgan").discriminator(FAKE, REAL)
    assert real.item() == pytest.approx((0.25 + 16.0) / 2) and fake.item() == pytest.approx((4.0 + 1.0) / 2)
    assert adversarial_loss("lsgan").generator(FAKE).item() == pytest.approx((0.25 + 16.0) / 2)


def test_hinge_and_wgan_values():
    real, fake = adversarial_loss("hinge").discriminator(FAKE, FAKE)
    assert real.item() == pytest.approx((0.5 + 4.0) / 2) and fake.item() == pytest.approx((1.5 + 0.0) / 2)
    real, fake = adversarial_loss("wgan").discriminator(REAL, FAKE)
    assert real.item() == pytest.approx(-0.5) and fake.item() == pytest.approx(-1.25)
    for name in ("wgan", "hinge"):
        assert adversarial_loss(name).generator(FAKE).item() == pytest.approx(1.25)


def test_relativistic_losses_compare_with_the_other_sides_mean():
    mean_real, mean_fake = REAL.mean().item(), FAKE.mean().item()  # 0.5, -1.25
    real, fake = adversarial_loss("ragan").discriminator(REAL, FAKE)
    assert real.item() == pytest.approx(sum(softplus(-(r - mean_fake)) for r in (2.0, -1.0)) / 2)
    assert fake.item() == pytest.approx(sum(softplus(f - mean_real) for f in (0.5, -3.0)) / 2)
    g = adversarial_loss("ragan").generator(FAKE, REAL)
    assert g.item() == pytest.approx(sum(softplus(-(f - mean_real)) for f in (0.5, -3.0)) / 2
                                     + sum(softplus(r - mean_fake) for r in (2.0, -1.0)) / 2)
    real, fake = adversarial_loss("ralsgan").discriminator(REAL, FAKE)
    assert real.item() == pytest.approx(((2 + 1.25 - 1) ** 2 + (-1 + 1.25 - 1) ** 2) / 2)
    assert fake.item() == pytest.approx(((0.5 - 0.5 + 1) ** 2 + (-3 - 0.5 + 1) ** 2) / 2)
    with pytest.raises(ValueError, match="relativistic loss needs the discriminator's predictions on real"):
        adversarial_loss("ralsgan").generator(FAKE)


@pytest.mark.parametrize("name", adversarial_losses())
def test_gradient_signs_make_each_player_move_the_right_way(name):
    loss = adversarial_loss(name)
    real, fake = torch.full((4,), 0.3, requires_grad=True), torch.full((4,), 0.3, requires_grad=True)
    loss_real, loss_fake = loss.discriminator(real, fake)
    grad_real, grad_fake = torch.autograd.grad(loss_real + loss_fake, (real, fake))
    assert (grad_real < 0).all() and (grad_fake > 0).all()  # D raises scores of real data, lowers fakes'
    fake_g = torch.full((4,), 0.3, requires_grad=True)
    (grad_g,) = torch.autograd.grad(loss.generator(fake_g, torch.zeros(4) if loss.relativistic else None), fake_g)
    assert (grad_g < 0).all()  # G raises the score of its fakes
    assert loss.generator(torch.full((4,), 0.9), torch.zeros(4)) < loss.generator(torch.full((4,), -1.0),
                                                                                    torch.zeros(4))


def test_losses_are_float32_whatever_the_prediction_dtype():
    pred = torch.tensor([0.5, -3.0], dtype=torch.bfloat16)
    for name in adversarial_losses():
        loss = adversarial_loss(name)
        assert loss.generator(pred, pred).dtype == torch.float32
        assert all(t.dtype == torch.float32 for t in loss.discriminator(pred, pred))


def linear_critic(norm: float) -> nn.Linear:
    critic = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]) * norm)  # |grad D| = norm everywhere
    return critic


def test_gradient_penalty_on_a_critic_of_known_gradient_norm():
    real, fake = torch.randn(5, 2), torch.randn(5, 2)
    assert GradientPenalty()(linear_critic(1.0), real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert GradientPenalty(weight=10.0)(linear_critic(3.0), real, fake).item() == pytest.approx(40.0)  # 10 (3-1)^2
    critic = linear_critic(3.0)
    GradientPenalty()(critic, real, fake).backward()  # the penalty trains the critic: towards unit norm
    assert (critic.weight.grad * critic.weight).sum() > 0  # descending shrinks the weights
    with_labels = lambda x, y: (x * y).sum(1)  # noqa: E731  a conditional critic; gradient y
    assert GradientPenalty(1.0)(with_labels, real, fake, torch.tensor([[0.0, 2.0]])).item() == pytest.approx(1.0)


def test_dragan_and_r1_on_known_critics():
    real = torch.randn(6, 2)
    assert DRAGAN(weight=10.0)(linear_critic(2.0), real).item() == pytest.approx(10.0)  # 10 (2-1)^2
    assert R1(gamma=10.0)(linear_critic(2.0), real).item() == pytest.approx(20.0)  # gamma/2 |grad|^2 = 5 * 4
    quadratic = lambda x: (x ** 2).sum(1)  # noqa: E731  |grad|^2 = 4 |x|^2: R1 depends on where the data is
    assert R1(gamma=2.0)(quadratic, real).item() == pytest.approx((4 * real.pow(2).sum(1)).mean().item(), rel=1e-5)
    with pytest.raises(ValueError, match="R1 interval must be >= 1"):
        R1(every=0)


def test_weight_clipping_clamps_every_parameter():
    net = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-1, 1)
    WeightClipping(net, 0.01)()
    assert all(p.abs().max() <= 0.01 for p in net.parameters())
    assert any((p.abs() == 0.01).any() for p in net.parameters())
