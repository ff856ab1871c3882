"""Weights files kept where torch hub keeps them (<hub dir>/checkpoints/NAME): the FID Inception's, torchvision's
VGG19. Where one is, whether its bytes are the ones its name promises, and its download (through the project's
resumable downloader). Importing this module loads no torch.

Hub names end in the first hex digits of the file's SHA-256 (``vgg19-dcbbe1a8.pth``); torchvision checks a
download against them, and so do these helpers, against the whole digest where it is known.
"""
from __future__ import annotations

import os
import pathlib
import re

_DIGEST_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.pth$")


def hub_checkpoint(file_name: str) -> pathlib.Path:
    """<hub dir>/checkpoints/file_name, honouring torch.hub.set_dir and $TORCH_HOME as torchvision does."""
    import torch.hub

    return pathlib.Path(torch.hub.get_dir()) / "checkpoints" / file_name


def digest_in_name(path, stem: str = "") -> str | None:
    """The hex digits a hub-style name (``NAME-<digits>.pth``) promises, or None; with `stem`, only for names
    that contain it (other names are not taken as promises)."""
    name = pathlib.Path(path).name
    match = _DIGEST_IN_NAME.search(name)
    return match.group(1) if match and stem in name else None


def matches(digest: str, expected: str) -> bool:
    """Whether a SHA-256 agrees with an expected one: the whole digest, or the leading digits a name carries."""
    return digest.lower().startswith(expected.lower())


def install_hub_file(file_name: str, url: str, expected: str, force: bool = False, retries: int = 3,
                     timeout: float = 30.0, backoff: float = 2.0, progress: bool = True):
    """Download `url` into the hub cache as `file_name`, checked against `expected` (the whole SHA-256, or its
    first digits): resumable, and nothing is left under the final name unless it matched. A zoo.Installed back.
    """
    from translation.data.download import fetch, sha256_of
    from translation.data.zoo import Installed, InstallError

    target = hub_checkpoint(file_name)
    if target.exists() and not force:
        digest = sha256_of(target)
        if matches(digest, expected):
            return Installed(target, digest, already=True)
        raise InstallError(f"{target} already exists but is not the expected file (SHA-256 {expected}...); "
                           "pass --force to replace it")
    if len(expected) == 64:  # fetch checks a whole digest itself before moving the file into place
        fetched = fetch(url, target, expected, retries=retries, timeout=timeout, backoff=backoff,
                        progress=progress, desc=file_name)
        return Installed(fetched.path, fetched.sha256)
    # only the name's digits are known: fetch under another name, check, then move into place
    staged = target.with_name(f"{target.name}.unchecked")
    fetched = fetch(url, staged, None, retries=retries, timeout=timeout, backoff=backoff, progress=progress,
                    desc=file_name)
    if not matches(fetched.sha256, expected):
        staged.unlink()
        raise InstallError(f"{url}: SHA-256 is {fetched.sha256}, which does not start with {expected}; the file "
                           "was deleted (corrupt download or wrong mirror)")
    os.replace(staged, target)
    return Installed(target, fetched.sha256)
