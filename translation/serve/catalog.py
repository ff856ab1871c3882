"""What `translation serve` serves: the models found under the folders and files it was given, each with an id
and a description (the JSON the page builds its controls from).

Ids are the only way a request names a model: the relative path of a run folder under the folder given (its
latest.pt), or "file:NAME" for a file given by itself. A request's id is looked up in this table and never
joined to a path, so `..`, absolute paths and the like find nothing. Files that resolve outside the folder
they were found in (a symlink out of it) are left out, and checked again when a model is loaded.
"""
from __future__ import annotations

import functools
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from translation.checkpoint import LATEST, is_translation_checkpoint, load_file, upgrade
from translation.data.io import image_size, is_image_file
from translation.names import GENERATOR_SIZE_MULTIPLES, PRECISIONS, TEST_MODES
from translation.serve.labels import describe_inputs

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".onnx")
# a forward at 256 px well under ~0.3 s on a CPU: translate while the user draws
SMALL_PARAMETERS = 20_000_000
SAMPLES = "samples"  # the training sheets' folder in a run (trainer.py)


class CatalogError(ValueError):
    """A path given to serve that holds nothing to serve."""


@dataclass
class Model:
    id: str
    path: Path            # the checkpoint or ONNX file, resolved
    root: Path            # the folder (or the file's own folder) it must stay inside
    info: dict            # the JSON entry of GET /api/models
    run_dir: Path | None = None  # where its training sheets are
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.info["kind"]

    @property
    def onnx(self) -> bool:
        return self.path.suffix.lower() == ".onnx"

    def checked_path(self) -> Path:
        """The file, once more confirmed inside its root (the file system may have changed since listing)."""
        return inside(self.path, self.root)

    def latest_sheet(self) -> Path | None:
        """The run's newest training sheet (samples/step_*.png), inside the run folder; None when there is none."""
        if self.run_dir is None:
            return None
        folder = self.run_dir / SAMPLES
        sheets = sorted(folder.glob("step_*.png")) if folder.is_dir() else []
        for sheet in reversed(sheets):
            try:
                return inside(sheet, self.root)
            except CatalogError:
                continue
        return None


def inside(path: Path, root: Path) -> Path:
    """`path` resolved, refused (CatalogError) when it leads out of `root` (a symlink out of the folder)."""
    resolved = Path(os.path.realpath(path))
    if resolved != root and root not in resolved.parents:
        raise CatalogError(f"{path} leads out of {root}")
    return resolved


def find_models(paths: list[str], device_type: str = "cpu", warn=print) -> dict[str, Model]:
    """Every model under `paths` by id. A path that does not exist is an error; a file that cannot be read as a
    checkpoint is skipped with a line through `warn`. `device_type`: where checkpoints will run (fp16 on a GPU)."""
    models: dict[str, Model] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            root = Path(os.path.realpath(path))
            for run in _run_folders(path):
                relative = run.relative_to(path).as_posix()
                # two folders given may hold runs of one name: the second gets a suffix
                _add(models, _unique(models, relative if relative != "." else root.name), run / LATEST, root, run,
                     device_type, warn)
        elif path.is_file():
            if path.suffix.lower() not in CHECKPOINT_SUFFIXES:
                raise CatalogError(f"{path}: not a checkpoint ({', '.join(CHECKPOINT_SUFFIXES)}) or a folder of runs")
            root = Path(os.path.realpath(path.parent))
            run = path.parent if path.name == LATEST else None
            name = f"{Path(os.path.abspath(path)).parent.name}-{LATEST}" if run else path.name  # not all "latest.pt"
            _add(models, _unique(models, "file:" + _slug(name)), path, root, run, device_type, warn)
        else:
            raise CatalogError(f"{path}: no such folder or checkpoint file")
    return models


def _run_folders(folder: Path) -> list[Path]:
    """Folders with a latest.pt under `folder` (itself included), hidden ones and symlinked folders skipped."""
    found = []
    for current, subdirs, files in os.walk(folder):  # followlinks=False: a linked folder is not entered
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        if LATEST in files:
            found.append(Path(current))
    return found


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _unique(models: dict, wanted: str) -> str:
    candidate, n = wanted, 2
    while candidate in models:
        candidate, n = f"{wanted}-{n}", n + 1
    return candidate


