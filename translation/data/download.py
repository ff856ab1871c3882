"""HTTP(S) downloads that survive bad networks: resume (HTTP Range), retries, SHA-256, atomic final move.

The partial file ``.NAME.part`` sits next to the destination, so an interrupted download resumes
where it stopped, the next time or on the next retry; ``.NAME.part.json`` remembers the server's
ETag / Last-Modified so a changed file is never spliced onto an old beginning (If-Range).
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import pathlib
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Optional

from tqdm import tqdm

CHUNK = 1 << 16
USER_AGENT = "translation-downloader/1"


class DownloadError(RuntimeError):
    """A download that failed for good; the message says why and what to try."""


@dataclass
class Fetched:
    path: pathlib.Path
    sha256: str
    size: int
    resumed_from: int  # bytes already on disk when this call started


def sha256_of(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _part_paths(dest: pathlib.Path):
    part = dest.with_name(f".{dest.name}.part")
    return part, part.with_name(part.name + ".json")


def _load_meta(meta: pathlib.Path) -> dict:
    try:
        return json.loads(meta.read_text())
    except (OSError, ValueError):
        return {}


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, socket.timeout) or isinstance(error, socket.timeout):
        return "timed out"
    return getattr(reason, "strerror", None) or str(reason) or type(reason).__name__


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def fetch(url: str, dest, expected_sha256: Optional[str] = None, retries: int = 3, timeout: float = 30.0,
          backoff: float = 2.0, progress: bool = True, desc: Optional[str] = None) -> Fetched:
    """Download ``url`` to ``dest``; resume a partial file; verify ``expected_sha256`` if given.

    Retries ``retries`` times in a row without progress (connection drops, 5xx, timeouts), waiting
    ``backoff * attempt`` seconds between tries. Raises :class:`DownloadError` with one clear message.
    """
    dest = pathlib.Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part, meta_path = _part_paths(dest)
    meta = _load_meta(meta_path)
    if part.exists() and meta.get("url") != url:
        part.unlink()  # a partial file of another URL (e.g. a mirror) cannot be continued
        meta = {}
    start_size = part.stat().st_size if part.exists() else 0
    failures = 0
    last_error = ""
    while True:
        offset = part.stat().st_size if part.exists() else 0
        try:
            done = _attempt(url, part, meta_path, meta, offset, timeout, progress, desc or dest.name)
        except _Fatal as error:
            raise DownloadError(str(error)) from None
        except _Transient as error:
            done, last_error = False, str(error)
        if done:
            break
        now = part.stat().st_size if part.exists() else 0
        failures = 0 if now > offset else failures + 1  # a try that moved forward does not count
        if failures > retries:
            kept = f" {now:,} bytes are kept in {part}; run the same command again to resume." if now else ""
            raise DownloadError(f"download of {url} failed after {retries + 1} tries: {last_error}.{kept}")
        print(f"warning: {last_error}; retrying ({failures}/{retries})" if failures else
              f"warning: {last_error}; resuming at byte {now:,}", file=sys.stderr)
        time.sleep(backoff * failures)

    digest = sha256_of(part)
    if expected_sha256 and digest.lower() != expected_sha256.lower():
        part.unlink()
        meta_path.unlink(missing_ok=True)
        raise DownloadError(f"{url}: SHA-256 is {digest}, expected {expected_sha256.lower()}; "
                            "the file was deleted (corrupt download or wrong mirror)")
    size = part.stat().st_size
    os.replace(part, dest)
    meta_path.unlink(missing_ok=True)
    return Fetched(dest, digest, size, start_size)


class _Transient(Exception):
    """Worth another try: dropped connection, timeout, server error."""


class _Fatal(Exception):
    """Retrying will not help: 404, refused range loop, bad URL."""


def _attempt(url, part, meta_path, meta, offset, timeout, progress, desc) -> bool:
    """One request; appends to ``part``. True when the file is complete."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        validator = meta.get("etag") or meta.get("last_modified")
        if validator:
            headers["If-Range"] = validator
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        with error:
            if error.code == 416 and offset:
                total = _total_from(error.headers.get("Content-Range", ""))
                if total == offset:
                    return True  # the part was already complete
                part.unlink(missing_ok=True)  # longer than the file on the server: start over
                raise _Transient(f"server refused to resume at byte {offset:,}; starting over")
            if error.code >= 500 or error.code in (408, 429):
                raise _Transient(f"{_host(url)} answered HTTP {error.code} {error.reason}")
            raise _Fatal(f"{url}: HTTP {error.code} {error.reason}"
                         + (" (no such file; check the name, or the mirror given with --url)"
                            if error.code == 404 else "")) from None
    except ValueError as error:  # malformed URL
        raise _Fatal(f"{url}: {error}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise _Transient(f"cannot reach {_host(url)} ({_reason(error)}); check the network or use --url "
                         "with a mirror") from None

    with response:
        status = response.status
        if status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                part.unlink(missing_ok=True)
                raise _Transient("server sent a different range than asked; starting over")
            total = None if match.group(3) == "*" else int(match.group(3))
            mode = "ab"
        elif status == 200:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            offset, mode = 0, "wb"  # server ignored Range (or the file changed): from the start
            meta.clear()
            meta.update(url=url, etag=response.headers.get("ETag"),
                        last_modified=response.headers.get("Last-Modified"))
            meta_path.write_text(json.dumps(meta))
        else:
            raise _Fatal(f"{url}: unexpected HTTP status {status}")
        received = offset
        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                   file=sys.stderr, disable=not progress or None, leave=False)
        try:
            with open(part, mode) as out:
                while True:
                    try:
                        block = response.read(CHUNK)
                    except (http.client.IncompleteRead, OSError, http.client.HTTPException) as error:
                        raise _Transient(f"connection to {_host(url)} dropped at byte {received:,} "
                                         f"({_reason(error)})") from None
                    if not block:
                        break
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
                out.flush()
                os.fsync(out.fileno())
        finally:
            bar.close()
    if total is not None and received < total:
        raise _Transient(f"connection to {_host(url)} closed at byte {received:,} of {total:,}")
    if total is not None and received > total:
        part.unlink(missing_ok=True)
        raise _Transient(f"server sent {received:,} bytes for a {total:,}-byte file; starting over")
    return True


def _total_from(content_range: str) -> Optional[int]:
    match = re.match(r"bytes\s+\*/(\d+)", content_range)
    return int(match.group(1)) if match else None
