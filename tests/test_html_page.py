"""`translate --html` and `sample --html`: one index.html whose links all reach the images, names escaped."""
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
import torch

from translation.checkpoint import save_checkpoint, translates, translates_to_domains
from translation.cli import main
from translation.data.io import write_image
from translation.nets import create_generator, spec_of

ODD = 'odd <&"> name'  # a file name HTML must escape and a URL must encode


class Links(HTMLParser):
    """The img src and a href values of a page, in order, and its text."""

    def __init__(self):
        super().__init__()
        self.images, self.anchors, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "a":
            self.anchors.append(attrs["href"])

    def handle_data(self, data):
        self.text.append(data)


def read_page(folder: Path) -> tuple[str, Links]:
    text = (folder / "index.html").read_text(encoding="utf-8")
    links = Links()
    links.feed(text)
    return text, links


def targets(folder: Path, links: list[str]) -> list[Path]:
    """Where each relative link leads from a page in `folder`."""
    return [(folder / unquote(link)).resolve() for link in links]


def checkpoint(path: Path, stargan: bool = False) -> Path:
    torch.manual_seed(0)
    if stargan:
        net = create_generator("stargan", ngf=4, n_labels=2, n_blocks=1)
        record = translates_to_domains(["smile", "hat"], "multi_label")
    else:
        net = create_generator("resnet_6blocks", ngf=4, norm="instance")
        record = translates("AtoB")
    save_checkpoint(path, {"model": "test", "net_specs": {"G": spec_of(net)}, "nets": {"G": net.state_dict()},
                           "generators": {"G": record}, "test_mode": "eval"})
    return path


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a.png", f"{ODD}.png", "sub/b.jpg", "c.tif"):
        write_image(tmp_path / "in" / name, rng.random((20, 24, 3)).astype(np.float32))
    return tmp_path / "in"


def translate(*argv) -> int:
    return main(["translate", *map(str, argv), "--no-progress", "--device", "cpu", "--num-workers", "0"])


def test_translate_html_lists_every_pair_with_links_that_resolve(inputs, tmp_path, capsys):
    ckpt, out = checkpoint(tmp_path / "g.pt"), tmp_path / "out"
    assert translate(ckpt, inputs, out, "--html") == 0
    assert f"page: {out / 'index.html'}" in capsys.readouterr().err
    text, links = read_page(out)
    outputs = sorted(p.resolve() for p in out.rglob("*.png"))
    sources = sorted(p.resolve() for p in inputs.rglob("*") if p.is_file())
    assert len(outputs) == len(sources) == 4
    linked = targets(out, links.anchors)
    assert all(p.is_file() for p in linked)
    assert sorted(set(linked)) == sorted(outputs + sources)  # each input and each output, nothing else
    # the browser formats are shown, each input in the same row as its output; TIFF is linked, not shown
    shown = targets(out, links.images)
    assert sorted(shown) == sorted(outputs + [p for p in sources if p.suffix != ".tif"])
    assert shown.index((inputs / "a.png").resolve()) + 1 == shown.index((out / "a.png").resolve())
    assert "browsers do not show this format" in text
    # the odd name: escaped in the text, percent-encoded in the links, never raw
    assert ODD not in text and f"{ODD}.png" in "".join(links.text)
    assert "odd%20%3C%26%22%3E%20name.png" in text
    assert "output (AtoB)" in "".join(links.text)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # written atomically: no temporary left


def test_translate_html_keeps_outputs_from_before_and_never_replaces_a_page_of_someone_else(inputs, tmp_path,
                                                                                            capsys):
    ckpt, out = checkpoint(tmp_path / "g.pt"), tmp_path / "out"
    assert translate(ckpt, inputs / "a.png", out) == 0
    assert translate(ckpt, inputs, out, "--html") == 0  # a.png skipped as existing: still on the page
    _, links = read_page(out)
    assert (out / "a.png").resolve() in targets(out, links.images) and len(links.images) == 7
    (out / "index.html").write_text("<p>my notes</p>")
    (out / "a.png").unlink()
    assert translate(ckpt, inputs, out, "--html") == 1
    assert "index.html exists and was not written by translation; use --overwrite" in capsys.readouterr().err
    assert (out / "index.html").read_text() == "<p>my notes</p>" and not (out / "a.png").exists()


def test_stargan_sheets_on_the_page(inputs, tmp_path):
    ckpt, out = checkpoint(tmp_path / "s.pt", stargan=True), tmp_path / "out"
    assert translate(ckpt, inputs / "sub", out, "--to", "all", "--html") == 0
    _, links = read_page(out)
    assert targets(out, links.images) == [(inputs / "sub" / "b.jpg").resolve(), (out / "b.png").resolve()]
    assert "output (to all domains)" in "".join(links.text)
