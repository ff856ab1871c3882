"""Downloads against a local HTTP server on 127.0.0.1: resume, retries, SHA-256, safe extraction."""
from __future__ import annotations

import argparse
import hashlib
import io
import socket
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import torch

from translation.commands import download as download_command
from translation.data.archive import UnsafeArchiveError, list_members, safe_extract
from translation.data.catalog import resolve
from translation.data.download import DownloadError, fetch
from translation.data.io import encode_image

FAST = dict(backoff=0.0, timeout=5.0, progress=False)


# --------------------------------------------------------------------------- a small test server


class Server:
    """Serves ``files`` with Range/If-Range support; ``drop`` paths cut the body half-way."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.status: dict[str, int] = {}
        self.drop: dict[str, int] = {}  # path -> how many more responses to cut
        self.ignore_range = False
        self.after_drop_status: int | None = None  # e.g. 503: the server goes down after a drop
        self.log: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                path = self.path
                server.log.append((path, self.headers.get("Range")))
                if path in server.status:
                    self.send_response(server.status[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path not in server.files:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = server.files[path]
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                start = 0
                wanted = self.headers.get("Range")
                if_range = self.headers.get("If-Range")
                if wanted and not server.ignore_range and (not if_range or if_range == etag):
                    start = int(wanted.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("ETag", etag)
                self.end_headers()
                chunk = body[start:]
                if server.drop.get(path, 0) > 0:
                    server.drop[path] -= 1
                    if server.after_drop_status:  # before the cut: the client's retry may come at once
                        server.status[path] = server.after_drop_status
                    self.wfile.write(chunk[: len(chunk) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)  # the client sees a cut body
                    return
                self.wfile.write(chunk)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        # Bounded: the server stops itself even if a test forgets to.
        self.watchdog = threading.Timer(120, self.httpd.shutdown)
        self.watchdog.daemon = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def requests(self, path: str):
        return [r for p, r in self.log if p == path]


@pytest.fixture
def server():
    s = Server()
    s.thread.start()
    s.watchdog.start()
    try:
        yield s
    finally:
        s.watchdog.cancel()
        s.httpd.shutdown()
        s.httpd.server_close()


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/facades.tar.gz"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- archives


def make_tar(entries, compress=True) -> bytes:
    """entries: (name, bytes) files, (name, None) dirs, (name, ("sym"|"hard"|"dev", target)) specials."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if compress else "w") as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(content, tuple):
                kind, target = content
                info.type = {"sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE, "dev": tarfile.CHRTYPE}[kind]
                info.linkname = target
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def make_zip(entries) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in entries:
            if isinstance(content, tuple):  # ("sym", target): an Info-ZIP symlink
                info = zipfile.ZipInfo(name)
                info.external_attr = (0o120777 << 16)
                zf.writestr(info, content[1])
            else:
                zf.writestr(name, content)
    return buf.getvalue()


def png_bytes(seed=0, w=32, h=16) -> bytes:
    img = np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)
    return encode_image(".png", img)


def facades_tar() -> bytes:
    return make_tar([("facades", None), ("facades/train", None), ("facades/val", None)]
                    + [(f"facades/train/{i}.png", png_bytes(i)) for i in range(3)]
                    + [("facades/val/0.png", png_bytes(9))])


def only_archive_left(tmp_path, archive_name="a.tar.gz"):
    return sorted(p.name for p in tmp_path.rglob("*")) == [archive_name]


def test_safe_tar_extracts_and_strips_the_top_folder(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(make_tar([("set/train/x.png", b"x"), ("set/inner", ("sym", "train/x.png")),
                                  ("set/copy.png", ("hard", "set/train/x.png"))]))
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "train" / "x.png").read_bytes() == b"x"
    assert (out / "inner").is_symlink() and (out / "inner").read_bytes() == b"x"
    assert (out / "copy.png").read_bytes() == b"x" and not (out / "copy.png").is_symlink()
    assert not list(tmp_path.glob(".out*"))  # no staging folder left


