"""pix2pix's update, step by step against the official optimize_parameters()."""
import copy

import pytest
import torch
import torch.nn.functional as F

from translation.models.pix2pix import Pix2PixModel
from translation.training.engine import Engine
from translation.utils.device import seed_everything

from conftest import tiny_pix2pix_config


@pytest.mark.parametrize("gan_mode", ["vanilla", "lsgan"])
def test_one_step_follows_the_official_update(tmp_path, gan_mode):
    """fake_B = G(A) once; D on (A, fake_B) then (A, B), halved; then G against the updated D with L1 x 7."""
    config = tiny_pix2pix_config(tmp_path, tmp_path, dropout=False, lambda_l1=7.0, gan_mode=gan_mode)
    seed_everything(0)
    model = Pix2PixModel(config, torch.device("cpu"))
    ref = copy.deepcopy(model)
    engine, ref_optimizers = Engine(model), Engine(ref).optimizers
    for net in (*model.nets.values(), *ref.nets.values()):
        net.train()
    batch = {"A": torch.rand(2, 3, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1}
    engine.step(batch, 0)
    losses = engine.losses.pop_means()

    a, b = batch["A"], batch["B"]
    if gan_mode == "vanilla":
        real = lambda p: F.binary_cross_entropy_with_logits(p, torch.ones_like(p))  # noqa: E731
        fake = lambda p: F.binary_cross_entropy_with_logits(p, torch.zeros_like(p))  # noqa: E731
    else:
        real = lambda p: F.mse_loss(p, torch.ones_like(p))  # noqa: E731
        fake = lambda p: F.mse_loss(p, torch.zeros_like(p))  # noqa: E731
    fake_b = ref.G(a)
    loss_d_fake = fake(ref.D(torch.cat([a, fake_b.detach()], 1)))
    loss_d_real = real(ref.D(torch.cat([a, b], 1)))
    ref_optimizers["D"].zero_grad()
    (0.5 * (loss_d_fake + loss_d_real)).backward()
    ref_optimizers["D"].step()
    loss_g_gan = real(ref.D(torch.cat([a, fake_b], 1)))
    loss_g_l1 = 7.0 * F.l1_loss(fake_b, b)
    ref_optimizers["G"].zero_grad()
    (loss_g_gan + loss_g_l1).backward()
    ref_optimizers["G"].step()

    assert losses == pytest.approx({"D_real": loss_d_real.item(), "D_fake": loss_d_fake.item(),
                                    "G_GAN": loss_g_gan.item(), "G_L1": loss_g_l1.item()}, rel=1e-5)
    for key in ("G", "D"):
        for (name, p), q in zip(model.nets[key].named_parameters(), ref.nets[key].parameters()):
            assert torch.allclose(p, q, atol=1e-6), f"{key}.{name}"
        for (name, p), q in zip(model.nets[key].named_buffers(), ref.nets[key].buffers()):
            assert torch.allclose(p.float(), q.float(), atol=1e-6), f"{key}.{name}"  # BN running stats too
