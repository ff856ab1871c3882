"""Inpainting generators (glcic, deepfill) as one graph with two inputs: "image" (N x C x H x W in the net's value
range, metadata value_range) and "mask" (N x 1 x H x W, 1 = hole; read as a hole from 0.5 up).

The graph does what translate does around the net (inference/mask_inputs.py, composite.py): the holes set to the
model's fill, the net on the filled image and the mask (one input or two, as the net takes them), its last stage
(DeepFill's refined), and the composite. So what the file gives is the input, value for value, outside the mask:
a runtime that feeds it needs no knowledge of fills or composites, and a model's fill stays the trained one.
"""
from __future__ import annotations

import json

import torch
from torch import nn

from translation.inference.composite import composite
from translation.inference.translator import _result


class InpaintingGraph(nn.Module):
    """(image, mask) -> the composite of the net's fill and the image. `fill`: the translator's MaskedInput
    (cat(image, mask) -> cat(filled image, mask)); `mask_argument`: the net takes (image, mask) apart (deepfill)."""

    def __init__(self, fill: nn.Module, net: nn.Module, mask_argument: bool):
        super().__init__()
        self.fill, self.net, self.mask_argument = fill, net, mask_argument

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hole = (mask >= 0.5).to(image.dtype)  # any mask a caller sends becomes the 0/1 mask the net trained on
        x = self.fill(torch.cat([image, hole], 1))
        out = self.net(x[:, :-1], x[:, -1:]) if self.mask_argument else self.net(x)
        return composite(_result(out), image, hole)


def inpainting_parts(translator, net: nn.Module) -> tuple[nn.Module, dict[str, str], callable]:
    """The graph (around `net`, the frozen generator), its metadata and its example inputs (batch, h, w)."""
    fill = [float(v) for v in translator.encoder.fill]  # in the net's range; the metadata keeps [-1, 1] as records
    recorded = [v * 2.0 - 1.0 for v in fill] if translator.unit_range else fill
    graph = InpaintingGraph(translator.encoder, net, translator.mask_argument).eval().requires_grad_(False)
    channels, low = translator.read_channels, translator.value_range[0]
    metadata = {"inpaint": "true", "inputs": "image mask", "hole_fill": json.dumps(recorded),
                "in_channels": str(channels), "out_channels": str(channels)}

    def make_inputs(n: int, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        mask = torch.zeros(n, 1, h, w)
        mask[..., h // 4:h // 2, w // 3:w - w // 4] = 1.0  # a hole with known pixels all round it
        return low + torch.rand(n, channels, h, w) * (1.0 - low), mask

    return graph, metadata, make_inputs
