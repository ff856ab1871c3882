"""A generator conditioned on domains (StarGAN), ready to translate images to the domains a user names.

`--to Blond_Hair,Young` switches those on; for multi-label attributes the others of a switched-on
attribute's exclusive group (hair colours) go off and every other attribute keeps the input's own value.
What the input has comes from `--from NAMES`, else from the checkpoint's discriminator, whose classifier
reads each image (the summary says what it read), else nothing. `--to all` writes a sheet per image: the
input, then one column per domain, as the official StarGAN's samples.
"""
from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from translation.checkpoint import (CheckpointError, is_translation_checkpoint, load_file, resolve_checkpoint_path,
                                   translates_to_domains, upgrade)
from translation.data.arrays import resize, to_image, to_tensor
from translation.inference.translator import Translator, _pad
from translation.inference.weights import choose_weights, load_generator_weights
from translation.labels import exclusive_indices, one_change_each, switch_on
from translation.names import STARGAN_HAIR_COLOURS
from translation.nets import build_net
from translation.visualize import make_sheet


@dataclass
class DomainRequest:
    """What to translate to: `to` names (or ["all"]), and optionally what the inputs are (`source`)."""
    to: list[str]
    source: list[str] | None = None


@dataclass
class OfficialStarGAN:
    """Flags for an official StarGAN {iter}-G.ckpt, which holds no names: --attrs or --domains give them."""
    attrs: list[str] | None = None      # CelebA-style attributes (multi-label)
    domains: list[str] | None = None    # one-hot domains (RaFD-style)
    c_dim: int | None = None            # checked against the file when given


@dataclass
class SourceReadings:
    """What the discriminator read the inputs as, for the summary."""
    images: int = 0
    counts: Counter = field(default_factory=Counter)


class DomainTranslator(Translator):
    def __init__(self, net: nn.Module, spec: dict, record: dict, request: DomainRequest, test_mode: str,
                 device: torch.device, precision: str = "fp32", weights: str = "raw",
                 classifier: nn.Module | None = None, classifier_size: int | None = None,
                 channels_last: bool | None = None, compile: bool = False):
        self.domains, self.label_kind = list(record["domains"]), record["label_kind"]
        self.exclusive = exclusive_indices(self.domains, record.get("exclusive", []))
        self.retarget(request)
        # the speed switches apply to the generator; the classifier runs once an image, at its training size
        super().__init__(net, spec, self.direction, test_mode, device, precision, weights, channels_last, compile)
        self.classifier, self.classifier_size = classifier, classifier_size
        if classifier is not None:
            classifier.to(device).eval()

    def retarget(self, request: DomainRequest) -> None:
        """What to translate to and from: the part of a translator that changes from request to request."""
        sheets = request.to == ["all"]
        targets = [] if sheets else self._indices(request.to, "--to")
        if self.label_kind == "single_label" and len(targets) > 1:
            raise ValueError(f"--to: this model's domains are exclusive ({', '.join(self.domains)}): name one, "
                             "or all")
        source = None if request.source is None else self._indices(request.source, "--from")
        if source is not None and self.label_kind == "single_label" and len(source) != 1:
            raise ValueError("--from: this model's domains are exclusive: name the one the inputs are in")
        self.sheets, self.targets, self.source = sheets, targets, source
        self.direction = "to all domains" if sheets else "to " + ",".join(request.to)
        self.readings = SourceReadings()

    def for_request(self, request: DomainRequest) -> DomainTranslator:
        """This translator with other targets (and inputs): the same nets, modes and weights, nothing loaded
        or built again. The original is left as it was."""
        other = copy.copy(self)
        other.retarget(request)
        return other

    def _indices(self, names: list[str], flag: str) -> list[int]:
        unknown = [name for name in names if name not in self.domains]
        if unknown or not names:
            raise ValueError(f"{flag}: {', '.join(unknown) or 'no name given'} is not a domain of this model; "
                             f"it knows {', '.join(self.domains)}" + (" (or all)" if flag == "--to" else ""))
        return [self.domains.index(name) for name in names]

    @property
    def batches_images(self) -> bool:
        return False  # each image goes with its own labels and, for sheets, to every domain

    def tiling(self, tile: int, overlap: int):
        # the classifier reads, and the labels apply to, the whole image
        raise ValueError("--tile is for models that translate between two domains, not to named ones (--to)")

    def source_labels(self, image: np.ndarray) -> torch.Tensor:
        """(1, n) labels of what `image` is: --from, else the classifier's reading, else none."""
        labels = torch.zeros(1, len(self.domains))
        if self.source is not None:
            labels[0, self.source] = 1.0
        elif self.classifier is not None:
            size = self.classifier_size
            x = to_tensor(resize(image, size, size) if image.shape[:2] != (size, size) else image)
            logits = self.classifier(x[None].to(self.device))[1].float().cpu()
            if self.label_kind == "single_label":
                labels[0, int(logits.argmax())] = 1.0
            else:
                labels = (logits > 0).float()  # sigmoid > 0.5
            self.readings.images += 1
            self.readings.counts.update(self.domains[i] for i in torch.nonzero(labels[0]).flatten().tolist())
        return labels

    @torch.no_grad()
    def translate_batch(self, images: list[np.ndarray], seeds: list[int]) -> list[np.ndarray]:
        results = []
        for image, seed in zip(images, seeds):
            source = self.source_labels(image)
            targets = (one_change_each(source, self.label_kind, self.exclusive) if self.sheets
                       else [switch_on(source, self.targets, self.label_kind, self.exclusive)])
            h, w = image.shape[:2]
            x = _pad(to_tensor(image), *self.padded_size(h, w)).to(self.device)
            x = x[None].expand(len(targets), -1, -1, -1).contiguous(memory_format=self.layout)
            torch.manual_seed(seed)
            with self.precision.autocast():  # one pass for all targets: instance statistics are per image
                out = self.run_net(x, torch.cat(targets).to(self.device))
            outputs = [to_image(o[:, :h, :w]) for o in out]
            results.append(self._sheet(image, outputs) if self.sheets else outputs[0])
        return results

    def _sheet(self, image: np.ndarray, outputs: list[np.ndarray]) -> np.ndarray:
        return make_sheet({"input": [image], **{name: [out] for name, out in zip(self.domains, outputs)}},
                          min_size=0)


