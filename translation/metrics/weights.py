"""The FID Inception weights file: where it is looked for, how it is checked, how it is fetched.

The file is pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (the TensorFlow FID Inception ported to
PyTorch). It is looked for in this order: an explicit path (``--inception-weights``), then
``$TRANSLATION_INCEPTION_WEIGHTS``, then the torch hub cache, where pytorch-fid's own download puts it, so a
machine that has run pytorch-fid needs nothing more. Importing this module loads no torch.
"""
from __future__ import annotations

import os
import pathlib

from translation.data.catalog import INCEPTION_WEIGHTS
from translation.utils.hub_weights import digest_in_name, hub_checkpoint, install_hub_file

FILE_NAME = "pt_inception-2015-12-05-6726825d.pth"
URL = INCEPTION_WEIGHTS.url
# The whole digest of pytorch-fid's release file (95,628,359 bytes); its name carries the first 8 digits.
SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
ENV = "TRANSLATION_INCEPTION_WEIGHTS"


class InceptionWeightsError(RuntimeError):
    """A weights file that is missing, damaged or of another network; the message says what to do."""


class InceptionWeightsNotFound(InceptionWeightsError, FileNotFoundError):
    pass


def hub_cache_path() -> pathlib.Path:
    """Where pytorch-fid (torch.hub.load_state_dict_from_url) keeps the file: <hub dir>/checkpoints/NAME."""
    return hub_checkpoint(FILE_NAME)


def how_to_fetch(target: pathlib.Path | None = None) -> str:
    target = target or hub_cache_path()
    return (f"fetch it once (96 MB) with\n  translation download inception-weights\n"
            f"or download {URL}\nand put it at {target} (where pytorch-fid keeps it too), "
            f"or pass --inception-weights PATH, or set {ENV}=PATH")


def find_inception_weights(path=None) -> pathlib.Path:
    """The weights file to use: ``path``, else ``$TRANSLATION_INCEPTION_WEIGHTS``, else the hub cache.

    A path given (argument or variable) that does not exist is an error, never silently replaced by another
    file: the user asked for that one.
    """
    for given, origin in ((path, "--inception-weights"), (os.environ.get(ENV) or None, f"${ENV}")):
        if given is not None:
            given = pathlib.Path(given).expanduser()
            if not given.is_file():
                raise InceptionWeightsNotFound(f"{origin} {given}: no such file; {how_to_fetch()}")
            return given
    cached = hub_cache_path()
    if cached.is_file():
        return cached
    raise InceptionWeightsNotFound(
        f"the FID Inception weights ({FILE_NAME}) were not found: no --inception-weights, {ENV} is not set, "
        f"and {cached} does not exist; {how_to_fetch(cached)}")


def sha256_in_name(path) -> str | None:
    """The hex digits a hub-style name promises (``...-6726825d.pth``), or None for other names.

    Inception files only (pytorch-fid's, torch-fidelity's "weights-inception-2015-12-05-6726825d.pth"): the
    digits of other names are not taken as promises."""
    return digest_in_name(path, "inception")


def check_weights_file(path) -> str:
    """SHA-256 of ``path``; an error if its name promises a digest that the bytes do not have."""
    from translation.data.download import sha256_of

    path = pathlib.Path(path)
    digest = sha256_of(path)
    promised = sha256_in_name(path)
    if promised and not digest.startswith(promised):
        raise InceptionWeightsError(
            f"{path}: SHA-256 is {digest[:len(promised)]}..., but the name says {promised}: the file is damaged "
            f"(an interrupted download?) or another file under this name; delete it and {how_to_fetch(path)}")
    return digest


def install_inception_weights(url: str | None = None, sha256: str | None = None, force: bool = False,
                              retries: int = 3, timeout: float = 30.0, backoff: float = 2.0,
                              progress: bool = True):
    """Download the weights into the hub cache (resumable, SHA-256 checked); a zoo.Installed back."""
    from translation.data.zoo import InstallError

    if sha256 and sha256.lower() != SHA256:
        raise InstallError(f"the FID Inception weights have SHA-256 {SHA256}; --sha256 {sha256} names another file")
    return install_hub_file(FILE_NAME, url or URL, SHA256, force=force, retries=retries, timeout=timeout,
                            backoff=backoff, progress=progress)
