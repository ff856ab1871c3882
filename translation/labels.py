"""Target labels for a generator conditioned on domains (StarGAN): what `translate --to` and the training
sheets ask it for.

Two kinds of label, as in the official StarGAN: multi_label attributes (CelebA: each 0 or 1, independent
but for groups that exclude each other, like hair colours) and single_label domains (one-hot).
"""
from __future__ import annotations

import torch


def exclusive_indices(domains: list[str], groups: list[list[str]]) -> list[list[int]]:
    """The groups as indices into `domains`; names a model was not trained on are left out."""
    position = {name: i for i, name in enumerate(domains)}
    found = [[position[name] for name in group if name in position] for group in groups]
    return [group for group in found if len(group) > 1]


def switch_on(source: torch.Tensor, targets: list[int], label_kind: str,
              exclusive: list[list[int]] = ()) -> torch.Tensor:
    """Labels with `targets` switched on. multi_label: every other attribute keeps the source's value, except
    the others of a target's exclusive group, which are switched off. single_label: one-hot of the one target."""
    if label_kind == "single_label":
        if len(targets) != 1:
            raise ValueError(f"a single-label model translates to one domain at a time, got {len(targets)}")
        labels = torch.zeros_like(source)
        labels[:, targets[0]] = 1.0
        return labels
    labels = source.clone()
    for target in targets:
        for group in exclusive:
            if target in group:
                labels[:, group] = 0.0
    labels[:, list(targets)] = 1.0
    return labels


def one_change_each(source: torch.Tensor, label_kind: str, exclusive: list[list[int]] = ()) -> list[torch.Tensor]:
    """One target per domain, as the official StarGAN's sample sheets: single_label, each domain; multi_label,
    an attribute of an exclusive group switched on (its group off), any other attribute flipped."""
    grouped = {i for group in exclusive for i in group}
    targets = []
    for i in range(source.size(1)):
        if label_kind == "single_label" or i in grouped:
            targets.append(switch_on(source, [i], label_kind, exclusive))
        else:
            flipped = source.clone()
            flipped[:, i] = 1.0 - flipped[:, i]
            targets.append(flipped)
    return targets
