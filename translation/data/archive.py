"""Safe extraction of .tar(.gz/.bz2/.xz) and .zip archives.

Every entry is checked before anything is written: absolute paths, ``..``, links that point
outside the target or entries that pass through a link, devices and duplicate names refuse the
whole archive. Extraction goes to a hidden staging folder next to the target and is moved into
place at the end, so a failure leaves neither partial data nor anything outside the target.
"""
from __future__ import annotations

import os
import pathlib
import posixpath
import re
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Callable, List, Optional


class UnsafeArchiveError(ValueError):
    """An archive that would write outside its target folder (or that is not an archive)."""


@dataclass
class Member:
    name: str  # normalised relative POSIX path
    kind: str  # "file", "dir", "symlink", "hardlink"
    link: str = ""  # symlink target as stored, or the hard-linked member's normalised name
    open: Optional[Callable[[], BinaryIO]] = None


_DRIVE = re.compile(r"^[A-Za-z]:")


def _normalise(archive, raw: str, what: str = "entry") -> str:
    name = raw.replace("\\", "/")  # a backslash is a separator on Windows: judge it as one
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafeArchiveError(f"{archive}: {what} {raw!r} has an absolute path; refusing the archive")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"{archive}: {what} {raw!r} climbs out with '..'; refusing the archive")
    if any("\0" in p for p in parts):
        raise UnsafeArchiveError(f"{archive}: {what} {raw!r} has a NUL byte; refusing the archive")
    return "/".join(parts)


def _tar_members(archive, tar: tarfile.TarFile) -> List[Member]:
    members = []
    for info in tar.getmembers():
        name = _normalise(archive, info.name)
        if info.isdir():
            members.append(Member(name, "dir"))
        elif info.isfile():
            members.append(Member(name, "file", open=lambda info=info: tar.extractfile(info)))
        elif info.issym():
            members.append(Member(name, "symlink", info.linkname))
        elif info.islnk():
            members.append(Member(name, "hardlink", _normalise(archive, info.linkname, "hard link target")))
        else:
            raise UnsafeArchiveError(f"{archive}: entry {info.name!r} is a device or pipe; refusing the archive")
    return members


def _zip_members(archive, zf: zipfile.ZipFile) -> List[Member]:
    members = []
    for info in zf.infolist():
        name = _normalise(archive, info.filename)
        mode = info.external_attr >> 16
        if info.is_dir():
            members.append(Member(name, "dir"))
        elif stat.S_ISLNK(mode):  # Info-ZIP stores a symlink's target as its content
            members.append(Member(name, "symlink", zf.read(info).decode("utf-8", "replace")))
        else:
            members.append(Member(name, "file", open=lambda info=info: zf.open(info)))
    return members


def _link_problem(target: str, links: set) -> str:
    """Walk the link target one component at a time, as the kernel would; '' when it stays inside.

    Checking the normalised path is not enough: with ``a -> .``, ``a/..`` normalises to ``.`` but
    really means the target's parent.
    """
    stack: List[str] = []
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                return "outside the target"
            stack.pop()
            continue
        stack.append(part)
        if "/".join(stack) in links:
            return "through another link"
    return ""


def _validate(archive, members: List[Member]) -> None:
    links = {m.name for m in members if m.kind == "symlink"}
    seen = {}

    def through_link(path: str) -> Optional[str]:
        parts = path.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in links:
                return prefix
        return None

    for m in members:
        if not m.name:
            continue  # the archive's own root ("./")
        if m.name in seen and not (m.kind == "dir" and seen[m.name] == "dir"):
            raise UnsafeArchiveError(f"{archive}: {m.name!r} appears twice; refusing the archive")
        seen[m.name] = m.kind
        link = through_link(m.name)
        if link:
            raise UnsafeArchiveError(f"{archive}: entry {m.name!r} lies inside the link {link!r}; refusing "
                                     "the archive")
        if m.kind == "symlink":
            if m.link.startswith("/") or _DRIVE.match(m.link) or "\\" in m.link:
                raise UnsafeArchiveError(f"{archive}: link {m.name!r} points to {m.link!r}, outside the target; "
                                         "refusing the archive")
            problem = _link_problem(posixpath.join(posixpath.dirname(m.name), m.link), links)
            if problem:
                raise UnsafeArchiveError(f"{archive}: link {m.name!r} points to {m.link!r}, {problem}; "
                                         "refusing the archive")
        if m.kind == "hardlink" and seen.get(m.link) != "file":
            raise UnsafeArchiveError(f"{archive}: hard link {m.name!r} refers to {m.link!r}, which is not a file "
                                     "earlier in the archive; refusing the archive")


