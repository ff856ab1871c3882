"""What to export from a checkpoint: its generator as `translate` / `sample` would run it, and a record of
how to feed it.

The loaders of translate and sample do the choosing (direction, test mode, EMA or trained weights), so an
exported file and `translation translate` start from the same net in the same state.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from translation import __version__
from translation.checkpoint import is_translation_checkpoint, load_file, resolve_checkpoint_path, upgrade
from translation.export.graph import ExportError, RandomAtTestTime, freeze_test_mode
from translation.export.inpaint import inpainting_parts
from translation.inference.domain_translator import DomainRequest, load_domain_translator
from translation.inference.sampling import load_sampler
from translation.inference.translator import load_translator
from translation.nets.latent_codes import LatentCodes

PRODUCER = "translation"


@dataclass
class Exportable:
    net: nn.Module  # test mode fixed (graph.py), eval mode, no gradients
    input_names: list[str]
    dynamic_axes: list[dict[int, str]]  # per input: axis -> "batch", "height" or "width"
    make_inputs: Callable[[int, int, int], tuple]  # (batch, height, width) -> example inputs
    metadata: dict[str, str]  # what a runtime needs to feed the graph (ONNX metadata_props, TorchScript attribute)
    notes: list[str] = field(default_factory=list)  # what the user should know about this export

    @property
    def size_multiple(self) -> int:
        return int(self.metadata.get("size_multiple", 1))

    def describe(self) -> str:
        meta = self.metadata
        how = {"translate": lambda: [meta["direction"], f"test mode {meta['test_mode']}"],
               "translate_to_domain": lambda: [f"to {len(json.loads(meta['domains']))} domains",
                                               f"test mode {meta['test_mode']}"],
               "sample": lambda: [f"z of {meta['z_dim']}"]}[meta["task"]]()
        if "codes" in meta:  # InfoGAN's latent: z, then the codes
            how.append("latent = " + LatentCodes.from_record(json.loads(meta["codes"])).describe())
        if meta.get("inpaint") == "true":
            how.append(f"fills the holes of a mask, images in [{meta['value_range'].replace(' ', ', ')}]")
        if int(meta.get("scale", 1)) != 1:
            how.append(f"upscales x{meta['scale']}, images in [{meta['value_range'].replace(' ', ', ')}]")
        if meta["weights"] == "ema":
            how.append("EMA weights")
        return f"{meta['architecture']} ({', '.join(how)})"


def load_exportable(checkpoint, direction: str | None = None, test_mode: str | None = None, use_ema: bool = True,
                    generator: str | None = None) -> Exportable:
    """The generator of a checkpoint of ours, ready to export; options as in translate / sample."""
    path = resolve_checkpoint_path(checkpoint)
    obj = load_file(path)
    if not is_translation_checkpoint(obj):
        raise ExportError(f"{path} is a bare state dict (official weights), which does not say its architecture: "
                          "make a checkpoint of it with `translation import` (pix2pix/CycleGAN) and export that")
    obj = upgrade(obj, path)
    tasks = {record["task"] for record in obj["generators"].values()}
    task = next(t for t in ("translate", "translate_to_domain", "sample") if t in tasks)
    if direction and task != "translate":
        raise ExportError("--direction: this model has no direction (it does not translate between two domains)")
    if test_mode and task == "sample":
        raise ExportError("--test-mode: a noise generator has no test mode")
    if generator and task != "sample":
        raise ExportError("--generator: only noise generators (MAD-GAN's) come in several")
    common = {"producer": PRODUCER, "producer_version": __version__, "task": task, "source": path.name,
              "step": str(obj.get("step", 0))}
    if task == "sample":
        return _sampler(path, obj, use_ema, generator, common)
    return _image_generator(path, obj, task, direction, test_mode, use_ema, common)


def _image_generator(path: Path, obj: dict, task: str, direction, test_mode, use_ema, common) -> Exportable:
    if task == "translate_to_domain":  # "all": no target is needed, the labels are an input of the graph
        def load(mode):
            return load_domain_translator(path, DomainRequest(["all"]), mode, "cpu", use_ema=use_ema)
    else:
        def load(mode):
            return load_translator(path, direction, mode, "cpu", use_ema=use_ema)
    translator, notes = load(test_mode), []
    try:
        net = freeze_test_mode(translator.net)
    except RandomAtTestTime as why:
        if test_mode == "paper":
            raise ExportError(f"--test-mode paper: {why}, drawn from PyTorch's random numbers, which no exported "
                              "graph can reproduce; export --test-mode eval, or translate with the checkpoint "
                              "itself") from None
        notes.append("note: this checkpoint translates in paper mode by default (dropout on at test time, drawn "
                     "from PyTorch's random numbers, which an exported graph cannot reproduce); exported in eval "
                     "mode instead (running statistics, no dropout): what `translation translate --test-mode "
                     "eval` computes")
        translator = load("eval")
        net = freeze_test_mode(translator.net)
    metadata = {**common, **_image_metadata(translator), "test_mode": translator.test_mode}
    names, axes = ["image"], [{0: "batch", 2: "height", 3: "width"}]
    if task == "translate":
        metadata["direction"] = translator.direction
        if translator.inpaint:  # image and mask in, the fill and the composite inside the graph
            graph, extra, make_inputs = inpainting_parts(translator, net)
            return Exportable(graph, ["image", "mask"], axes * 2, make_inputs, {**metadata, **extra}, notes)
        if translator.encoder is not None:
            return _encoded_input(translator, net, metadata, notes)
        low = translator.value_range[0]
        return Exportable(net, names, axes, lambda n, h, w: (_image(n, translator.in_channels, h, w, low),),
                          metadata, notes)
    record = next(r for r in obj["generators"].values() if r["task"] == "translate_to_domain")
    metadata.update(domains=json.dumps(record["domains"]), label_kind=record["label_kind"],
                    exclusive=json.dumps(record.get("exclusive", [])))
    n_labels = len(record["domains"])
    return Exportable(net, names + ["labels"], axes + [{0: "batch"}],
                      lambda n, h, w: (_image(n, translator.in_channels, h, w), torch.rand(n, n_labels).round()),
                      metadata, notes)


class EncodedInputNet(nn.Module):
    """The generator behind the encoder translate runs before it (inference/label_inputs.py): the file takes a
    label map's ids (N x 1 x H x W float) rather than its one-hot channels, and the instance boundaries."""

    def __init__(self, encoder: nn.Module, net: nn.Module):
        super().__init__()
        self.encoder, self.net = encoder, net

    def forward(self, x, edges=None):
        return self.net(self.encoder(x, edges))


