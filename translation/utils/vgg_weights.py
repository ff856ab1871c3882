"""torchvision's VGG19 weights file, which the VGG perceptual loss needs: where it is looked for, its check, its
download. The file is torchvision's own ``vgg19-dcbbe1a8.pth`` in the torch hub cache, where
``torchvision.models.vgg19(weights="IMAGENET1K_V1")`` puts it, so a machine that has used that needs nothing more.
Importing this module loads no torch.
"""
from __future__ import annotations

import pathlib

from translation.utils.hub_weights import digest_in_name, hub_checkpoint, install_hub_file, matches

FILE_NAME = "vgg19-dcbbe1a8.pth"
URL = f"https://download.pytorch.org/models/{FILE_NAME}"
SHA256 = "dcbbe1a8"  # torchvision publishes the first 8 digits of the SHA-256, in the name
SIZE = "548 MB"
DOWNLOAD_NAME = "vgg19-weights"  # translation download vgg19-weights


class VGGWeightsError(RuntimeError):
    """A weights file that is missing, damaged or of another network; the message says what to do."""


class VGGWeightsNotFound(VGGWeightsError, FileNotFoundError):
    pass


def how_to_fetch(target: pathlib.Path | None = None) -> str:
    target = target or hub_checkpoint(FILE_NAME)
    return (f"fetch it once ({SIZE}) with\n  translation download {DOWNLOAD_NAME}\nor download {URL}\n"
            f"and put it at {target} (where torchvision keeps it too)")


def find_vgg19_weights(path=None) -> pathlib.Path:
    """`path` if given (it must exist: never silently replaced by another file), else the hub cache's file."""
    if path is not None:
        given = pathlib.Path(path).expanduser()
        if not given.is_file():
            raise VGGWeightsNotFound(f"VGG19 weights {given}: no such file; {how_to_fetch()}")
        return given
    cached = hub_checkpoint(FILE_NAME)
    if not cached.is_file():
        raise VGGWeightsNotFound(f"the VGG perceptual loss needs torchvision's VGG19 weights ({FILE_NAME}), and "
                                 f"{cached} does not exist; {how_to_fetch(cached)}")
    return cached


def check_vgg19_file(path) -> str:
    """SHA-256 of `path`; an error if its name promises digits (``vgg19-<digits>.pth``) its bytes lack."""
    from translation.data.download import sha256_of

    path = pathlib.Path(path)
    digest = sha256_of(path)
    promised = digest_in_name(path, "vgg19")
    if promised and not matches(digest, promised):
        raise VGGWeightsError(f"{path}: SHA-256 is {digest[:len(promised)]}..., but the name says {promised}: the "
                              "file is damaged (an interrupted download?) or another file under this name; delete "
                              f"it and {how_to_fetch(path)}")
    return digest


def install_vgg19_weights(url: str | None = None, sha256: str | None = None, force: bool = False,
                          retries: int = 3, timeout: float = 30.0, backoff: float = 2.0, progress: bool = True):
    """`translation download vgg19-weights`: the file into the hub cache, checked; a zoo.Installed back."""
    from translation.data.zoo import InstallError

    expected = SHA256
    if sha256:  # a whole digest given is checked whole; it must be one of the file the name promises
        if not matches(sha256, SHA256):
            raise InstallError(f"torchvision's VGG19 weights have a SHA-256 starting {SHA256}; --sha256 {sha256} "
                               "names another file")
        expected = sha256.lower()
    return install_hub_file(FILE_NAME, url or URL, expected, force=force, retries=retries, timeout=timeout,
                            backoff=backoff, progress=progress)