def _write(members: List[Member], root: pathlib.Path) -> int:
    count = 0
    for m in members:
        if not m.name:
            continue
        path = root / m.name
        if m.kind == "dir":
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if m.kind == "symlink":
            os.symlink(m.link, path)
        elif m.kind == "hardlink":
            shutil.copyfile(root / m.link, path)  # a copy: no shared inode to surprise anyone later
        else:
            # O_EXCL | O_NOFOLLOW: never write through something that already exists.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
            with os.fdopen(fd, "wb") as out, m.open() as source:
                shutil.copyfileobj(source, out, 1 << 20)
        count += 1
    return count


def list_members(archive) -> List[Member]:
    """Validated entries; raises :class:`UnsafeArchiveError` for unsafe or unreadable archives."""
    archive = pathlib.Path(archive)
    with _opened(archive) as (kind, handle):
        members = _tar_members(archive, handle) if kind == "tar" else _zip_members(archive, handle)
        _validate(archive, members)
        return [Member(m.name, m.kind, m.link) for m in members]


class _opened:
    def __init__(self, archive: pathlib.Path):
        self.archive = archive

    def __enter__(self):
        try:
            if zipfile.is_zipfile(self.archive):
                self.handle, kind = zipfile.ZipFile(self.archive), "zip"
            elif tarfile.is_tarfile(self.archive):
                self.handle, kind = tarfile.open(self.archive, "r:*"), "tar"
            else:
                raise UnsafeArchiveError(f"{self.archive}: not a .tar(.gz) or .zip archive ({_peek(self.archive)})")
        except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError) as error:
            raise UnsafeArchiveError(f"{self.archive}: unreadable archive ({error})") from None
        return kind, self.handle

    def __exit__(self, *exc):
        self.handle.close()


def _peek(path: pathlib.Path) -> str:
    with open(path, "rb") as f:
        head = f.read(40)
    if head.lstrip().lower().startswith((b"<!doctype", b"<html")):
        return "it is an HTML page: the server or mirror sent an error page"
    return f"starts with {head[:16]!r}"


def safe_extract(archive, dest, strip_single_top: bool = True) -> pathlib.Path:
    """Extract ``archive`` into the new folder ``dest`` (which must not exist); returns ``dest``.

    With ``strip_single_top`` an archive holding one top-level folder (``facades/...``) has that
    folder's content placed in ``dest``.
    """
    archive, dest = pathlib.Path(archive), pathlib.Path(dest)
    if dest.exists():
        raise FileExistsError(f"{dest} already exists")
    staging = dest.with_name(f".{dest.name}.extracting")
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted run; never part of a finished extraction
    try:
        with _opened(archive) as (kind, handle):
            members = _tar_members(archive, handle) if kind == "tar" else _zip_members(archive, handle)
            _validate(archive, members)  # before anything is written
            staging.mkdir(parents=True)
            try:
                _write(members, staging)
            except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
                raise UnsafeArchiveError(f"{archive}: damaged archive ({error})") from None
        top = [p for p in staging.iterdir()]
        source = top[0] if strip_single_top and len(top) == 1 and top[0].is_dir() and not top[0].is_symlink() \
            else staging
        os.replace(source, dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return dest
