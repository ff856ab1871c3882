"""A cache of a folder's Inception features, keyed by the folder's content, so that the second evaluation
against the same real set reads them back instead of running the network.

The key hashes every image's bytes with its relative name, plus the protocol (resize, precision, the
weights' SHA-256). Bytes rather than names, sizes and mtimes: hashing costs a read of the files, far less
than decoding them and running Inception (a hundredth of it on a CPU), and in exchange a key never goes
stale by a rewrite that keeps size and mtime (``cp -p``, ``rsync -t``, a clock skew), and a copy of the same
set elsewhere, or a fresh checkout whose mtimes are all new, still hits.

Location: ``--cache-dir``, else ``$TRANSLATION_CACHE_DIR``, else ``$XDG_CACHE_HOME/translation`` (default
``~/.cache/translation``), in ``features/``. Entries are ``.npz`` files of 8 KB per image; delete freely.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import sys

import numpy as np

from translation.metrics.features import FolderFeatures, features_for, list_folder_images, protocol_of
from translation.metrics.inception import FIDInception
from translation.utils.files import atomic_path

CACHE_ENV = "TRANSLATION_CACHE_DIR"
_VERSION = "translation-features-1"  # bump when the network, reader or file layout changes


def cache_root() -> pathlib.Path:
    """Where the project caches what it computes (feature sets, the digits classifier)."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        root = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "translation"
    return pathlib.Path(root).expanduser()


def default_cache_dir() -> pathlib.Path:
    return cache_root() / "features"


def content_key(folder: pathlib.Path, files, protocol: dict) -> str:
    """SHA-256 over the protocol and each file's relative name and bytes."""
    digest = hashlib.sha256(_VERSION.encode())
    digest.update(json.dumps(protocol, sort_keys=True).encode())
    for path in files:
        digest.update(b"\0" + pathlib.Path(path).relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def cached_folder_features(folder, model: FIDInception, batch_size: int = 50, device=None,
                           precision: str = "fp32", resize: str = "pytorch-fid", recursive: bool = False,
                           progress: bool = False, cache_dir=None) -> FolderFeatures:
    """:func:`folder_features`, read back from the cache when the folder's content was seen before
    (``from_cache`` is then True and ``summary()`` says so). A model without a known weights file
    (built by hand) is not cached: its features cannot be told apart from another network's."""
    folder = pathlib.Path(folder)
    files = list_folder_images(folder, recursive)
    protocol = protocol_of(model, resize, precision)
    if model.weights_sha256 is None:
        return features_for(folder, files, model, batch_size, device, precision, resize, progress)
    entry = pathlib.Path(cache_dir or default_cache_dir()) / f"{content_key(folder, files, protocol)}.npz"
    if entry.is_file():
        found = _load(entry, folder, protocol)
        if found is not None:
            return found
    result = features_for(folder, files, model, batch_size, device, precision, resize, progress)
    _save(entry, result)
    return result


def _save(entry: pathlib.Path, result: FolderFeatures) -> None:
    arrays = {"features": result.features.astype(np.float32), "logits": result.logits.astype(np.float32),
                  "logits_unbiased": result.logits_unbiased.astype(np.float32),
                  "files": np.array([p.as_posix() for p in result.files], dtype=str),
                  "skipped": np.array([p.as_posix() for p, _ in result.skipped], dtype=str),
                  "reasons": np.array([reason for _, reason in result.skipped], dtype=str),
                  "protocol": np.array(json.dumps(result.protocol))}
    try:
        with atomic_path(entry) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    except OSError as error:  # a read-only or full cache must not fail the evaluation
        print(f"warning: could not cache features in {entry.parent} ({error})", file=sys.stderr)
        return
    result.cache_path = entry


def _load(entry: pathlib.Path, folder: pathlib.Path, protocol: dict) -> FolderFeatures | None:
    try:
        with np.load(entry, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        rows = [arrays[k].astype(np.float64) for k in ("features", "logits", "logits_unbiased")]
        files = [pathlib.Path(p) for p in arrays["files"]]
        skipped = [(pathlib.Path(p), str(r)) for p, r in zip(arrays["skipped"], arrays["reasons"])]
    except Exception as error:  # a damaged entry is recomputed (and rewritten), never trusted
        print(f"warning: ignoring the damaged feature cache entry {entry} ({type(error).__name__})", file=sys.stderr)
        return None
    return FolderFeatures(folder, files, *rows, protocol=protocol, skipped=skipped, from_cache=True,
                          cache_path=entry)
