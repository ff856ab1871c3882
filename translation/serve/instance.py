"""pix2pixHD models trained with --instance in `translation serve`: they read a label map and an instance map.

The request is multipart/form-data with two files, "label" and "instance" (inpaint.py's form reader):

    curl -F label=@x_labelIds.png -F instance=@x_instanceIds.png 'http://HOST/api/translate?model=ID' -o x.png

the very files `translate RUN labels/ out/ --instance inst/` reads. A label map alone (the body, no form) is
taken too, as the page paints one: its own ids then stand for the instance map, so every region of one class is
one object and the boundaries are those between classes (the answer says X-Instance: from-labels). What an
instance map adds over that is the edges between touching objects of one class (two cars side by side).
"""
from __future__ import annotations

import numpy as np

from translation.serve.inpaint import form_files, is_form
from translation.serve.protocol import ApiError

FIELDS = ("label", "instance")
HOW = ("send multipart/form-data with the files label and instance (1-channel maps of ids, of the same size), "
       "e.g. curl -F label=@x_labelIds.png -F instance=@x_instanceIds.png, or the label map alone as the body")
INSTANCE_DEFAULT = "the label map's own class boundaries when no instance map is sent"
FROM_LABELS, UPLOADED = "from-labels", "uploaded"  # X-Instance: where the boundaries came from


def label_and_instance(body: bytes, content_type: str | None) -> tuple[bytes, bytes | None]:
    """(the label map's bytes, the instance map's or None): a form of both, or the label map as the body."""
    if not is_form(content_type):
        return body, None
    parts = form_files(body, content_type, FIELDS, HOW)
    return parts["label"], parts["instance"]


def decode_instance(data: bytes) -> np.ndarray:
    """An uploaded instance map as translate --instance reads one (HxWx1 int32 ids: 8- or 16-bit gray, palette
    indices); a 400 for an unreadable or colour one."""
    from translation.data.io import ImageReadError
    from translation.data.label_maps import decode_id_map

    try:
        return decode_id_map(data, "the uploaded instance map",
                             colour_advice="an instance map is a 1-channel map of object ids (8- or 16-bit gray, "
                                           "as Cityscapes' *_instanceIds.png)")
    except ImageReadError as error:
        raise ApiError(400, str(error)) from None
