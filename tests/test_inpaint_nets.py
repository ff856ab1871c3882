"""Inpainting nets (translation/nets/glcic.py, deepfill.py, contextual_attention.py) against their references:
counts, a closed gate, contextual attention copying a known patch, shapes and value ranges of tiny nets."""
import pytest
import torch
from torch.nn import functional as F

from translation.names import INPAINT_DISCRIMINATORS, INPAINT_GENERATORS
from translation.nets import (
    build_net,
    count_parameters,
    create_discriminator,
    create_generator,
    list_discriminators,
    list_generators,
    spec_of,
)
from translation.nets.contextual_attention import ContextualAttention, _fuse
from translation.nets.deepfill import GatedConv2d, _same_padding
from translation.nets.glcic import completion_input
from translation.nets.layers import init_unit_scale

# GUIDE section 5 (GLCIC: counted with otenim/GLCIC-PyTorch's models.py); DeepFill v2: counted from the layer
# definitions of JiahuiYu/generative_inpainting's inpaint_model.py (GUIDE: about 4.05M and 5.95M)
REFERENCE_COUNTS = [
    ("generator", "glcic", {}, 6_072_131),
    ("discriminator", "glcic_context", {"local_size": 96, "global_size": 160}, 39_557_121),
    ("discriminator", "glcic_context", {"local_size": 128, "global_size": 256}, 63_674_369),
    ("generator", "deepfill", {}, 4_052_478),
    ("discriminator", "sn_patch", {}, 5_946_816),
]


def build(kind, name, **kwargs):
    factory = create_generator if kind == "generator" else create_discriminator
    return factory(name, init="pytorch", **kwargs)


def test_the_inpainting_nets_are_registered():
    assert set(INPAINT_GENERATORS) <= set(list_generators())
    assert set(INPAINT_DISCRIMINATORS) <= set(list_discriminators())


@pytest.mark.parametrize("kind,name,kwargs,expected", REFERENCE_COUNTS)
def test_parameter_counts_equal_the_references(kind, name, kwargs, expected):
    # the context D's linear layers hold 33M weights: count them without drawing any
    with torch.device("meta" if name == "glcic_context" else "cpu"):
        assert count_parameters(build(kind, name, **kwargs)) == expected


def test_a_closed_gate_gives_zero_and_an_open_one_the_features():
    torch.manual_seed(0)
    conv = GatedConv2d(3, 4, 3)
    x = torch.randn(2, 3, 8, 8) * 10
    with torch.no_grad():
        conv.conv.weight[4:].zero_()  # the gate half: features come first
        conv.conv.bias[4:].fill_(-1e4)
        assert torch.equal(conv(x), torch.zeros(2, 4, 8, 8))
        conv.conv.bias[4:].fill_(1e4)
        assert torch.allclose(conv(x), F.elu(F.conv2d(x, conv.conv.weight[:4], conv.conv.bias[:4], padding=1)))


def test_same_padding_is_tensorflows():
    assert _same_padding(256, 3, 2) == (0, 1)  # even side, 3x3 stride 2: the odd pixel after
    assert _same_padding(256, 5, 2) == (1, 2)
    assert _same_padding(255, 5, 2) == (2, 2)
    assert _same_padding(64, 3, 1, 16) == (16, 16)


def _copied_feature_map():
    """Random features with rows/cols 16..27 a copy of 2..13 (an offset of 14 px, 7 cells at rate 2); the copy's
    place is the hole, so each hole patch has exactly one known twin."""
    torch.manual_seed(0)
    b = torch.randn(1, 4, 32, 32)
    b[..., 16:28, 16:28] = b[..., 2:14, 2:14]
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 16:28, 16:28] = 1
    return b, mask


@pytest.mark.parametrize("fuse", [False, True])
def test_contextual_attention_attends_to_the_equal_known_patch(fuse):
    b, mask = _copied_feature_map()
    attention = ContextualAttention(rate=2, fuse=fuse).attention(b, b, mask).view(16, 16, 16, 16)
    # hole cells 9..12 at 1/2 (their 3x3 patches lie inside the copy) match the cell 7 rows and 7 columns up-left
    for i in range(9, 13):
        for j in range(9, 13):
            assert divmod(int(attention[i, j].argmax()), 16) == (i - 7, j - 7)
            assert attention[i, j, i - 7, j - 7] > 0.99
    # a background patch touching the hole gets no weight, its own included
    assert attention[:, :, 8:14, 8:14].abs().max() == 0


