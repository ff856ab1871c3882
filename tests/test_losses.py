import pytest
import torch
from torch import nn

from translation.losses import GAN_MODES, discriminator_loss, generator_loss, gradient_penalty


def test_vanilla_matches_bce_definition():
    pred = torch.tensor([[2.0, -1.0]])
    real = discriminator_loss("vanilla", pred, real=True)
    expected = -torch.log(torch.sigmoid(pred)).mean()
    assert torch.allclose(real, expected)
    fake = discriminator_loss("vanilla", pred, real=False)
    assert torch.allclose(fake, -torch.log(1 - torch.sigmoid(pred)).mean())


def test_lsgan_is_mean_squared_distance_to_label():
    pred = torch.tensor([0.5, 2.0])
    assert discriminator_loss("lsgan", pred, real=True).item() == pytest.approx((0.25 + 1.0) / 2)
    assert discriminator_loss("lsgan", pred, real=False).item() == pytest.approx((0.25 + 4.0) / 2)
    assert generator_loss("lsgan", pred).item() == pytest.approx((0.25 + 1.0) / 2)


def test_hinge_and_wgan_signs():
    pred = torch.tensor([0.5, -3.0])
    assert discriminator_loss("hinge", pred, real=True).item() == pytest.approx((0.5 + 4.0) / 2)
    assert discriminator_loss("hinge", pred, real=False).item() == pytest.approx((1.5 + 0.0) / 2)
    assert discriminator_loss("wgan", pred, real=True).item() == pytest.approx(1.25)
    assert discriminator_loss("wgan", pred, real=False).item() == pytest.approx(-1.25)
    for mode in ("wgan", "hinge"):
        assert generator_loss(mode, pred).item() == pytest.approx(1.25)


@pytest.mark.parametrize("mode", GAN_MODES)
def test_generator_loss_decreases_as_fakes_look_real(mode):
    low, high = torch.full((4,), -1.0), torch.full((4,), 0.9)
    assert generator_loss(mode, high) < generator_loss(mode, low)


def test_unknown_mode_lists_choices():
    with pytest.raises(ValueError, match="vanilla, lsgan, wgan, hinge"):
        generator_loss("wasserstein", torch.zeros(1))


def test_gradient_penalty_zero_for_unit_gradient_critic():
    critic = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]))  # |grad| = 1 everywhere
    gp = gradient_penalty(critic, torch.randn(5, 2), torch.randn(5, 2))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        critic.weight.mul_(3.0)  # |grad| = 3 -> penalty (3-1)^2
    assert gradient_penalty(critic, torch.randn(5, 2), torch.randn(5, 2)).item() == pytest.approx(4.0)