def load_domain_translator(checkpoint, request: DomainRequest, test_mode: str | None = None,
                           device: torch.device | str = "cpu", official: OfficialStarGAN | None = None,
                           precision: str = "fp32", use_ema: bool = True, channels_last: bool | None = None,
                           compile: bool = False) -> DomainTranslator:
    """The domain-conditioned generator of a checkpoint (ours, or an official StarGAN G file); `channels_last`,
    `compile`: see Translator."""
    path = resolve_checkpoint_path(checkpoint)
    return domain_translator_from(load_file(path), path, request, test_mode, device, official, precision, use_ema,
                                  channels_last, compile)


def domain_translator_from(obj: dict, path: Path, request: DomainRequest, test_mode: str | None = None,
                           device: torch.device | str = "cpu", official: OfficialStarGAN | None = None,
                           precision: str = "fp32", use_ema: bool = True, channels_last: bool | None = None,
                           compile: bool = False) -> DomainTranslator:
    """load_domain_translator's translator from the dict `obj` already read from `path`."""
    speed = {"channels_last": channels_last, "compile": compile}
    device = torch.device(device)
    if not is_translation_checkpoint(obj):
        return _load_official(path, obj, request, test_mode, device, official or OfficialStarGAN(), precision,
                              speed)
    obj = upgrade(obj, path)
    keys = [key for key, record in obj["generators"].items() if record["task"] == "translate_to_domain"]
    if not keys:
        raise CheckpointError(f"{path}: its generators translate between two domains, not to named ones; "
                              "translate without --to (--direction chooses the way)")
    key = keys[0]
    spec, record = obj["net_specs"][key], obj["generators"][key]
    net = build_net(spec)
    weights = choose_weights(record, use_ema)
    load_generator_weights(net, obj, key, weights)
    classifier, size = None, None
    critic = obj["net_specs"].get("D")
    if request.source is None and critic is not None and critic["name"] == "stargan":
        classifier, size = build_net(critic), critic["kwargs"]["image_size"]
        classifier.load_state_dict(obj["nets"]["D"])
    return DomainTranslator(net, spec, record, request, test_mode or obj.get("test_mode", "paper"), device,
                            precision, weights, classifier, size, **speed)


def _load_official(path: Path, state_dict: dict, request: DomainRequest, test_mode, device,
                   flags: OfficialStarGAN, precision: str, speed: dict) -> DomainTranslator:
    from translation.nets.official import guess_stargan_spec, load_official_state_dict

    spec = guess_stargan_spec(state_dict)
    if spec.get("kind") != "generator":
        raise CheckpointError(f"{path}: not an official StarGAN generator file ({{iter}}-G.ckpt)")
    n_labels = spec["kwargs"]["n_labels"]
    if flags.c_dim is not None and flags.c_dim != n_labels:
        raise CheckpointError(f"--c-dim {flags.c_dim}: {path} was trained with {n_labels} labels")
    if bool(flags.attrs) == bool(flags.domains):
        raise CheckpointError(f"{path} is an official StarGAN generator with {n_labels} labels and no names: give "
                              "them with --attrs (CelebA attributes) or --domains (one-hot domains, as RaFD)")
    names = flags.attrs or flags.domains
    if len(names) != n_labels:
        raise CheckpointError(f"{path} was trained with {n_labels} labels, but {len(names)} names were given "
                              f"({', '.join(names)})")
    kind = "multi_label" if flags.attrs else "single_label"
    exclusive = [[n for n in STARGAN_HAIR_COLOURS if n in names]] if kind == "multi_label" else []
    record = translates_to_domains(names, kind, [group for group in exclusive if len(group) > 1])
    net = build_net(spec)
    load_official_state_dict(net, state_dict, source=str(path))
    # the official solver tests with G in train mode: instance statistics of each image
    return DomainTranslator(net, spec, record, request, test_mode or "paper", device, precision, **speed)