def _encoded_input(translator, net: nn.Module, metadata: dict, notes: list[str]) -> Exportable:
    """pix2pixHD's label maps and instance maps: inputs "label" (class ids, one-hot inside the graph) or "image",
    then "edges" for --instance models.

    The graph takes the instance map's boundaries (get_edges: 1 where a pixel's id differs from a 4-neighbour's)
    rather than its ids: boundaries must come from the whole map, and a tile's ids cannot say where an object
    meets one outside the tile, so a graph computing them would add edges along every tile border; the
    caller computes them once on the whole map (a few lines anywhere; translate does it as for checkpoints)."""
    label_nc, instance = translator.label_nc, translator.instance
    names = ["label" if label_nc else "image"] + (["edges"] if instance else [])
    metadata.update(label_nc=str(label_nc), instance=str(instance).lower(), inputs=" ".join(names))
    first = (lambda n, h, w: torch.randint(0, label_nc, (n, 1, h, w)).float()) if label_nc else (
        lambda n, h, w: _image(n, translator.read_channels, h, w))

    def make_inputs(n, h, w):
        edges = (torch.randint(0, 2, (n, 1, h, w)).float(),) if instance else ()
        return (first(n, h, w), *edges)

    wrapped = EncodedInputNet(translator.encoder, net).eval().requires_grad_(False)
    return Exportable(wrapped, names, [{0: "batch", 2: "height", 3: "width"}] * len(names), make_inputs, metadata,
                      notes)


def _image_metadata(translator) -> dict[str, str]:
    """How to feed the graph; `scale`: its output is scale x the input's height and width (super-resolution),
    `value_range`: what its images' samples span ("0 1" for super-resolution nets, "-1 1" otherwise)."""
    low, high = translator.value_range
    return {"architecture": translator.spec["name"], "size_multiple": str(translator.size_multiple),
            "min_side": str(translator.min_side), "in_channels": str(translator.in_channels),
            "out_channels": str(translator.out_channels), "value_range": f"{low:g} {high:g}",
            "scale": str(translator.scale), "layout": "NCHW", "weights": translator.weights}


def _sampler(path: Path, obj: dict, use_ema: bool, generator, common) -> Exportable:
    sampler = load_sampler(path, "cpu", use_ema=use_ema, generator=generator)
    if len(sampler.nets) > 1:
        raise ExportError(f"{path} has {len(sampler.nets)} generators ({', '.join(sampler.nets)}): export one at a "
                          "time with --generator NAME")
    (key, net), z_dim, classes = next(iter(sampler.nets.items())), sampler.z_dim, sampler.classes
    metadata = {**common, "architecture": obj["net_specs"][key]["name"], "generator": key,
                "z_dim": str(z_dim), "classes": json.dumps(classes), "out_channels": str(net.out_channels),
                "image_size": str(net.image_size), "value_range": "-1 1", "layout": "NCHW",
                "weights": sampler.weights}
    if sampler.codes is not None:  # InfoGAN's "z" input is the whole latent: [z | one-hot codes | continuous]
        metadata["codes"] = json.dumps(sampler.codes.record())
        return Exportable(freeze_test_mode(net), ["z"], [{0: "batch"}],
                          lambda n, h, w: (sampler.noise(n, seed=0),), metadata)
    if not classes:
        return Exportable(freeze_test_mode(net), ["z"], [{0: "batch"}], lambda n, h, w: (torch.randn(n, z_dim),),
                          metadata)
    return Exportable(freeze_test_mode(net), ["z", "labels"], [{0: "batch"}, {0: "batch"}],
                      lambda n, h, w: (torch.randn(n, z_dim), torch.arange(n) % len(classes)), metadata)


def _image(n: int, channels: int, height: int, width: int, low: float = -1.0) -> torch.Tensor:
    """An example input with samples in [low, 1]."""
    return low + torch.rand(n, channels, height, width) * (1.0 - low)
