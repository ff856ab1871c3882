"""The two layers any noise net can use (nets/attention.py, nets/conditional_norm.py), and --attention in dcgan."""
import pytest
import torch
from torch import nn

from translation.config import from_dict
from translation.models import CONFIGS
from translation.nets import count_parameters, create_discriminator, create_generator
from translation.nets.attention import SelfAttention, attention_after
from translation.nets.conditional_norm import ConditionalBatchNorm2d


def test_self_attention_with_gamma_zero_is_the_identity():
    torch.manual_seed(0)
    layer = SelfAttention(16)
    x = torch.randn(3, 16, 8, 8)
    assert torch.equal(layer(x), x)


def test_self_attention_is_sagans_sum_over_the_pooled_positions():
    """Position p of the output: x_p + gamma * W_o sum_q softmax_q(theta_p . phi_q) g_q, q over the 2x2-max-pooled
    positions; written out position by position, against the batched matrix products of the layer."""
    torch.manual_seed(0)
    layer = SelfAttention(8)
    with torch.no_grad():
        layer.gamma.fill_(0.7)
    x = torch.randn(2, 8, 4, 6)
    theta = layer.theta(x).flatten(2)
    phi = nn.functional.max_pool2d(layer.phi(x), 2).flatten(2)
    g = nn.functional.max_pool2d(layer.g(x), 2).flatten(2)
    expected = torch.empty_like(x)
    w_o = layer.o.weight[:, :, 0, 0]
    for n in range(2):
        for p in range(24):
            weights = torch.softmax(theta[n, :, p] @ phi[n], dim=0)  # over the 6 pooled positions
            attended = (g[n] * weights).sum(1)
            expected[n, :, p // 6, p % 6] = x[n, :, p // 6, p % 6] + 0.7 * w_o @ attended
    assert torch.allclose(layer(x), expected, atol=1e-5)
    assert phi.shape[2] == 6 and layer.theta.weight.shape[0] == 1 and layer.g.weight.shape[0] == 4


def test_self_attention_refuses_too_few_channels_and_places_itself_by_resolution():
    with pytest.raises(ValueError, match="at least 8 channels"):
        SelfAttention(4)
    assert attention_after([4, 8, 16], 8, "G") == [False, True, False]
    assert attention_after([16, 8, 8, 8], 8, "D") == [False, True, False, False]  # the first block at 8 px
    assert attention_after([4, 8], 0, "G") == [False, False]
    with pytest.raises(ValueError, match="attention 32: G has feature maps of 4, 8 px"):
        attention_after([4, 8], 32, "G")


def test_conditional_batch_norm_with_gain_one_and_bias_zero_is_plain_batch_norm():
    torch.manual_seed(0)
    by_class = ConditionalBatchNorm2d(6, n_classes=3)
    plain = nn.BatchNorm2d(6, affine=False)
    x, labels = torch.randn(5, 6, 4, 4) * 3 + 1, torch.tensor([0, 2, 1, 2, 0])
    with torch.no_grad():  # class 2's effective gain 1 + 0 and bias 0; the others anything
        by_class.gain.weight[2].zero_()
        by_class.bias.weight[2].zero_()
    out, reference = by_class(x, labels), plain(x)
    is_two = labels == 2
    assert torch.allclose(out[is_two], reference[is_two], atol=1e-6)
    assert not torch.allclose(out[~is_two], reference[~is_two], atol=1e-3)
    # each image gets its own class's gain and bias
    gain, bias = 1 + by_class.gain.weight[labels], by_class.bias.weight[labels]
    assert torch.allclose(out, reference * gain[:, :, None, None] + bias[:, :, None, None], atol=1e-6)
    # the running statistics are batch norm's: eval mode gives the same as plain batch norm's eval mode
    by_class.eval(), plain.eval()
    assert torch.allclose(by_class(x, labels)[is_two], plain(x)[is_two], atol=1e-6)


def test_conditional_batch_norm_from_a_vector_maps_it_linearly():
    torch.manual_seed(0)
    layer = ConditionalBatchNorm2d(4, condition_dim=3)
    x, condition = torch.randn(2, 4, 3, 3), torch.randn(2, 3)
    assert layer.gain.bias is None and layer.bias.bias is None  # bias-free maps, as BigGAN's shared ccbn
    normalised = nn.functional.batch_norm(x, None, None, training=True)
    expected = (normalised * (1 + condition @ layer.gain.weight.t())[:, :, None, None]
                + (condition @ layer.bias.weight.t())[:, :, None, None])
    assert torch.allclose(layer(x, condition), expected, atol=1e-5)
    with torch.no_grad():
        layer.gain.weight.zero_()
        layer.bias.weight.zero_()
    assert torch.allclose(layer(x, condition), normalised, atol=1e-5)
    with pytest.raises(ValueError, match="one of the two"):
        ConditionalBatchNorm2d(4, n_classes=2, condition_dim=3)


def _attention_parameters(channels: int) -> int:
    return 2 * channels * (channels // 8) + 2 * channels * (channels // 2) + 1


@pytest.mark.parametrize("kind", ["generator", "discriminator"])
def test_attention_in_dcgan_adds_its_parameters_and_changes_nothing_at_init(kind):
    create = create_generator if kind == "generator" else create_discriminator
    options = dict(image_size=32, n_classes=3, **({"z_dim": 8, "ngf": 8} if kind == "generator" else {"ndf": 8}))
    plain = create("dcgan", **options)
    attended = create("dcgan", attention=8, **options)
    channels = 16  # at 8 px: G's second layer (32, 16, 8 going up) and D's second (8, 16, 32 going down)
    assert count_parameters(attended) - count_parameters(plain) == _attention_parameters(channels)
    layers = [m for m in attended.modules() if isinstance(m, SelfAttention)]
    assert len(layers) == 1 and layers[0].channels == channels
    theirs_only = {id(p) for p in layers[0].parameters()}
    ours = [p for p in attended.parameters() if id(p) not in theirs_only]
    with torch.no_grad():
        for mine, theirs in zip(ours, plain.parameters(), strict=True):
            mine.copy_(theirs)
    plain.eval(), attended.eval()
    labels = torch.tensor([0, 2])
    inputs = (torch.randn(2, 8),) if kind == "generator" else (torch.randn(2, 3, 32, 32),)
    assert torch.equal(attended(*inputs, labels), plain(*inputs, labels))
    with torch.no_grad():
        layers[0].gamma.fill_(1.0)
    assert not torch.allclose(attended(*inputs, labels), plain(*inputs, labels))


def test_attention_is_a_family_option_checked_against_the_arch():
    config = from_dict(CONFIGS["dcgan"], dict(data="digits", image_size=32, attention=16))
    assert config.attention == 16
    with pytest.raises(ValueError, match=r"--attention 32: --arch dcgan at 32 px has feature maps of 4, 8, 16 px"):
        from_dict(CONFIGS["dcgan"], dict(data="digits", image_size=32, attention=32))
    with pytest.raises(ValueError, match="--attention 8: --arch mlp has no feature maps"):
        from_dict(CONFIGS["gan"], dict(data="digits", attention=8))
