"""Atomic file writes: a reader (or a crash) never sees a half-written file.

A write goes to a temporary file beside its target, `.NAME.PID@HOST.XXXXXXXX.tmp`, renamed over the target
when complete. A process killed part-way (kill -9, power loss) leaves that temporary behind: its name says
which process on which machine wrote it, so `clear_unfinished_writes` can tell a dead save's leftover (removed)
from one still being written (kept), even on a folder shared by several machines.
"""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import socket
import tempfile
import time
from pathlib import Path

# A temporary of a writer that did not record its process (versions before this one) is removed once it has
# not been written for this long: a save writes its temporary until the moment it renames it, so an hour
# without a write means no save is behind it.
UNRECORDED_WRITER_AGE = 3600.0
# Start times are known to about a second (boot time in whole seconds); a process that started later than
# this after a temporary's last write cannot have written it.
_CLOCK_SLACK = 5.0

_RECORDED = re.compile(r"\.(?P<target>.+)\.(?P<pid>\d+)@(?P<host>[A-Za-z0-9_-]+)\.[a-z0-9_]{8}\.tmp")
_UNRECORDED = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")  # mkstemp's 8 random characters


def _host() -> str:
    """This machine's name as it goes into a file name (one word: dots and the like become _)."""
    return re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "unknown"


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside `path`; on success fsync it and rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}@{_host()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); the result should get a new file's usual mode
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once the directory entry is flushed.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def no_empty_folders_left(folder: Path):
    """On failure inside the block, remove `folder` and the parents of it that the block made, as far as
    they are empty: a download that fails leaves no empty folder behind (a partial file keeps its folder)."""
    folder = Path(folder)
    made = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
    try:
        yield
    except BaseException:
        for path in made:
            try:
                path.rmdir()  # refused unless empty
            except OSError:
                break
        raise


# --- what interrupted writes leave behind --------------------------------------------------------------

def clear_unfinished_writes(folder: Path) -> list[str]:
    """Remove the temporaries of atomic writes into `folder` (and below) that no process is writing any
    more; return one line per temporary removed, or kept where that cannot be told (another machine's, or a
    recent one of an earlier version), with the command that removes it. A live writer's are left alone."""
    lines = []
    found = [Path(root, name) for root, _, names in os.walk(folder)  # links to other folders are not followed
             for name in names if name.startswith(".") and name.endswith(".tmp")]
    for tmp in sorted(found):
        try:
            info = tmp.stat()
        except OSError:
            continue  # renamed into place meanwhile
        verdict = _verdict(tmp.name, info.st_mtime)
        if verdict is None:
            continue
        remove, why = verdict
        size = _size(info.st_size)
        if not remove:
            lines.append(f"kept {tmp} ({size}): {why}; if nothing is saving there, remove it: "
                         f"rm {shlex.quote(str(tmp))}")
            continue
        try:
            tmp.unlink()
        except FileNotFoundError:
            continue  # another process cleared it first
        except OSError as error:  # a folder of someone else's, read-only here
            lines.append(f"kept {tmp} ({size}), left by a save that did not finish ({why}): cannot remove it "
                         f"({error.strerror or error})")
            continue
        lines.append(f"removed {tmp} ({size}), left by a save that did not finish ({why})")
    return lines


def _verdict(name: str, mtime: float) -> tuple[bool, str] | None:
    """(remove?, why) for a temporary named `name` last written at `mtime`; None: not ours, or being written."""
    recorded = _RECORDED.fullmatch(name)
    if recorded:
        pid, host = int(recorded["pid"]), recorded["host"]
        if host != _host():
            return False, f"a save by process {pid} on {host}, which cannot be checked from this machine"
        return (True, f"process {pid} has ended") if _writer_gone(pid, mtime) else None
    if _UNRECORDED.fullmatch(name):
        age = time.time() - mtime
        if age >= UNRECORDED_WRITER_AGE:
            return True, f"not written for {_duration(age)}"
        return False, (f"written {_duration(age)} ago by an earlier version of translation, which did not "
                       "record its process")
    return None


def _writer_gone(pid: int, mtime: float) -> bool:
    """Whether process `pid` of this machine cannot be writing a file last written at `mtime`: it has ended,
    or the process now holding its number started after that write (numbers are reused)."""
    if os.name == "nt":
        return False  # os.kill there would end the process: treat every writer as alive
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False  # another user's process; a number no process can have is left alone too
    started = _start_time(pid)
    return started is not None and started > mtime + _CLOCK_SLACK


def _start_time(pid: int) -> float | None:
    """When process `pid` started, in seconds since the epoch (Linux /proc); None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # the name may hold spaces
        ticks = int(fields[19])  # field 22, starttime: clock ticks after boot
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}" if n < 100 * scale else f"{n / scale:.0f} {unit}"
    return f"{n} bytes"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h" if seconds < 172800 else f"{seconds / 86400:.0f} days"
