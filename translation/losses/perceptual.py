"""The perceptual loss of SRGAN and ESRGAN as BasicSR's PerceptualLoss with layer_weights {conv5_4: 1}: L1 between
the VGG19 conv5_4 features (before its ReLU, as ESRGAN, Wang et al. 2018, sec. 3.3: sparser and weaker after
it) of the output and of the target, images in [0, 1] normalised with ImageNet's mean and std first
(use_input_norm), the target's side a constant.

    loss = PerceptualLoss().to(device)   # torchvision's vgg19-dcbbe1a8.pth, the file pix2pixHD's VGGLoss reads
    loss(sr, hr)                         # scalar; SRGAN/ESRGAN weight it 1

pix2pixHD's VGGLoss (vgg.py) differs: five ReLU taps, [-1, 1] images without normalisation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from translation.losses.vgg import load_vgg19_features

CONV5_4 = 34  # index of conv5_4 in torchvision's vgg19().features (relu5_4 is 35)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PerceptualLoss(nn.Module):
    def __init__(self, weights_path=None, layer: int = CONV5_4):
        super().__init__()
        self.features = load_vgg19_features(weights_path, last=layer)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def activations(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)  # a gray image as RGB
        elif x.shape[1] != 3:
            raise ValueError(f"the perceptual loss takes RGB (or gray) images, got {x.shape[1]} channels")
        return self.features((x - self.mean) / self.std)

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():  # BasicSR: vgg(gt.detach())
            wanted = self.activations(target)
        return F.l1_loss(self.activations(output).float(), wanted.float())
