"""Label-map models in `translation serve` (pix2pixHD --label-nc N): what the listing says about their input,
how an upload is read as a map of class ids (data/label_maps.py's rules, from the bytes), and a map shown in
the class colours the training sheets use (label_colours), for the page.

A label-map model that also reads instance maps (--instance) takes them with the label map (instance.py); one
that reads an image and an instance map (--label-nc 0 --instance) is listed with the reason it cannot be used.
"""
from __future__ import annotations

import numpy as np

from translation.serve.instance import INSTANCE_DEFAULT
from translation.serve.protocol import ApiError

# the page posts 8-bit gray PNGs up to 256 classes and 16-bit ones up to this; beyond it offers no palette
PAGE_MAX_CLASSES = 65536
IMAGE_INSTANCE_REASON = ("this model reads an image and an instance map (trained with --label-nc 0 --instance), "
                         "which serve does not take: it takes instance maps with label maps only; use `translation "
                         "translate RUN IMAGES OUT --instance MAPS`")


def describe_inputs(label_nc: int, instance: bool) -> dict:
    """The listing's words on a translating model's input: "reads" image or label_map, label_nc, the classes'
    colours (#rrggbb by id) for a label map, `instance_default` (what stands for an instance map not sent) for
    an --instance one, and `unavailable`: why the model cannot be used here, or None."""
    info = {"reads": "label_map" if label_nc else "image", "label_nc": label_nc, "instance": instance,
            "unavailable": IMAGE_INSTANCE_REASON if instance and not label_nc else None}
    if instance and label_nc:
        info["instance_default"] = INSTANCE_DEFAULT
    if label_nc:
        info["label_colours"] = hex_colours(label_nc) if label_nc <= PAGE_MAX_CLASSES else None
    return info


def colour_table(label_nc: int) -> np.ndarray:
    """label_nc x 3 uint8: the colours of the training sheets (PASCAL VOC's colour map)."""
    import torch

    from translation.data.label_maps import label_colours

    return (label_colours(label_nc) * 255).round().to(torch.uint8).numpy()


def hex_colours(label_nc: int) -> list[str]:
    return ["#" + "".join(f"{int(v):02x}" for v in rgb) for rgb in colour_table(label_nc)]


def decode_labels(body: bytes, label_nc: int) -> np.ndarray:
    """An upload as HxWx1 int32 class ids, every one checked below label_nc; a 400 naming what is wrong."""
    from translation.data.io import ImageReadError
    from translation.data.label_maps import LabelRangeError, check_label_range, decode_id_map

    name = "the uploaded label map"
    try:
        ids = decode_id_map(body, name, colour_advice=f"this model reads label maps: send a 1-channel map of class "
                                                      f"ids 0..{label_nc - 1} (8- or 16-bit gray, or palette "
                                                      "indices)")
        check_label_range(ids, label_nc, name, advice=f"this model knows classes 0..{label_nc - 1} only")
    except (ImageReadError, LabelRangeError) as error:
        raise ApiError(400, str(error)) from None
    return ids


def coloured(ids: np.ndarray, label_nc: int) -> np.ndarray:
    """HxWx1 ids -> HxWx3 uint8 in the class colours."""
    return colour_table(label_nc)[ids[..., 0]]
