"""One HTML page of a results folder, `index.html`, as the official test script writes: `translate --html`
(input | output, row by row) and `sample --html` (the images drawn, or their grid).

The page is one file that links the images by relative path (the outputs beside it, the inputs where they
are); nothing is copied or embedded, so the output folder keeps only outputs (`evaluate` on it counts no
inputs) and a page over thousands of images stays small. It follows the folders it links: move the output
folder together with the input folder, or the input column loses its pictures. File names are escaped,
links percent-encoded. Written atomically, marked as ours, and a page someone else wrote is not replaced
without --overwrite.
"""
from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import quote

from translation.utils.files import atomic_write_bytes

PAGE = "index.html"
MARK = '<meta name="generator" content="translation">'  # how a page of ours is recognised
BROWSER_FORMATS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}  # TIFF, the other input format, is not
STYLE = """body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
td, th { padding: 4px 10px; vertical-align: top; text-align: left; }
tr:nth-child(even) { background: #f4f4f4; }
img { max-width: 100%; height: auto; }
img.pixels { image-rendering: pixelated; }
figure { display: inline-block; margin: 4px; }
figcaption { font-size: small; }
.note { color: #555; }"""


def page_path(folder) -> Path:
    return Path(folder) / PAGE


def check_page(folder, overwrite: bool) -> None:
    """Refuse, before any work, to replace an index.html that this program did not write."""
    path = page_path(folder)
    if path.exists() and not overwrite:
        try:
            ours = MARK in path.read_text(encoding="utf-8", errors="replace")[:2000]
        except OSError:
            ours = False
        if not ours:
            raise ValueError(f"{path} exists and was not written by translation; use --overwrite to replace it "
                             "with the results page, or another OUTPUT")


def write_pairs_page(folder, pairs: list[tuple[Path, Path]], title: str, note: str, output_header: str = "output",
                     failures: list[str] = ()) -> Path:
    """index.html in `folder`: a row per (input, output) pair, both shown at up to 256 px high, each a link
    to the full image; `failures` listed below."""
    folder = Path(folder)
    rows = [f"<tr><th>name</th><th>input</th><th>{_text(output_header)}</th></tr>"]
    for source, target in pairs:
        rows.append(f"<tr><td>{_text(_name(target, folder))}</td><td>{_image(source, folder, 256)}</td>"
                    f"<td>{_image(target, folder, 256)}</td></tr>")
    body = f"<table>\n{chr(10).join(rows)}\n</table>"
    if failures:
        items = "".join(f"<li>{_text(message)}</li>" for message in failures)
        body += f"\n<p>not translated:</p>\n<ul>{items}</ul>"
    return _write(folder, title, note, body)


def write_images_page(folder, images: list[Path], title: str, note: str, height: int = 128) -> Path:
    """index.html in `folder`: the images, each captioned with its name and a link to it."""
    folder = Path(folder)
    figures = [f"<figure>{_image(path, folder, height)}<figcaption>{_text(_name(path, folder))}</figcaption>"
               f"</figure>" for path in images]
    return _write(folder, title, note, "\n".join(figures))


def _write(folder: Path, title: str, note: str, body: str) -> Path:
    text = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n{MARK}\n'
            f"<title>{_text(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n"
            f"<h1>{_text(title)}</h1>\n<p class=\"note\">{_text(note)}</p>\n{body}\n</body>\n</html>\n")
    path = page_path(folder)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def _text(value) -> str:
    return html.escape(str(value), quote=True)


def _name(path: Path, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _link(path: Path, folder: Path) -> str:
    """The href of `path` from a page in `folder`: relative, percent-encoded, then escaped for the attribute."""
    try:
        url = quote(Path(os.path.relpath(Path(path).resolve(), folder.resolve())).as_posix())
    except ValueError:  # another drive (Windows): no relative path exists
        url = Path(path).resolve().as_uri()
    return _text(url)


def _image(path: Path, folder: Path, height: int) -> str:
    """A linked <img>, shown `height` px high at most; small images enlarged by a whole factor, sharp (a 16 px
    sample drawn 16x, each pixel a square), large ones scaled down."""
    link = _link(path, folder)
    if Path(path).suffix.lower() not in BROWSER_FORMATS:
        return f'<a href="{link}">{_text(Path(path).name)}</a> <span class="note">(browsers do not show this ' \
               "format)</span>"
    size = _size(path)
    if size is None:
        return f'<a href="{link}"><img src="{link}" alt="{_text(Path(path).name)}" height="{height}"></a>'
    w, h = size
    factor = max(1, height // h) if h < height else height / h
    attributes = f'width="{round(w * factor)}" height="{round(h * factor)}"'
    sharp = ' class="pixels"' if factor > 1 else ""
    return f'<a href="{link}"><img src="{link}" alt="{_text(Path(path).name)}" {attributes}{sharp}></a>'


def _size(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as image:  # reads the header only
            return image.size
    except Exception:  # noqa: BLE001 (any unreadable file: shown without a size)
        return None
