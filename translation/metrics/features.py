"""Inception features of every image in a folder, batched, on the project's devices and precisions.

Images are read with the project's reader (any size, bit depth and mode; converted to RGB with an alpha
channel dropped, as PIL's ``convert("RGB")`` in pytorch-fid does). Two resize protocols, never mixed:

pytorch-fid  the [0, 1] image goes to the network at its own size, which resizes it bilinearly to 299x299
             (no antialiasing): the protocol of published FIDs. The default.
clean        PIL bicubic with antialiasing to 299x299 before the network (Parmar et al. 2022, clean-fid:
             downsampling without antialiasing aliases). Numbers differ from published ones, so every
             result made this way carries the label.

Deliberate differences from pytorch-fid's reader, which only matter for such files: 16-bit images keep their
precision (PIL cuts them to 8 bits), EXIF orientation is applied, and GIFs are read (their first frame).
On GPUs from Ampere on, PyTorch's default lets cuDNN run fp32 convolutions in TF32, for pytorch-fid as for
us: the flags are left alone, so both give the same numbers on the same GPU.

How the network runs (run_inception_as: evaluate's --channels-last, on by default, and --compile) changes
features by float rounding only (~1e-6 relative), so it is not part of the protocol nor of the cache key:
the same images give the same cache entry however they ran, as they do on another CPU or thread count,
whose rounding differs as much.
"""
from __future__ import annotations

import pathlib
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from translation.data.io import ImageReadError, read_image, scan_images, skipped_not_images
from translation.metrics.inception import SIZE, FIDInception, resolve_device
from translation.names import FEATURE_RESIZES
from translation.precision import inference_net, memory_format, precision_for


class NoImagesError(ValueError):
    """A folder with nothing to compute features of."""


@dataclass
class FolderFeatures:
    """Per-image Inception outputs of a folder, one row per image read, and how they were made."""

    folder: pathlib.Path
    files: list[pathlib.Path]  # the images read, in row order (relative to folder)
    features: np.ndarray  # N x 2048 float64 (pool3)
    logits: np.ndarray  # N x 1008 float64 (classifier with bias)
    logits_unbiased: np.ndarray  # N x 1008 float64 (without bias: the original Inception Score's)
    protocol: dict  # resize, precision, weights_sha256, standard_weights: what must agree to compare
    skipped: list[tuple[pathlib.Path, str]] = field(default_factory=list)  # unreadable files and why
    from_cache: bool = False
    cache_path: pathlib.Path | None = None

    def __len__(self) -> int:
        return len(self.files)

    def summary(self) -> str:
        """One line for the user: how many images, what was skipped, where the numbers came from."""
        text = f"{self.folder}: {len(self)} images"
        if self.skipped:
            shown = "; ".join(f"{path}: {reason}" for path, reason in self.skipped[:3])
            more = f"; and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
            text += f", {len(self.skipped)} unreadable skipped ({shown}{more})"
        label = protocol_label(self.protocol)
        text += f" [{label}]" if label else ""
        if self.from_cache:
            text += f" (features reused from the cache: {self.cache_path})"
        return text


@dataclass
class InceptionRun:
    """How features_of_files runs a model: its memory layout, and what to call (the model, or its compiled
    wrapper: compiled once, for every folder the model reads). A plain value, not a module, so the model's
    state dict and modules do not take it in."""
    channels_last: bool
    forward: Callable


def run_inception_as(model: FIDInception, channels_last: bool = True, compile: bool = False) -> FIDInception:
    """Make features_of_files run ``model`` so (see precision.inference_net); returns it. The setting rides on
    the model because the model is what reaches features_of_files, through evaluation.py and the cache.
    Without it: channels-last, eager."""
    model.features_run = InceptionRun(channels_last, inference_net(model, channels_last, compile))
    return model


def protocol_of(model: FIDInception, resize: str, precision: str) -> dict:
    return {"resize": resize, "precision": precision, "weights_sha256": model.weights_sha256,
            "standard_weights": model.standard}


def protocol_label(protocol: dict) -> str:
    """What makes these numbers differ from pytorch-fid's: "" for none, else e.g. "clean resize, bf16"."""
    notes = []
    if protocol.get("resize", "pytorch-fid") == "clean":
        notes.append("clean resize (PIL bicubic, antialiased)")
    if protocol.get("precision", "fp32") != "fp32":
        notes.append(protocol["precision"])
    if protocol.get("standard_weights") is False:
        notes.append("non-standard Inception weights")
    return ", ".join(notes)


def check_comparable(a: dict, b: dict, names=("the first set", "the second set")) -> None:
    """Refuse to compare features made under different protocols; a missing entry (pytorch-fid's .npz
    files record none) counts as pytorch-fid's own choice."""
    defaults = {"resize": "pytorch-fid", "precision": "fp32"}
    for key in ("resize", "precision", "weights_sha256"):
        left, right = a.get(key, defaults.get(key)), b.get(key, defaults.get(key))
        if left is not None and right is not None and left != right:
            raise ValueError(f"{names[0]} was computed with {key} {left} but {names[1]} with {key} {right}; "
                             "numbers from different protocols cannot be compared: recompute one of them")


