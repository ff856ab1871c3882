"""Install the official data sets (into ``data/``) and pretrained models (into ``checkpoints/``).

Each install records where it came from and the SHA-256 of what was downloaded:
``data/<name>/SOURCE.json`` for a data set; ``checkpoints/<name>_pretrained/latest_net_G.pth.sha256``
(``sha256sum`` format) and ``SOURCE.json`` for a model.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import posixpath
import shutil
import urllib.parse
from dataclasses import dataclass
from typing import Optional

from translation.data.archive import UnsafeArchiveError, safe_extract
from translation.data.catalog import Entry, UnknownNameError, folder_name, resolve
from translation.data.download import DownloadError, fetch
from translation.utils.files import atomic_write_bytes, no_empty_folders_left

SOURCE_FILE = "SOURCE.json"
MODEL_FILE = "latest_net_G.pth"  # the official download scripts' file name
# What built each project's zoo models (the official defaults), so loading needs no flags.
_MODEL_ARCH = {"cyclegan": {"netG": "resnet_9blocks", "norm": "instance", "no_dropout": True},
               "pix2pix": {"netG": "unet_256", "norm": "batch", "no_dropout": False}}


class InstallError(RuntimeError):
    pass


@dataclass
class Installed:
    path: pathlib.Path
    sha256: str
    note: Optional[str] = None
    already: bool = False


def _entry(name: str, kind: str, url: Optional[str]) -> tuple:
    try:
        return resolve(name, kind)
    except UnknownNameError:
        if not url:
            raise
        # A name the catalogue lacks is fine with an explicit URL (a private mirror or set).
        bare = name.rpartition("/")[2]
        if not bare or bare in (".", "..") or "\\" in bare:
            raise InstallError(f"{name!r} cannot be used as a folder name") from None
        return Entry(bare, "custom", kind, url, "?"), None


def _record(entry: Entry, url: str, sha256: str, size: int, extra: Optional[dict] = None) -> bytes:
    record = {"name": entry.name, "project": entry.project, "kind": entry.kind, "url": url, "sha256": sha256,
              "bytes": size, "downloaded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    record.update(extra or {})
    return (json.dumps(record, indent=2) + "\n").encode()


def _previous(folder: pathlib.Path) -> dict:
    try:
        return json.loads((folder / SOURCE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _archive_name(url: str, fallback: str) -> str:
    name = posixpath.basename(urllib.parse.urlsplit(url).path)
    return name if name and name not in (".", "..") else fallback


def install_dataset(name: str, data_dir="data", url: Optional[str] = None, sha256: Optional[str] = None,
                    force: bool = False, keep_archive: bool = False, retries: int = 3, timeout: float = 30.0,
                    backoff: float = 2.0, progress: bool = True) -> Installed:
    entry, note = _entry(name, "dataset", url)
    url = url or entry.url
    data_dir = pathlib.Path(data_dir)
    dest = data_dir / folder_name(entry)
    if dest.exists() and not force:
        previous = _previous(dest)
        if _same(previous, entry) and (not sha256 or previous["sha256"] == sha256.lower()):
            return Installed(dest, previous["sha256"], note, already=True)
        raise InstallError(f"{dest} already exists{_holding(previous)}; pass --force to replace it")
    downloads = data_dir / ".downloads"  # hidden: list_images and data check never see archives
    with no_empty_folders_left(downloads):
        fetched = fetch(url, downloads / _archive_name(url, entry.name), sha256, retries=retries, timeout=timeout,
                        backoff=backoff, progress=progress, desc=entry.name)
        fresh = dest.with_name(f".{dest.name}.new")
        if fresh.exists():
            shutil.rmtree(fresh)
        try:
            safe_extract(fetched.path, fresh)
        except UnsafeArchiveError:
            fetched.path.unlink(missing_ok=True)  # never keep (or re-extract) a refused archive
            raise
    atomic_write_bytes(fresh / SOURCE_FILE, _record(entry, url, fetched.sha256, fetched.size,
                                                    {"layout": entry.layout} if entry.layout else None))
    _swap_in(fresh, dest)
    if not keep_archive:
        fetched.path.unlink(missing_ok=True)
    return Installed(dest, fetched.sha256, note)


def _swap_in(fresh: pathlib.Path, dest: pathlib.Path) -> None:
    """Replace ``dest`` by ``fresh`` with at most a moment where neither is in place."""
    old = dest.with_name(f".{dest.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if dest.exists():
        dest.rename(old)
    fresh.rename(dest)
    if old.exists():
        shutil.rmtree(old)


def model_folder(entry: Entry, checkpoints_dir) -> pathlib.Path:
    return pathlib.Path(checkpoints_dir) / f"{folder_name(entry)}_pretrained"


def _same(previous: dict, entry: Entry) -> bool:
    """Already installed: the same set or model (from any mirror), completely (its SHA-256 recorded)."""
    return bool(previous.get("sha256")) and (previous.get("project"), previous.get("name")) == (entry.project,
                                                                                              entry.name)


def _holding(previous: dict) -> str:
    return f" (it holds {previous.get('project')}/{previous.get('name')})" if previous else ""


def install_model(name: str, checkpoints_dir="checkpoints", url: Optional[str] = None,
                  sha256: Optional[str] = None, force: bool = False, retries: int = 3, timeout: float = 30.0,
                  backoff: float = 2.0, progress: bool = True, verify: bool = True) -> Installed:
    """Save the official generator as ``checkpoints/<name>_pretrained/latest_net_G.pth``."""
    entry, note = _entry(name, "model", url)
    url = url or entry.url
    folder = model_folder(entry, checkpoints_dir)
    target = folder / MODEL_FILE
    previous = _previous(folder)
    if target.exists() and not force:
        if _same(previous, entry) and (not sha256 or previous["sha256"] == sha256.lower()):
            return Installed(target, previous["sha256"], note, already=True)
        raise InstallError(f"{target} already exists{_holding(previous)}; pass --force to replace it")
    # Downloaded beside the target, verified, then moved over it: a failure leaves the old model.
    staged = folder / f".{MODEL_FILE}.download"
    with no_empty_folders_left(folder):
        fetched = fetch(url, staged, sha256, retries=retries, timeout=timeout, backoff=backoff, progress=progress,
                        desc=entry.name)
        if verify:
            _check_state_dict(staged, url)
    staged.replace(target)
    atomic_write_bytes(folder / f"{MODEL_FILE}.sha256", f"{fetched.sha256}  {MODEL_FILE}\n".encode())
    arch = _MODEL_ARCH.get(entry.project, {})
    atomic_write_bytes(folder / SOURCE_FILE, _record(entry, url, fetched.sha256, fetched.size, arch))
    return Installed(target, fetched.sha256, note)


def _check_state_dict(path: pathlib.Path, url: str) -> None:
    """An HTML error page or a truncated file must not be installed as a model."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)  # weights only: no code runs
    except Exception as error:
        path.unlink(missing_ok=True)
        raise InstallError(f"{url} is not a PyTorch weights file ({type(error).__name__}: "
                           f"{str(error).splitlines()[0] if str(error) else ''}); nothing was installed") from None
    if not isinstance(state, dict) or not state:
        path.unlink(missing_ok=True)
        raise InstallError(f"{url} holds a {type(state).__name__}, not a state dict; nothing was installed")


__all__ = ["DownloadError", "InstallError", "Installed", "UnknownNameError", "UnsafeArchiveError",
           "install_dataset", "install_model"]
