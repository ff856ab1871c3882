"""What a pix2pixHD generator reads, made from what a user has: a label map (or an image) and an instance map.

The one way both translators, and the exported graphs, build it (the official pix2pixHD's
cat(one_hot(label), get_edges(instance))), in two halves:
  prepared_input  before padding, in numpy: the label map's ids (or the image), resized as asked (ids to the
                  nearest pixel), with the boundaries of the WHOLE instance map appended as one more channel.
                  Boundaries come before tiles and padding: a tile's own instance ids cannot tell where an
                  object meets one outside the tile, so tiles would add edges along their borders. Reflect
                  padding then pads them as it pads the ids (the boundaries of a reflected map are the
                  reflected boundaries).
  InputEncoder    after padding, in torch (exportable ops only): ids one-hot, boundaries appended. The torch
                  translator runs it before the generator; the exported ONNX / TorchScript files hold it in
                  front of theirs, so they take ids (N x 1 x H x W) and boundaries, not 35 one-hot channels.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from translation.data.arrays import resize, resize_nearest
from translation.data.io import IMAGE_EXTENSIONS, list_images
from translation.data.label_maps import boundaries


class InstanceMapError(ValueError):
    """An input's instance map is missing, unreadable or of another size: named with the input."""


def prepared_input(image: np.ndarray, instance_ids: np.ndarray | None, label_nc: int, size: int | None = None,
                   name: str = "the input") -> np.ndarray:
    """HxWxC image (float in [0, 1]) or HxWx1 ids (label_nc > 0), and for --instance models the HxWx1 instance
    ids, -> what Translator.translate_batch / translate_tiled take: resized to size x size when asked, the
    boundaries as a last channel (float32 0/1) when there is an instance map."""
    if instance_ids is not None and instance_ids.shape[:2] != image.shape[:2]:
        raise InstanceMapError(f"{name}: its instance map is {instance_ids.shape[1]}x{instance_ids.shape[0]} but "
                               f"the {'label map' if label_nc else 'image'} is {image.shape[1]}x{image.shape[0]}; "
                               "they must have the same size")
    if size:
        image = (resize_nearest if label_nc else resize)(image, size, size)
        instance_ids = None if instance_ids is None else resize_nearest(instance_ids, size, size)
    if instance_ids is None:
        return image
    edges = boundaries(torch.from_numpy(np.ascontiguousarray(instance_ids[..., 0]))).numpy()[..., None]
    return np.concatenate([image.astype(np.float32), edges], axis=-1)


class InputEncoder(nn.Module):
    """(N x 1 x H x W ids, or N x C x H x W image in [-1, 1]; N x 1 x H x W boundaries or None) -> the
    generator's input: ids one-hot (0 and 1, label_nc channels), then the boundaries."""

    def __init__(self, label_nc: int, instance: bool):
        super().__init__()
        self.label_nc, self.instance = label_nc, instance
        # one-hot as a comparison with 0..label_nc-1: the same 0/1 channels as label_maps.one_hot, in ops ONNX
        # exports for any batch and size (one_hot takes one map, as training reads them)
        self.register_buffer("classes", torch.arange(label_nc, dtype=torch.float32).view(1, -1, 1, 1),
                             persistent=False)

    def forward(self, x: torch.Tensor, edges: torch.Tensor | None = None) -> torch.Tensor:
        if self.label_nc:
            x = (x.round() == self.classes).to(self.classes.dtype)
        return x if edges is None else torch.cat([x, edges.to(x.dtype)], 1)


def split_prepared(batch: torch.Tensor, instance: bool) -> tuple[torch.Tensor, ...]:
    """A padded batch of prepared inputs -> (ids or image, boundaries) for --instance models, else (batch,)."""
    return (batch[:, :-1], batch[:, -1:]) if instance else (batch,)


def instance_map_index(folder: Path) -> dict[str, Path]:
    """The images under `folder` by relative path without extension ("sub/a" -> folder/sub/a.png)."""
    return {str(p.relative_to(folder).with_suffix("")): p for p in list_images(folder)}


def find_instance_map(name: str, instance: Path, index: dict[str, Path] | None, shown: str | None = None) -> Path:
    """The instance map of the input at relative path `name`: `instance` itself when it is a file, else the
    image of the same relative path and name (any image extension) under it; Cityscapes' *_labelIds inputs
    also find their *_instanceIds. InstanceMapError naming the input (`shown`, else `name`) and where it
    looked when there is none."""
    stem = str(Path(name).with_suffix(""))
    aliases = [stem[:-len("_labelIds")] + "_instanceIds"] if stem.endswith("_labelIds") else []
    return find_by_name(name, instance, index, "instance map", InstanceMapError, shown, aliases)


def find_by_name(name: str, given: Path, index: dict[str, Path] | None, what: str, error: type[Exception],
                 shown: str | None = None, aliases: list[str] = ()) -> Path:
    """The file that goes with the input at relative path `name` (its instance map, its mask): `given` itself
    when it is a file (index None), else the image of `index` (instance_map_index) with the same relative path
    and name, or one of `aliases`. `error` naming the input (`shown`, else `name`) and where it looked."""
    if index is None:
        return given
    candidates = [str(Path(name).with_suffix(""))] + list(aliases)
    for candidate in candidates:
        if candidate in index:
            return index[candidate]
    where = " or ".join(f"{given / c}.*" for c in candidates)
    raise error(f"{shown or name}: no {what} (looked for {where}, any of {', '.join(sorted(IMAGE_EXTENSIONS))})")