@pytest.mark.parametrize("entries,reason", [
    ([("ok.txt", b"fine"), ("../evil.txt", b"evil")], "'..'"),
    ([("ok.txt", b"fine"), ("sub/../../evil.txt", b"evil")], "'..'"),
    ([("/tmp/evil_abs.txt", b"evil")], "absolute"),
    ([("link", ("sym", "../../outside"))], "outside"),
    ([("link", ("sym", "/etc"))], "outside"),
    ([("d", ("sym", ".")), ("d/x.txt", b"through the link")], "inside the link"),
    ([("a", ("sym", "sub")), ("b", ("sym", "a/.."))], "through another link"),
    ([("hard", ("hard", "../outside"))], "'..'"),
    ([("hard", ("hard", "missing"))], "not a file"),
    ([("dev", ("dev", ""))], "device"),
    ([("x", b"1"), ("x", b"2")], "twice"),
])
def test_malicious_tar_writes_nothing(tmp_path, entries, reason):
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "a.tar.gz"
    archive.write_bytes(make_tar(entries))
    with pytest.raises(UnsafeArchiveError, match=reason):
        safe_extract(archive, work / "out")
    assert only_archive_left(work)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "outside").exists()


@pytest.mark.parametrize("entries,reason", [
    ([("ok.txt", b"fine"), ("../evil.txt", b"evil")], "'..'"),
    ([("..\\evil.txt", b"evil")], "'..'"),
    ([("C:/evil.txt", b"evil")], "absolute"),
    ([("link", ("sym", "../../outside"))], "outside"),
])
def test_malicious_zip_writes_nothing(tmp_path, entries, reason):
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "a.zip"
    archive.write_bytes(make_zip(entries))
    with pytest.raises(UnsafeArchiveError, match=reason):
        safe_extract(archive, work / "out")
    assert only_archive_left(work, "a.zip")
    assert not (tmp_path / "evil.txt").exists()


def test_not_an_archive(tmp_path):
    page = tmp_path / "a.tar.gz"
    page.write_bytes(b"<!DOCTYPE html><html>Service unavailable</html>")
    with pytest.raises(UnsafeArchiveError, match="HTML page"):
        safe_extract(page, tmp_path / "out")
    zipped = tmp_path / "b.zip"
    zipped.write_bytes(make_zip([("set/trainA/a.png", b"a"), ("set/trainB/b.png", b"b")]))
    assert [m.name for m in list_members(zipped)] == ["set/trainA/a.png", "set/trainB/b.png"]


# --------------------------------------------------------------------------- fetch


def test_fetch_whole_file(server, tmp_path):
    data = bytes(range(256)) * 1000
    server.files["/f.bin"] = data
    got = fetch(server.url("/f.bin"), tmp_path / "f.bin", expected_sha256=sha(data), **FAST)
    assert got.sha256 == sha(data) and (tmp_path / "f.bin").read_bytes() == data and got.resumed_from == 0
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no part or metadata file left


def test_dropped_connection_resumes_with_range(server, tmp_path):
    data = np.random.default_rng(0).bytes(300_000)
    server.files["/f.bin"] = data
    server.drop["/f.bin"] = 2  # the first two responses are cut half-way
    got = fetch(server.url("/f.bin"), tmp_path / "f.bin", retries=1, **FAST)
    assert got.sha256 == sha(data)
    ranges = server.requests("/f.bin")
    assert ranges[0] is None and ranges[1] == "bytes=150000-" and ranges[2] == "bytes=225000-"