def test_contextual_attention_reconstructs_the_hole_from_the_copy():
    b, mask = _copied_feature_map()
    y = ContextualAttention(rate=2, fuse=False)(b, b, mask)
    assert y.shape == b.shape
    # pixels 19..24 are pasted only from hole cells 9..12, each from its twin: four patches averaged = the copy
    assert torch.allclose(y[..., 19:25, 19:25], b[..., 5:11, 5:11], atol=1e-4)


def test_glcic_output_shape_and_range():
    torch.manual_seed(0)
    net = init_unit_scale(build("generator", "glcic", ngf=4)).eval()
    image, mask = torch.rand(2, 3, 32, 48), torch.zeros(2, 1, 32, 48)
    mask[..., 8:20, 10:30] = 1
    x = completion_input(image, mask, torch.tensor([0.4, 0.5, 0.6]))
    assert torch.equal(x[:, 3:], mask) and torch.equal(x[:, :3, 8:20, 10:30], torch.tensor([0.4, 0.5, 0.6])
                                                       .view(1, 3, 1, 1).expand(2, 3, 12, 20))
    with torch.no_grad():
        out = net(x)
    assert out.shape == (2, 3, 32, 48) and out.min() >= 0 and out.max() <= 1 and out.std() > 0.01
    with pytest.raises(ValueError, match="multiples of 4"):
        net(x[..., :30])


def test_glcic_context_discriminator_takes_its_two_sizes():
    d = build("discriminator", "glcic_context", ndf=2, local_size=32, global_size=64)
    assert d(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 64, 64)).shape == (2, 1)
    with pytest.raises(ValueError, match="64x64 whole image"):
        d(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match="multiple of 32"):
        build("discriminator", "glcic_context", local_size=40)


def test_deepfill_outputs_and_ignores_the_hole_pixels():
    torch.manual_seed(0)
    net = build("generator", "deepfill", cnum=8).eval()
    image, mask = torch.rand(2, 3, 32, 40) * 2 - 1, torch.zeros(2, 1, 32, 40)
    mask[..., 8:24, 16:32] = 1
    with torch.no_grad():
        coarse, refined = net(image, mask)
        other = image.clone()
        other[..., 8:24, 16:32] = 5.0  # whatever the hole held
        coarse2, refined2 = net(other, mask)
    assert coarse.shape == refined.shape == (2, 3, 32, 40)
    assert refined.abs().max() <= 1 and refined.std() > 0
    assert torch.equal(coarse, coarse2) and torch.equal(refined, refined2)
    with pytest.raises(ValueError, match="multiples of 8"):
        net(image[..., :28], mask[..., :28])
    with pytest.raises(ValueError, match=r"mask of shape \(N, 1, H, W\) matching the image's \(32, 40\)"):
        net(image, mask[..., :32])


def test_sn_patch_discriminator_is_spectral_normed_and_rebuilds():
    torch.manual_seed(0)
    d = build("discriminator", "sn_patch", ndf=2)
    assert d(torch.randn(2, 4, 64, 96)).shape == (2, 8, 1, 2)  # 1/64 of the size, TF SAME rounding up
    assert any("parametrizations" in key for key in d.state_dict())
    again = build_net(spec_of(d))
    again.load_state_dict(d.state_dict())  # strict: the same parametrized keys
    d.eval()
    again.eval()
    x = torch.randn(1, 4, 64, 64)
    assert torch.equal(d(x), again(x))


