"""A feature space for scoring samples of the built-in `digits` without external weights.

Inception features mean nothing on 32 px handwritten digits and need a download; a small CNN trained once,
seeded, on the 1,797 digits themselves gives honest numbers in its own space. Scores computed with it are
named for it (fid_digits, is_digits) and are not comparable with Inception-based FID/IS.
The trained classifier is cached beside the feature cache (it takes seconds on a CPU, but a demo asks every time).
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from translation.metrics.cache import cache_root

VERSION = 1  # bump when the network or its training changes: the cache key includes it
EPOCHS, SEED = 30, 0
SIZE = 16  # the classifier's input: twice the digits' own 8x8, whatever size the samples are


class DigitClassifier(nn.Module):
    """conv 3x3 (32) -> pool -> conv 3x3 (64) -> pool -> 64-d features -> 10 logits; any input size."""

    def __init__(self, channels: int = 1):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                                  nn.Flatten(), nn.Linear(64 * 16, 64), nn.ReLU())
        self.head = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return features, self.head(features)


@torch.enable_grad()  # also when asked for from inside a no_grad block (digit_features)
def _train() -> tuple[DigitClassifier, float]:
    """Fit on three quarters of the digits (seeded), return the net and its accuracy on the rest."""
    from translation.data.image_sets import open_image_set

    data = open_image_set("digits", SIZE, labels=True)
    images = torch.stack([data[i]["image"] for i in range(len(data))])
    labels = torch.as_tensor(data.labels)
    generator = torch.Generator().manual_seed(SEED)
    order = torch.randperm(len(labels), generator=generator)
    split = len(order) * 3 // 4
    train, test = order[:split], order[split:]
    torch.manual_seed(SEED)
    net = DigitClassifier()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(EPOCHS):
        for batch in torch.randperm(split, generator=generator).split(64):
            loss = F.cross_entropy(net(images[train[batch]])[1], labels[train[batch]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    net.eval()
    with torch.no_grad():
        accuracy = float((net(images[test])[1].argmax(1) == labels[test]).float().mean())
    return net, accuracy


def digit_classifier() -> tuple[DigitClassifier, float]:
    """The cached classifier and its held-out accuracy (trained on first use)."""
    from translation.utils.files import atomic_path

    key = hashlib.sha256(f"digits-v{VERSION}-{SIZE}-{EPOCHS}-{SEED}".encode()).hexdigest()[:16]
    path = cache_root() / f"digit_classifier_{key}.pt"
    if path.is_file():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        net = DigitClassifier()
        net.load_state_dict(saved["net"])
        return net.eval(), float(saved["accuracy"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a net this small trains fastest on one thread, and the same on every machine
    try:
        net, accuracy = _train()
    finally:
        torch.set_num_threads(threads)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"net": net.state_dict(), "accuracy": accuracy}, tmp)
    return net, accuracy


@torch.no_grad()
def digit_features(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(64-d features, 10 logits) of HxWx1 images in [0, 1] of any size, as float64 arrays."""
    from translation.data.arrays import resize

    net, _ = digit_classifier()
    batch = torch.stack([torch.from_numpy(resize(image, SIZE, SIZE)[..., :1].transpose(2, 0, 1).copy())
                         for image in images]).float() * 2 - 1
    features, logits = zip(*(net(chunk) for chunk in batch.split(256)))
    return torch.cat(features).double().numpy(), torch.cat(logits).double().numpy()