def _add(models: dict, model_id: str, path: Path, root: Path, run: Path | None, device_type: str, warn) -> None:
    try:
        resolved = inside(path, root)
        info = describe_onnx(resolved) if resolved.suffix.lower() == ".onnx" else \
            describe_checkpoint(resolved, device_type)
    except (ValueError, OSError) as error:  # CheckpointError, ExportError, CatalogError: the reason, named
        warn(f"skipped {path}: {error}", file=sys.stderr)
        return
    models[model_id] = Model(model_id, resolved, root, {"id": model_id, **info}, run)
    sheet = models[model_id].latest_sheet()
    models[model_id].info["thumbnail"] = f"/api/models/{model_id}/sheet" if sheet else None
    models[model_id].info["file"] = _shown(path, root, run)


def _shown(path: Path, root: Path, run: Path | None) -> str:
    """The file as the user knows it: relative to the folder served where it is under it."""
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return path.name


def training_size(config: dict) -> int | None:
    """The size of the images a paired/unpaired model trained on (the page's canvas): the crop for the modes
    that crop, the width for scale_width, and for --preprocess none the first training image's shorter side
    (an aligned A|B pair's height), when its data folder is still there."""
    preprocess = config.get("preprocess")
    if preprocess and preprocess.endswith("crop"):
        return config.get("crop_size")
    if preprocess == "scale_width":
        return config.get("load_size")
    image = first_image(Path(config["data"])) if config.get("data") else None
    if image is None:
        return None
    try:
        return min(image_size(image))
    except (OSError, ValueError):  # unreadable: the page falls back to its default canvas
        return None