def test_interrupted_download_resumes_on_the_next_run(server, tmp_path):
    data = np.random.default_rng(1).bytes(200_000)
    server.files["/f.bin"] = data
    server.drop["/f.bin"] = 1
    server.after_drop_status = 503
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        fetch(server.url("/f.bin"), tmp_path / "f.bin", retries=1, **FAST)
    assert not (tmp_path / "f.bin").exists()
    assert (tmp_path / ".f.bin.part").stat().st_size == 100_000
    del server.status["/f.bin"]  # the server is back
    got = fetch(server.url("/f.bin"), tmp_path / "f.bin", retries=0, **FAST)
    assert got.resumed_from == 100_000 and got.sha256 == sha(data)
    assert server.requests("/f.bin")[-1] == "bytes=100000-"


def test_changed_file_is_not_spliced(server, tmp_path):
    old, new = b"a" * 100_000, b"b" * 120_000
    server.files["/f.bin"] = old
    server.drop["/f.bin"] = 1
    server.after_drop_status = 503
    with pytest.raises(DownloadError):
        fetch(server.url("/f.bin"), tmp_path / "f.bin", retries=0, **FAST)
    del server.status["/f.bin"]
    server.files["/f.bin"] = new  # ETag changes: If-Range makes the server send the whole new file
    got = fetch(server.url("/f.bin"), tmp_path / "f.bin", retries=0, **FAST)
    assert (tmp_path / "f.bin").read_bytes() == new and got.sha256 == sha(new)


def test_server_without_range_support_restarts(server, tmp_path):
    data = np.random.default_rng(2).bytes(50_000)
    server.files["/f.bin"] = data
    server.drop["/f.bin"] = 1
    server.ignore_range = True
    got = fetch(server.url("/f.bin"), tmp_path / "f.bin", retries=2, **FAST)
    assert got.sha256 == sha(data)


def test_http_errors_and_offline_give_one_message(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(server.url("/missing.bin"), tmp_path / "m.bin", retries=3, **FAST)
    assert len(server.requests("/missing.bin")) == 1  # a 404 is not retried
    server.status["/busy.bin"] = 503
    with pytest.raises(DownloadError, match="HTTP 503"):
        fetch(server.url("/busy.bin"), tmp_path / "b.bin", retries=2, **FAST)
    assert len(server.requests("/busy.bin")) == 3
    with pytest.raises(DownloadError, match="cannot reach 127.0.0.1"):
        fetch(closed_port_url(), tmp_path / "o.bin", retries=0, **FAST)


def test_checksum_mismatch_deletes(server, tmp_path):
    server.files["/f.bin"] = b"data"
    with pytest.raises(DownloadError, match="SHA-256"):
        fetch(server.url("/f.bin"), tmp_path / "f.bin", expected_sha256="0" * 64, **FAST)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the command


def cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="translation")
    download_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["download", *argv, "--no-progress", "--retries", "1", "--timeout", "5"])
    return args.func(args)


def test_list(capsys):
    assert cli("--list") == 0
    out = capsys.readouterr().out
    for name in ("pix2pix/facades", "edges2shoes", "horse2zebra", "model horse2zebra", "cyclegan/maps"):
        assert name in out
    assert "29 MB" in out
    assert resolve("facades")[0].url.endswith("/pix2pix/datasets/facades.tar.gz")
    assert resolve("cyclegan/horse2zebra", "model")[0].url.endswith("/cyclegan/pretrained_models/horse2zebra.pth")


