"""Inpainting models in `translation serve` (glcic, deepfill: generators recorded with inpaints()): how a request
carries the image and its mask, and how the mask is read.

The request is multipart/form-data with two files, "image" and "mask":

    curl -F image=@photo.jpg -F mask=@photo_mask.png 'http://HOST/api/translate?model=ID' -o filled.png

Why this form rather than the alternatives: curl (and every HTTP library, and the browser's FormData) makes it
from two files as they are, and the mask is the very file `translate --mask` reads (1 channel, white = fill), so
one mask serves the command line and the API. An RGBA PNG whose alpha marks the holes would need an image editor
to make for each photo and would take the alpha away from images that have their own; the mask as a second
request would need state on the server between them. The body is read under the upload limit as any other
(protocol.read_body) and split here in memory: no parser package, nothing written to disk.
"""
from __future__ import annotations

from email.message import Message

import numpy as np

from translation.serve.protocol import ApiError

FORM = "multipart/form-data"
FIELDS = ("image", "mask")
HOW = ("send multipart/form-data with the files image and mask (1-channel, white = fill), e.g. curl -F "
       "image=@photo.png -F mask=@mask.png")


def is_form(content_type: str | None) -> bool:
    return _header("content-type", content_type or "").get_content_type() == FORM


def image_and_mask(body: bytes, content_type: str | None) -> tuple[bytes, bytes]:
    """The bytes of the form's "image" and "mask" files; a 400 naming what is missing or malformed."""
    if not is_form(content_type):
        raise ApiError(400, f"this model fills holes and reads a mask with each image: {HOW}")
    parts = form_files(body, content_type, FIELDS, HOW)
    return parts["image"], parts["mask"]


def form_files(body: bytes, content_type: str, fields: tuple[str, ...], how: str) -> dict[str, bytes]:
    """A form that must hold exactly the files `fields`, each with some bytes; a 400 naming what is missing,
    unknown or empty, ending with `how` (what to send)."""
    parts = form_parts(body, content_type)
    missing = [name for name in fields if name not in parts]
    unknown = sorted(set(parts) - set(fields))
    if missing or unknown:
        problem = f"no {' and no '.join(missing)} file" if missing else f"unknown field {unknown[0]!r}"
        raise ApiError(400, f"the form has {problem}: {how}")
    for name in fields:
        if not parts[name]:
            raise ApiError(400, f"the form's {name} is empty (0 bytes): {how}")
    return parts


def form_parts(body: bytes, content_type: str) -> dict[str, bytes]:
    """A multipart/form-data body (RFC 7578) as {field name: its bytes}, exactly as sent."""
    boundary = _header("content-type", content_type).get_param("boundary")
    if not boundary:
        raise ApiError(400, "Content-Type: multipart/form-data without a boundary")
    # each part follows CRLF--boundary (the first may start the body); the last is followed by "--"
    pieces = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    if len(pieces) < 2 or not pieces[-1].startswith(b"--"):
        raise ApiError(400, "the multipart body is incomplete (no closing boundary)")
    parts: dict[str, bytes] = {}
    for piece in pieces[1:-1]:
        head, found, content = piece.partition(b"\r\n\r\n")
        name = _field_name(head.decode("latin-1")) if found else None
        if name is None:
            raise ApiError(400, "a part of the multipart body has no Content-Disposition: form-data; name=...")
        if name in parts:
            raise ApiError(400, f"the form has two fields named {name!r}")
        parts[name] = content
    return parts


def _field_name(head: str) -> str | None:
    for line in head.split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-disposition":
            header = _header("content-disposition", value.strip())
            name = header.get_param("name", header="content-disposition")
            return name if isinstance(name, str) else None
    return None


def _header(key: str, value: str) -> Message:
    """The standard library's parser of header parameters (quoting, case) for one header."""
    message = Message()
    message[key] = value
    return message


def decode_mask(data: bytes) -> np.ndarray:
    """An uploaded mask as translate --mask reads a mask file: HxWx1 float32 of 0 and 1 (1 = hole), 1-channel,
    holes from 128 up; a 400 for an unreadable or colour one."""
    from translation.data.inpaint_layout import HOLE_THRESHOLD
    from translation.data.io import ImageReadError, decode_image

    name = "the uploaded mask"
    try:
        values = decode_image(data, name, alpha="keep")
    except ImageReadError as error:
        raise ApiError(400, str(error)) from None
    if values.shape[2] != 1:
        kind = {2: "gray + alpha", 3: "RGB", 4: "RGBA"}.get(values.shape[2], "channels")
        raise ApiError(400, f"{name} has {values.shape[2]} channels ({kind}); a mask is a 1-channel grayscale "
                            "image, white = fill, black = keep")
    return (values >= (HOLE_THRESHOLD - 0.5) / 255.0).astype(np.float32)  # read_mask's threshold