def first_image(folder: Path, depth: int = 3) -> Path | None:
    """The first image in name order (train folders first), without listing a whole data set."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: (not e.name.startswith("train"), e.name))
    except OSError:
        return None
    for entry in entries:
        if entry.is_file() and is_image_file(entry.path):
            return Path(entry.path)
    for entry in entries:
        if depth > 0 and entry.is_dir():
            found = first_image(Path(entry.path), depth - 1)
            if found is not None:
                return found
    return None


def describe_checkpoint(path: Path, device_type: str = "cpu") -> dict:
    """The entry of a checkpoint of ours (read with weights_only, as everywhere)."""
    obj = load_file(path, mmap=True)  # a listing reads what it describes, not every run's optimizer states
    if not is_translation_checkpoint(obj):
        raise CatalogError("a bare state dict (official pix2pix/CycleGAN/StarGAN weights): import it first with "
                           "`translation import`, which records its architecture")
    obj = upgrade(obj, path)
    generators = obj["generators"]
    tasks = {record["task"] for record in generators.values()}
    kind = "translate" if "translate" in tasks else "translate_to_domain" if "translate_to_domain" in tasks \
        else "sample"
    keys = [key for key, record in generators.items() if record["task"] == kind]
    record, spec = generators[keys[0]], obj["net_specs"][keys[0]]
    kwargs = spec.get("kwargs", {})
    shape = net_shape(spec)
    parameters = sum(t.numel() for t in obj["nets"][keys[0]].values() if hasattr(t, "numel"))
    config = obj.get("config") or {}
    info = {"model": obj.get("model", "imported"), "kind": kind, "step": obj.get("step"),
            "ema": record.get("weights") == "ema", "nets": {key: s["name"] for key, s in obj["net_specs"].items()},
            "size_multiple": shape["size_multiple"], "scale": shape["scale"],
            "input_nc": kwargs.get("in_channels"), "output_nc": kwargs.get("out_channels", kwargs.get("channels")),
            "image_size": training_size(config) if kind == "translate" else
            kwargs.get("image_size") or config.get("image_size"),
            # super-resolution nets run at scale^2 x the pixels (ESRGAN x4: ~150 GFLOP for a 64 px input): never live
            "parameters": int(parameters), "small": parameters < SMALL_PARAMETERS and shape["scale"] == 1,
            "test_modes": list(TEST_MODES), "test_mode": obj.get("test_mode", "eval"),
            "precisions": [name for name in PRECISIONS if name != "fp16" or device_type == "cuda"]}
    if kind == "translate":
        info["directions"] = [generators[key]["direction"] for key in keys]
        info.update(describe_inputs(int(record.get("label_nc", 0)), bool(record.get("instance"))))
        info["inpaints"] = bool(record.get("inpaint"))
        if info["inpaints"]:  # the image's channels (glcic's in_channels count the mask too; deepfill's do not)
            info["input_nc"] = info["output_nc"] = kwargs.get("out_channels", kwargs.get("in_channels"))
    elif kind == "translate_to_domain":
        info.update(domains=list(record["domains"]), label_kind=record["label_kind"],
                    exclusive=[list(group) for group in record.get("exclusive", [])])
    else:
        info.update(z_dim=record["z_dim"], classes=list(record.get("classes") or []) or None,
                    generators=keys, test_modes=[], test_mode=None, input_nc=None)
    return info


def net_shape(spec: dict) -> dict:
    """The generator's size multiple and scale (output side / input side), read from the net as translate reads
    them, since some depend on its options (rrdbnet x2 and x1 take multiples of 2 and 4, pix2pixHD's 2 to the
    downsamplings). A spec that does not build (an older checkpoint's) falls back on the table of fixed
    multiples."""
    return dict(_net_shape(json.dumps(spec, sort_keys=True)))


@functools.lru_cache(maxsize=64)
def _net_shape(spec_json: str) -> tuple:
    """net_shape of one spec, built once per listing (runs of one architecture share it) on the meta device: no
    memory and no weights, though still about 0.3 s for a full rrdbnet on a 2-core CPU (2 s for the first)."""
    import torch

    from translation.nets.registry import create_net

    spec = json.loads(spec_json)
    try:
        with torch.device("meta"):  # init "pytorch": the constructors' own, no second pass over the weights
            net = create_net(spec.get("kind", "generator"), spec["name"], init="pytorch", **spec["kwargs"])
    except Exception:  # noqa: BLE001 (a listing names what it can; loading the model reports the real error)
        return ("size_multiple", GENERATOR_SIZE_MULTIPLES.get(spec.get("name"), 1)), ("scale", 1)
    return ("size_multiple", int(getattr(net, "size_multiple", 1))), ("scale", int(getattr(net, "scale", 1)))


def describe_onnx(path: Path) -> dict:
    """The entry of a file from `translation export`: what it was exported with is all it offers."""
    from translation.inference.onnx_translator import open_session

    _, meta = open_session(path, "cpu")
    kind = meta["task"]
    info = {"model": "onnx", "kind": kind, "step": None, "ema": meta.get("weights") == "ema",
            "nets": {meta.get("generator", "G"): meta.get("architecture", "")}, "image_size": None,
            "parameters": None, "small": True, "test_modes": [], "test_mode": None, "precisions": ["fp32"]}
    if kind == "sample":
        info.update(z_dim=int(meta["z_dim"]), classes=json.loads(meta["classes"]) or None,
                    generators=[meta["generator"]], input_nc=None, output_nc=None, size_multiple=1)
        return info
    info.update(size_multiple=int(meta["size_multiple"]), scale=int(meta.get("scale", 1)),
                small=int(meta.get("scale", 1)) == 1, input_nc=int(meta["in_channels"]),
                output_nc=int(meta["out_channels"]), test_modes=[meta["test_mode"]], test_mode=meta["test_mode"])
    if kind == "translate":
        # label maps and instance maps as the file records them (an export of a --label-nc model)
        info["directions"] = [meta["direction"]]
        instance = str(meta.get("instance")).lower() in ("1", "true")
        info.update(describe_inputs(int(meta.get("label_nc") or 0), instance))
        info["inpaints"] = meta.get("inpaint") == "true"  # in_channels: the image's (export/inpaint.py)
    else:
        info.update(domains=json.loads(meta["domains"]), label_kind=meta["label_kind"],
                    exclusive=json.loads(meta["exclusive"]))
    return info