def test_download_dataset_from_mirror(server, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    archive = facades_tar()
    server.files["/facades.tar.gz"] = archive
    server.drop["/facades.tar.gz"] = 1  # half-way drop, resumed by the retry
    assert cli("facades", "--url", server.url("/facades.tar.gz")) == 0
    out = capsys.readouterr()
    dest = tmp_path / "data" / "facades"
    assert sorted(p.name for p in (dest / "train").iterdir()) == ["0.png", "1.png", "2.png"]
    record = (dest / "SOURCE.json").read_text()
    assert sha(archive) in record and sha(archive) in out.out and "train 3" in out.out
    assert server.requests("/facades.tar.gz")[1] is not None  # resumed with Range
    assert not list((tmp_path / "data" / ".downloads").iterdir())  # archive removed after extraction
    assert cli("facades", "--url", server.url("/facades.tar.gz")) == 0
    assert "already present" in capsys.readouterr().out
    # CycleGAN's facades is another data set: it gets its own folder, the pix2pix one is untouched.
    server.files["/facades.zip"] = make_zip([("facades/trainA/0.png", png_bytes(1)),
                                             ("facades/trainB/0.png", png_bytes(2))])
    assert cli("cyclegan/facades", "--url", server.url("/facades.zip")) == 0
    assert (tmp_path / "data" / "facades_cyclegan" / "trainB" / "0.png").is_file()
    assert sha(archive) in record and sha(archive) in (dest / "SOURCE.json").read_text()
    assert cli("facades", "--url", server.url("/facades.zip"), "--force") == 0  # replaced on request
    assert (dest / "trainA").is_dir() and not (dest / "train").exists()


def test_download_malicious_archive_is_refused(server, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    server.files["/evil.tar.gz"] = make_tar([("facades/train/0.png", png_bytes()), ("../../evil.txt", b"x")])
    assert cli("facades", "--url", server.url("/evil.tar.gz")) == 1
    err = capsys.readouterr().err
    assert "refusing the archive" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data" / "facades").exists()
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]


def test_download_offline_and_unknown(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("translation.data.download.time.sleep", lambda seconds: None)  # no back-off wait
    assert cli("facades", "--url", closed_port_url()) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "cannot reach" in err and "Traceback" not in err
    assert not (tmp_path / "data").exists()
    assert cli("nonsense") == 1
    assert "no data set called 'nonsense'" in capsys.readouterr().err


def test_download_model(server, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = {"model.1.weight": torch.arange(6.0).reshape(2, 3)}
    buf = io.BytesIO()
    torch.save(state, buf)
    server.files["/horse2zebra.pth"] = buf.getvalue()
    server.files["/page.pth"] = b"<html>not found</html>"
    assert cli("model", "horse2zebra", "--url", server.url("/horse2zebra.pth")) == 0
    folder = tmp_path / "checkpoints" / "horse2zebra_pretrained"
    loaded = torch.load(folder / "latest_net_G.pth", weights_only=True)
    assert torch.equal(loaded["model.1.weight"], state["model.1.weight"])
    assert (folder / "latest_net_G.pth.sha256").read_text() == f"{sha(buf.getvalue())}  latest_net_G.pth\n"
    assert '"netG": "resnet_9blocks"' in (folder / "SOURCE.json").read_text()
    capsys.readouterr()
    assert cli("model", "style_monet", "--url", server.url("/page.pth")) == 1
    assert "not a PyTorch weights file" in capsys.readouterr().err
    assert not (tmp_path / "checkpoints" / "style_monet_pretrained").exists()


def test_a_failed_download_leaves_no_empty_folder_and_a_partial_one_keeps_its_own(server, tmp_path, capsys,
                                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("translation.data.download.time.sleep", lambda seconds: None)  # no back-off wait
    assert cli("model", "horse2zebra", "--url", closed_port_url()) == 1  # offline
    assert cli("facades", "--url", closed_port_url()) == 1
    assert capsys.readouterr().err.count("error: download of http://127.0.0.1") == 2
    assert list(tmp_path.iterdir()) == []  # neither checkpoints/horse2zebra_pretrained/ nor data/.downloads/
    server.files["/h.pth"] = bytes(100_000)
    server.drop["/h.pth"] = 1  # cut half-way, then the server goes down: the bytes so far are kept to resume
    server.after_drop_status = 503
    assert cli("model", "horse2zebra", "--url", server.url("/h.pth")) == 1
    assert "run the same command again to resume" in capsys.readouterr().err
    folder = tmp_path / "checkpoints" / "horse2zebra_pretrained"
    assert sorted(p.name for p in folder.iterdir()) == ["..latest_net_G.pth.download.part",
                                                        "..latest_net_G.pth.download.part.json"]
