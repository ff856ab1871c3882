"""StarGAN: target labels, the official update, and the options."""
import copy
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from translation.config import from_dict
from translation.labels import exclusive_indices, one_change_each, switch_on
from translation.models.configs import StarGANConfig
from translation.models.stargan import StarGANModel
from translation.training.engine import Engine
from translation.utils.device import seed_everything

from tiny_configs import TINY

ATTRS = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]
HAIR = exclusive_indices(ATTRS, [["Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair"]])


def test_switching_attributes_on_keeps_the_others_and_clears_the_exclusive_group():
    assert HAIR == [[0, 1, 2]]  # Gray_Hair is not among the trained attributes: left out
    source = torch.tensor([[1.0, 0, 0, 1, 0], [0, 0, 1, 0, 1]])
    assert switch_on(source, [1], "multi_label", HAIR).tolist() == [[0, 1, 0, 1, 0], [0, 1, 0, 0, 1]]
    assert switch_on(source, [1, 4], "multi_label", HAIR).tolist() == [[0, 1, 0, 1, 1], [0, 1, 0, 0, 1]]
    assert switch_on(source, [3], "multi_label", HAIR).tolist() == [[1, 0, 0, 1, 0], [0, 0, 1, 1, 1]]
    assert switch_on(torch.tensor([[0.0, 1, 0]]), [2], "single_label").tolist() == [[0, 0, 1]]
    with pytest.raises(ValueError, match="one domain at a time"):
        switch_on(torch.tensor([[0.0, 1, 0]]), [0, 2], "single_label")


def test_sample_sheet_targets_follow_the_official_create_labels():
    source = torch.tensor([[1.0, 0, 0, 1, 0]])
    targets = [t.tolist()[0] for t in one_change_each(source, "multi_label", HAIR)]
    # hair colours: that colour on, the others off; other attributes: flipped
    assert targets == [[1, 0, 0, 1, 0], [0, 1, 0, 1, 0], [0, 0, 1, 1, 0], [1, 0, 0, 0, 0], [1, 0, 0, 1, 1]]
    assert [t.tolist()[0] for t in one_change_each(torch.tensor([[0.0, 1, 0]]), "single_label")] == \
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_defaults_are_the_papers():
    c = StarGANConfig()
    assert (c.image_size, c.batch_size, c.steps, c.n_critic, c.gan_mode) == (128, 16, 200000, 5, "wgan")
    assert (c.lambda_cls, c.lambda_rec, c.lambda_gp, c.lr, c.beta1, c.beta2) == (1.0, 10.0, 10.0, 1e-4, 0.5, 0.999)
    assert (c.ngf, c.ndf, c.g_blocks, c.d_layers, c.init) == (64, 64, 6, 6, "pytorch")
    assert c.attrs is None and c.epochs == c.epochs_decay  # linear decay over the second half
    with pytest.raises(ValueError, match="--image-size 100 must be a multiple of 2 \\*\\* --d-layers"):
        from_dict(StarGANConfig, {"image_size": 100}, flags_given=frozenset({"image_size"}))


def tiny_model(label_kind: str, **overrides):
    values = dict(TINY["stargan"].options, device="cpu", lambda_cls=2.0, lambda_rec=3.0, lambda_gp=4.0)
    values.update(overrides)
    config = StarGANConfig(**values)
    domains = ATTRS if label_kind == "multi_label" else ["spring", "summer", "autumn"]
    return StarGANModel(config, torch.device("cpu"), SimpleNamespace(domains=domains, label_kind=label_kind))


def tiny_batch(label_kind: str, n: int = 4):
    torch.manual_seed(7)
    images = torch.rand(n, 3, 16, 16) * 2 - 1
    if label_kind == "multi_label":
        labels = (torch.rand(n, 5) > 0.5).float()
        return {"A": images, "label": labels, "label_index": torch.full((n,), -1)}
    index = torch.tensor([0, 1, 2, 1][:n])
    return {"A": images, "label": F.one_hot(index, 3).float(), "label_index": index}


