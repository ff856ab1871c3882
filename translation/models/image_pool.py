"""History of generated images that the discriminators also learn from.

Shrivastava et al. 2017 (sec. 2.3): updating D with a buffer of past fakes rather than only the latest
ones reduces model oscillation; CycleGAN (Zhu et al. 2017, sec. 4) keeps 50. The semantics are those of
the official `ImagePool`: fill the buffer first; once full, each incoming image is, with probability 1/2,
swapped for a random stored one (which is returned), else returned as it is. The coin flips use Python's
`random`, whose state the trainer saves, so a resumed run draws the same flips.
"""
from __future__ import annotations

import random

import torch


class ImagePool:
    def __init__(self, size: int):
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.images: list[torch.Tensor] = []  # each 1xCxHxW, detached

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch of the same length to show the discriminator in place of `images`."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                slot = random.randint(0, self.size - 1)
                out.append(self.images[slot].clone())
                self.images[slot] = image
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict:
        # A list (not one stacked tensor): with --preprocess none stored images may differ in size.
        return {"size": self.size, "images": [image.cpu() for image in self.images]}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        if state["size"] != self.size:
            raise ValueError(f"image pool holds up to {state['size']} images in the checkpoint but "
                             f"--pool-size is {self.size}")
        self.images = [image.to(device) for image in state["images"]]
