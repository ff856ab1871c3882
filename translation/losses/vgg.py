"""The VGG19 perceptual loss of pix2pixHD (Wang et al. 2018, sec. 3.2; Johnson et al. 2016): L1 between the
relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1 activations of an ImageNet VGG19 on the output and on the target,
weighted 1/32, 1/16, 1/8, 1/4 and 1 as the official VGGLoss, the target's side detached.

    loss = VGGLoss().to(device)     # torchvision's vgg19-dcbbe1a8.pth from the torch hub cache
    loss(fake_b, real_b)            # scalar; the official multiplies it by lambda_feat (10)

It is a loss, not a net: its weights are the file's, frozen, and belong in no checkpoint.
"""
from __future__ import annotations

import pickle

import torch
import torch.nn.functional as F
from torch import nn

from translation.utils.vgg_weights import VGGWeightsError, check_vgg19_file, find_vgg19_weights

# indices in torchvision's vgg19().features of the ReLUs read, and the official weight of each
TAPS = (1, 6, 11, 20, 29)  # relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)


def load_vgg19_features(path=None, last: int = TAPS[-1]) -> nn.Sequential:
    """torchvision's VGG19 `features` up to layer `last` (relu5_1; the SR perceptual loss: conv5_4), with the
    weights of its file (`path`, else the hub cache's), frozen and in eval mode. The file's classifier weights
    are not needed and not kept."""
    import torchvision

    path = find_vgg19_weights(path)
    check_vgg19_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        raise VGGWeightsError(f"{path} could not be read as a PyTorch weights file ({error})") from None
    if not isinstance(state, dict):
        raise VGGWeightsError(f"{path} holds a {type(state).__name__}, not the state dict of torchvision's VGG19")
    with torch.device("meta"):  # the architecture only: the weights come from the file, the classifier not at all
        features = torchvision.models.vgg19(weights=None, init_weights=False).features[:last + 1]
    wanted = {key: value.shape for key, value in features.state_dict().items()}
    missing = [f"features.{key}" for key in wanted if f"features.{key}" not in state]
    if missing:
        raise VGGWeightsError(f"{path} is not torchvision's VGG19 weights file: {len(missing)} of its {len(wanted)} "
                              f"feature tensors are missing ({', '.join(missing[:3])}, ...)")
    loaded = {key: state[f"features.{key}"] for key in wanted}
    for key, shape in wanted.items():
        if loaded[key].shape != shape:
            raise VGGWeightsError(f"{path} is not torchvision's VGG19 weights file: features.{key} has shape "
                                  f"{tuple(loaded[key].shape)}, VGG19's is {tuple(shape)}")
    features.load_state_dict(loaded, assign=True)
    return features.requires_grad_(False).eval()


class VGGLoss(nn.Module):
    """pix2pixHD's VGGLoss: sum over the five taps of weight * L1(features(fake), features(target))."""

    def __init__(self, weights_path=None):
        super().__init__()
        self.features = load_vgg19_features(weights_path)

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)  # a gray image as RGB
        elif x.shape[1] != 3:
            raise ValueError(f"the VGG loss takes RGB (or gray) images, got {x.shape[1]} channels")
        # As the official VGGLoss, G's [-1, 1] output goes in as it is, without ImageNet's mean and std: the
        # weights and the loss's scale (lambda 10) were tuned that way.
        taps = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in TAPS:
                taps.append(x)
        return taps

    def forward(self, fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():  # the target's side is a constant (the official detaches it)
            wanted = self.activations(target)
        return sum(weight * F.l1_loss(got.float(), want.float())
                   for weight, got, want in zip(WEIGHTS, self.activations(fake), wanted, strict=True))