def test_fuse_sums_the_diagonals_row_major_then_column_major():
    torch.manual_seed(0)
    (fh, fw), (bh, bw) = (2, 3), (3, 2)
    scores = torch.randn(1, fh * fw, bh * bw)

    def diagonal_sums(s):  # theirs: a 3x3 identity conv over the (P, L) matrix, zero beyond its ends
        out = torch.zeros_like(s)
        for p in range(s.shape[0]):
            for q in range(s.shape[1]):
                out[p, q] = sum(s[p + d, q + d] for d in (-1, 0, 1)
                                if 0 <= p + d < s.shape[0] and 0 <= q + d < s.shape[1])
        return out

    def column_major(s, h, w, bh_, bw_):  # reorder both indices (i, j) -> (j, i)
        return s.view(h, w, bh_, bw_).permute(1, 0, 3, 2).reshape(h * w, bh_ * bw_)

    once = diagonal_sums(scores[0])
    expected = column_major(diagonal_sums(column_major(once, fh, fw, bh, bw)), fw, fh, bw, bh)
    assert torch.allclose(_fuse(scores, (fh, fw), (bh, bw), 3)[0], expected, atol=1e-6)


def test_state_dict_keys_are_the_references():
    # otenim/GLCIC-PyTorch's names, so its .pth files load strictly
    keys = set(build("generator", "glcic", ngf=2).state_dict())
    assert {"conv1.weight", "bn1.running_var", "conv10.weight", "deconv13.weight", "bn15.bias", "conv16.bias",
            "conv17.weight"} <= keys and "bn17.weight" not in keys
    keys = set(build("discriminator", "glcic_context", ndf=2, local_size=32, global_size=64, arc="places2").state_dict())
    assert {"model_ld.conv5.weight", "model_ld.linear6.weight", "model_gd.conv6.weight", "model_gd.bn6.running_mean",
            "model_gd.linear7.weight", "linear1.weight"} <= keys and "model_gd.linear6.weight" not in keys
    # JiahuiYu/generative_inpainting's variable scopes, for a converter: inpaint_net/<name>/kernel
    keys = set(build("generator", "deepfill", cnum=4).state_dict())
    for name in ("coarse.conv1", "coarse.conv10_atrous", "coarse_decoder.conv13_upsample.conv", "coarse_decoder.conv17",
                 "hallucination.xconv4_downsample", "attention_encoder.pmconv6", "attention_decoder.pmconv10",
                 "decoder.allconv11", "decoder.allconv17"):
        assert f"{name}.conv.weight" in keys


def test_every_deepfill_layer_learns_from_the_refined_output():
    torch.manual_seed(0)
    net = build("generator", "deepfill", cnum=4)
    # 64 px: the attention matches at 1/8 (8 x 8 cells), where known 3x3 patches remain around a 3-cell hole
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 16:40, 16:40] = 1
    _, refined = net(torch.rand(1, 3, 64, 64) * 2 - 1, mask)
    refined.square().mean().backward()  # the coarse stage reaches it only through the pasted hole
    dead = [name for name, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert dead == []


def test_contextual_attention_treats_each_image_of_a_batch_alone():
    torch.manual_seed(0)
    f, b = torch.randn(3, 4, 16, 24), torch.randn(3, 4, 16, 24)
    mask = (torch.rand(3, 1, 16, 24) > 0.8).float()
    attention = ContextualAttention()
    batched = attention(f, b, mask)
    for i in range(3):
        assert torch.allclose(batched[i:i + 1], attention(f[i:i + 1], b[i:i + 1], mask[i:i + 1]), atol=1e-5)


def test_contextual_attention_pastes_as_their_transposed_conv():
    torch.manual_seed(0)
    f, b = torch.randn(2, 3, 12, 16), torch.randn(2, 3, 12, 16)
    mask = (torch.rand(2, 1, 12, 16) > 0.7).float()
    module = ContextualAttention(rate=2)
    weights = module.attention(f, b, mask)  # (N, P, L)
    for i in range(2):
        # theirs: the background's 4x4 patches at stride 2 (TF SAME: one pixel each side) as the filters of a
        # conv2d_transpose over the attention map, divided by 4
        patches = F.unfold(b[i:i + 1], 4, stride=2, padding=1)[0].T.reshape(-1, 3, 4, 4)  # (L, C, 4, 4)
        expected = F.conv_transpose2d(weights[i].T.reshape(1, -1, 6, 8), patches, stride=2, padding=1) / 4
        assert torch.allclose(module(f[i:i + 1], b[i:i + 1], mask[i:i + 1]), expected, atol=1e-5)
