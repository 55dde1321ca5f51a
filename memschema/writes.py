"""Writing files without losing the old one.

- `atomic_write(path, data)` writes the file a symlink points to (the link stays a link): a
  temporary file `.NAME.memschema-PID-RANDOM.tmp` in the target's directory, written, fsynced,
  given the target's mode (a new file: 0666 & ~umask, as `open()` would), renamed over the target,
  then the directory fsynced.  A failure at any point leaves the previous file untouched, removes
  the temporary file and names the target (not the temporary file) in the error.  Temporary files
  of the same target left by a killed writer (stale: their process is gone, or untouched for an
  hour) are removed first; `memschema cleanup` removes them anywhere.
- `append_safely(path, data, expected_size)` appends to an append-only journal with unbuffered
  `os.pwrite` on the descriptor; if anything fails (disk full included) the file is cut back to
  `expected_size` with `os.ftruncate`, so no half-written record stays.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

TEMP_MARK = ".memschema-"
TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.memschema-(?P<pid>\d+)-(?P<tag>[0-9a-f]{8})\.tmp$")
STALE_SECONDS = 3600          # a temporary file untouched this long is stale even if its pid is in use
MAX_NAME = 200                # longer target names are cut in the temporary name (NAME_MAX is 255)


class FileChanged(RuntimeError):
    """The file on disk is not the one the document was loaded from; appending would corrupt it."""


def temp_prefix(name: str) -> str:
    return f".{name[:MAX_NAME]}{TEMP_MARK}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:       # someone else's process: alive
        return True
    except OverflowError:
        return False
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """Whether `path` is a memschema temporary file whose writer is gone (or that is older than
    `STALE_SECONDS`)."""
    m = TEMP_NAME.match(path.name)
    if not m:
        return False
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except FileNotFoundError:
        return False
    return age > STALE_SECONDS or not _pid_alive(int(m["pid"]))


def stale_temp_files(path: str | os.PathLike) -> list[Path]:
    """Stale temporary files in directory `path`, or of the file `path` (beside its symlink-resolved target)."""
    p = Path(path)
    if p.is_dir():
        candidates = [c for c in p.iterdir() if TEMP_NAME.match(c.name)]
    else:
        target = Path(os.path.realpath(p))
        prefix = temp_prefix(target.name)
        try:
            candidates = [c for c in target.parent.iterdir() if c.name.startswith(prefix)]
        except FileNotFoundError:
            return []
    return sorted(c for c in candidates if is_stale(c))


def remove_stale(path: str | os.PathLike) -> list[Path]:
    """Remove what `stale_temp_files` finds; returns what was removed."""
    removed = []
    for tmp in stale_temp_files(path):
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:
            pass
    return removed


def _umask() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)        # no /proc: read it by setting it (not thread-safe, hence last resort)
    os.umask(mask)
    return mask


def _write_all(fd: int, data, at: int | None = None) -> None:
    view = memoryview(data).cast("B")
    done = 0
    while done < len(view):
        part = view[done:done + (1 << 30)]
        done += os.pwrite(fd, part, at + done) if at is not None else os.write(fd, part)


def _named(exc: OSError, path) -> None:
    """Make the error about the target the caller named, not about our temporary file."""
    exc.filename, exc.filename2 = os.fspath(path), None


@contextlib.contextmanager
def _undone_on_failure(path, undo: Callable[[], None]) -> Iterator[None]:
    """On any failure inside the block: `undo()` (best effort), the error names `path`, re-raised."""
    try:
        yield
    except BaseException as exc:
        try:
            undo()
        except OSError:
            pass
        if isinstance(exc, OSError):
            _named(exc, path)
        raise


def atomic_write(path: str | os.PathLike, data) -> None:
    """Replace the file at `path` (through symlinks) with `data`; see the module doc."""
    target = Path(os.path.realpath(path))
    directory = target.parent
    remove_stale(target)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    tmp = directory / f"{temp_prefix(target.name)}{os.getpid()}-{secrets.token_hex(4)}.tmp"
    with _undone_on_failure(path, lambda: os.unlink(tmp)):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            _write_all(fd, data)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def append_safely(path: str | os.PathLike, data, expected_size: int) -> None:
    """Append `data` to an existing append-only file that must still be `expected_size` bytes
    long (nobody appended since it was read); written and fsynced, or cut back on any failure."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        if size != expected_size:
            raise FileChanged(f"{os.fspath(path)} is {size} bytes, expected {expected_size}: "
                              "it changed since it was read")
        def cut_back() -> None:   # unbuffered: nothing of the failed write is pending to be flushed again
            os.ftruncate(fd, expected_size)
            os.fsync(fd)
        with _undone_on_failure(path, cut_back):
            _write_all(fd, data, expected_size)
            os.fsync(fd)
    finally:
        os.close(fd)