def list_folder_images(folder, recursive: bool = False) -> list[pathlib.Path]:
    """The image files of ``folder`` (sorted); a clear error when there are none."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise NoImagesError(f"{folder}: no such folder" if not folder.exists() else f"{folder} is not a folder")
    images, others = scan_images(folder, recursive=recursive)
    if images:
        return images
    reason = f"{folder} holds no images"
    if others:
        reason += f" ({skipped_not_images(others)})"
    if not recursive and scan_images(folder, recursive=True)[0]:
        # the callers that list a folder's own images (Inception features, as pytorch-fid; train --eval-data)
        # have no option to read subfolders: suggest only what the user can do
        reason += ("; its subfolders do, but only a folder's own images are read: pass the subfolder you mean, "
                   "or a folder that holds the images themselves")
    raise NoImagesError(reason)


def clean_resize(image: np.ndarray) -> np.ndarray:
    """H x W x 3 float in [0, 1] -> 299 x 299 x 3: PIL bicubic per channel in float, antialiased when shrinking."""
    from PIL import Image

    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(image[:, :, c])).resize((SIZE, SIZE),
                                                                                     Image.BICUBIC))
                for c in range(image.shape[2])]
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0)


def _read(path: pathlib.Path, resize: str):
    """(image as 3 x H x W float32 tensor, None) or (None, why it could not be read)."""
    try:
        image = read_image(path, channels=3, alpha="drop")
    except ImageReadError as error:
        return None, error.reason
    if resize == "clean":
        image = clean_resize(image)
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), None


def _read_batch(paths, resize):
    return [(path, *_read(path, resize)) for path in paths]


def _batch_tensor(images, model: FIDInception, device, layout) -> torch.Tensor:
    """N x 3 x 299 x 299 on ``device``: images of one size are resized together, others one by one."""
    if len({tuple(t.shape) for t in images}) == 1:
        batch = model.resize(torch.stack(images).to(device))
    else:
        batch = torch.cat([model.resize(t[None].to(device)) for t in images])
    return batch.contiguous(memory_format=layout)


@torch.no_grad()
def features_of_files(files, model: FIDInception, batch_size: int = 50, device=None, precision: str = "fp32",
                      resize: str = "pytorch-fid", progress: bool = False, channels_last: bool | None = None):
    """(rows of features, logits, unbiased logits as float32 arrays; paths read; (path, reason) skipped).

    The model runs as run_inception_as set it (default: channels-last, eager); ``channels_last`` given here
    overrides that for this call, eager (False: the default memory layout, as pytorch-fid; for benchmarks).
    """
    if resize not in FEATURE_RESIZES:
        raise ValueError(f"resize must be one of {', '.join(FEATURE_RESIZES)}, not {resize!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    device = next(model.parameters()).device if device is None else resolve_device(device)
    # Channels-last runs oneDNN's (and cuDNN's) faster convolutions: 1.6x in fp32, 1.9x in bf16 on a 2-core
    # CPU (tools/benchmark_metrics.py), for features within 1e-6 relative of the default layout's.
    run = getattr(model, "features_run", None) or InceptionRun(True, model)
    if channels_last is not None and channels_last != run.channels_last:
        run = InceptionRun(channels_last, model)
    layout = memory_format(run.channels_last)
    model = model.to(device, memory_format=layout).eval()
    autocast = precision_for(precision, device).autocast
    batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
    outputs, read, skipped = [], [], []
    bar = _progress(len(files), progress)
    # One thread decodes the next batch while the network runs on this one (both release the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_read_batch, batches[0], resize) if batches else None
        for index in range(len(batches)):
            batch = pending.result()
            if index + 1 < len(batches):
                pending = pool.submit(_read_batch, batches[index + 1], resize)
            skipped += [(path, reason) for path, image, reason in batch if image is None]
            good = [(path, image) for path, image, _ in batch if image is not None]
            if good:
                with autocast():
                    out = run.forward(_batch_tensor([image for _, image in good], model, device, layout))
                outputs.append([t.float().cpu().numpy() for t in (out.features, out.logits, out.logits_unbiased)])
                read += [path for path, _ in good]
            bar.update(len(batch))
    bar.close()
    if not outputs:
        return None, read, skipped
    return [np.concatenate(parts) for parts in zip(*outputs)], read, skipped


def folder_features(folder, model: FIDInception, batch_size: int = 50, device=None, precision: str = "fp32",
                    resize: str = "pytorch-fid", recursive: bool = False, progress: bool = False) -> FolderFeatures:
    """Inception features of every image in ``folder`` (pytorch-fid reads the top level only: so do we,
    unless ``recursive``). Unreadable files are skipped and listed in ``skipped``; none readable is an error.

    ``device``: a torch.device, or a name as --device takes ("auto", "cpu", "cuda"); default: the model's.
    ``precision``: "fp32" (pytorch-fid's), "bf16" or "fp16" (autocast; faster, labelled, not comparable
    with fp32 numbers).
    """
    folder = pathlib.Path(folder)
    return features_for(folder, list_folder_images(folder, recursive), model, batch_size, device, precision,
                        resize, progress)


def features_for(folder: pathlib.Path, files, model: FIDInception, batch_size: int = 50, device=None,
                 precision: str = "fp32", resize: str = "pytorch-fid", progress: bool = False) -> FolderFeatures:
    """:func:`folder_features` of the listed ``files`` of ``folder``."""
    arrays, read, skipped = features_of_files(files, model, batch_size, device, precision, resize, progress)
    if arrays is None:
        raise NoImagesError(f"{folder}: none of its {len(files)} images could be read (first: "
                            f"{skipped[0][0]}: {skipped[0][1]})")
    features, logits, unbiased = (a.astype(np.float64) for a in arrays)
    return FolderFeatures(folder, [p.relative_to(folder) for p in read], features, logits, unbiased,
                          protocol_of(model, resize, precision),
                          [(p.relative_to(folder), reason) for p, reason in skipped])


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="img", desc="Inception features", file=sys.stderr, disable=not enabled or None,
                leave=False)