@pytest.mark.parametrize("label_kind", ["multi_label", "single_label"])
def test_two_steps_follow_the_official_solver(label_kind):
    """n_critic 2: step 0 trains D only; step 1 trains D, then G against the updated D (solver.train)."""
    seed_everything(0)
    model = tiny_model(label_kind)
    ref = copy.deepcopy(model)
    engine, ref_optimizers = Engine(model), Engine(ref).optimizers
    batch = tiny_batch(label_kind)
    seeds = (11, 12)
    for step, seed in enumerate(seeds):
        torch.manual_seed(seed)
        engine.step(batch, step)
    losses = engine.losses.pop_means()

    def classification(logits, labels, index):
        if label_kind == "single_label":
            return F.cross_entropy(logits, index)
        return F.binary_cross_entropy_with_logits(logits, labels, reduction="sum") / logits.size(0)

    x, c_org, index_org = batch["A"], batch["label"], batch["label_index"]
    seen = {"D_real": [], "D_fake": [], "D_cls": [], "D_gp": [], "G_fake": [], "G_rec": [], "G_cls": []}
    for step, seed in enumerate(seeds):
        torch.manual_seed(seed)
        order = torch.randperm(x.size(0))
        c_trg, index_trg = c_org[order], index_org[order]
        out_src, out_cls = ref.nets["D"](x)
        d_real, d_cls = -out_src.mean(), classification(out_cls, c_org, index_org)
        x_fake = ref.nets["G"](x, c_trg)
        d_fake = ref.nets["D"](x_fake.detach())[0].mean()
        alpha = torch.rand(x.size(0), 1, 1, 1)
        x_hat = (alpha * x + (1 - alpha) * x_fake.detach()).requires_grad_(True)
        (grad,) = torch.autograd.grad(ref.nets["D"](x_hat)[0].sum(), x_hat, create_graph=True)
        d_gp = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        ref_optimizers["D"].zero_grad()
        (d_real + d_fake + 2.0 * d_cls + 4.0 * d_gp).backward()
        ref_optimizers["D"].step()
        for key, value in (("D_real", d_real), ("D_fake", d_fake), ("D_cls", 2.0 * d_cls), ("D_gp", 4.0 * d_gp)):
            seen[key].append(value.item())
        if (step + 1) % 2 == 0:
            out_src, out_cls = ref.nets["D"](x_fake)
            g_fake, g_cls = -out_src.mean(), classification(out_cls, c_trg, index_trg)
            g_rec = (x - ref.nets["G"](x_fake, c_org)).abs().mean()
            ref_optimizers["G"].zero_grad()
            (g_fake + 3.0 * g_rec + 2.0 * g_cls).backward()
            ref_optimizers["G"].step()
            for key, value in (("G_fake", g_fake), ("G_rec", 3.0 * g_rec), ("G_cls", 2.0 * g_cls)):
                seen[key].append(value.item())

    expected = {key: sum(values) / len(values) for key, values in seen.items()}
    assert losses == pytest.approx(expected, rel=1e-4, abs=1e-6)
    for key in ("G", "D"):
        for (name, p), q in zip(model.nets[key].named_parameters(), ref.nets[key].parameters()):
            assert torch.allclose(p, q, atol=1e-6), f"{key}.{name}"


def test_the_generator_record_names_domains_kind_and_exclusive_groups():
    model = tiny_model("multi_label")
    assert model.generators() == {"G": {"task": "translate_to_domain", "domains": ATTRS,
                                        "label_kind": "multi_label",
                                        "exclusive": [["Black_Hair", "Blond_Hair", "Brown_Hair"]]}}
    sheet = model.visuals({"real": torch.zeros(2, 3, 16, 16), "label": torch.zeros(2, 5)})
    assert list(sheet) == ["input", *ATTRS] and sheet["Male"].shape == (2, 3, 16, 16)
