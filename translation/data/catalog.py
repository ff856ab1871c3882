"""The official pix2pix / CycleGAN data sets and pretrained models, by name.

Names that exist in both projects (facades, maps, sat2map, ...) resolve to the pix2pix entry;
write ``cyclegan/NAME`` (or ``pix2pix/NAME``) to choose.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

PIX2PIX_DATA = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
CYCLEGAN_DATA = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
CYCLEGAN_MODEL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
PIX2PIX_MODEL = "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/{name}.pth"


@dataclass(frozen=True)
class Entry:
    name: str
    project: str  # "pix2pix" or "cyclegan"
    kind: str  # "dataset" or "model"
    url: str
    size: str  # approximate, for --list only; "?" where not measured
    layout: str = ""  # "aligned" or "unpaired" for data sets

    @property
    def qualified(self) -> str:
        return f"{self.project}/{self.name}"


# Sizes from the project guide where measured; the others are shown as "?".
_PIX2PIX_SETS = {"facades": "29 MB", "maps": "?", "edges2shoes": "2 GB", "edges2handbags": "8 GB",
                 "night2day": "?"}
_CYCLEGAN_SETS = {"horse2zebra": "111 MB", "apple2orange": "?", "summer2winter_yosemite": "?",
                  "monet2photo": "?", "cezanne2photo": "?", "ukiyoe2photo": "?", "vangogh2photo": "?",
                  "maps": "?", "cityscapes": "?", "facades": "?", "iphone2dslr_flower": "?", "mini": "?",
                  "mini_pix2pix": "?", "grumpifycat": "?"}
_CYCLEGAN_MODELS = ("horse2zebra", "zebra2horse", "style_monet", "style_cezanne", "style_ukiyoe",
                    "style_vangogh", "apple2orange", "orange2apple", "summer2winter_yosemite",
                    "winter2summer_yosemite", "monet2photo", "facades_photo2label", "facades_label2photo",
                    "map2sat", "sat2map", "cityscapes_photo2label", "cityscapes_label2photo", "iphone2dslr_flower")
_PIX2PIX_MODELS = ("edges2shoes", "sat2map", "map2sat", "facades_label2photo", "day2night")
_MODEL_SIZE = {"cyclegan": "46 MB", "pix2pix": "218 MB"}  # resnet_9blocks / unet_256, float32 weights

DATASETS: List[Entry] = (
    [Entry(n, "pix2pix", "dataset", PIX2PIX_DATA.format(name=n), s, "aligned") for n, s in _PIX2PIX_SETS.items()]
    + [Entry(n, "cyclegan", "dataset", CYCLEGAN_DATA.format(name=n), s, "unpaired")
       for n, s in _CYCLEGAN_SETS.items()])
MODELS: List[Entry] = (
    [Entry(n, "pix2pix", "model", PIX2PIX_MODEL.format(name=n), _MODEL_SIZE["pix2pix"]) for n in _PIX2PIX_MODELS]
    + [Entry(n, "cyclegan", "model", CYCLEGAN_MODEL.format(name=n), _MODEL_SIZE["cyclegan"])
       for n in _CYCLEGAN_MODELS])


# Weights the metrics need: `translation download inception-weights` puts the file where pytorch-fid looks.
INCEPTION_WEIGHTS = Entry("inception-weights", "pytorch-fid", "weights",
                          "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                          "pt_inception-2015-12-05-6726825d.pth", "96 MB")


class UnknownNameError(LookupError):
    pass


def resolve(name: str, kind: str = "dataset") -> Tuple[Entry, Optional[str]]:
    """The entry for ``name`` (``NAME`` or ``PROJECT/NAME``) and a note when the name was ambiguous."""
    entries = DATASETS if kind == "dataset" else MODELS
    project, _, bare = name.rpartition("/")
    matches = [e for e in entries if e.name == bare and (not project or e.project == project)]
    if not matches:
        close = [e.qualified for e in entries if bare.lower() in e.name.lower()]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        listing = "translation download --list"
        label = "data set" if kind == "dataset" else kind
        raise UnknownNameError(f"no {label} called {name!r}{hint} (see `{listing}`)")
    if len(matches) == 1:
        return matches[0], None
    chosen = next(e for e in matches if e.project == "pix2pix")
    others = ", ".join(e.qualified for e in matches if e is not chosen)
    return chosen, f"{name} is {chosen.qualified}; for the other version use {others}"


def folder_name(entry: Entry) -> str:
    """``facades`` for the default entry of a name, ``facades_cyclegan`` for the other one, so both fit."""
    entries = DATASETS if entry.kind == "dataset" else MODELS
    if entry.project == "pix2pix" or not _ambiguous(entry, entries):
        return entry.name
    return f"{entry.name}_{entry.project}"


def table() -> str:
    rows = [("name", "kind", "layout", "size")]
    rows += [(e.qualified if _ambiguous(e, DATASETS) else e.name, f"{e.project} data set", e.layout, e.size)
             for e in DATASETS]
    rows += [(("model " + (e.qualified if _ambiguous(e, MODELS) else e.name)), f"{e.project} model",
              "", e.size) for e in MODELS]
    rows.append((INCEPTION_WEIGHTS.name, "FID Inception weights", "", INCEPTION_WEIGHTS.size))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append("Names shown as PROJECT/NAME exist in both projects; the bare name means pix2pix.")
    return "\n".join(lines)


def _ambiguous(entry: Entry, entries: List[Entry]) -> bool:
    return sum(e.name == entry.name for e in entries) > 1
