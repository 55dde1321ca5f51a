"""Reading sources (path, bytes, binary file object) and writing files without losing the old one."""

from __future__ import annotations

import mmap
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO


def read_source(source: Source) -> tuple[object, str]:
    """Return (buffer, name).  Paths are memory-mapped read-only, so a file larger than RAM opens
    without being read whole; the buffer supports len(), slicing and the buffer protocol."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), "<bytes>"
    if isinstance(source, memoryview):
        return source.cast("B") if source.format != "B" else source, "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return b"", path
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ), path
    if hasattr(source, "read"):
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("file object must be opened in binary mode")
        return bytes(data), getattr(source, "name", "<stream>")
    raise TypeError(f"cannot read a memory file from {type(source).__name__}")


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory, fsync it and rename
    it over the target.  A failure at any point leaves the previous file untouched."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
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


class FileChanged(RuntimeError):
    """The file on disk is not the one the document was loaded from; appending would corrupt it."""


def append_safely(path: str | os.PathLike, data: bytes, expected_size: int) -> None:
    """Append `data` to an existing append-only file.

    The file must still be `expected_size` bytes long (nobody appended since it was read).  The
    new bytes are written and fsynced; if writing fails part-way the file is cut back to its old
    length, so the previous state stays the latest valid one.
    """
    with open(path, "r+b") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size != expected_size:
            raise FileChanged(f"{os.fspath(path)} is {size} bytes, expected {expected_size}: "
                              "it changed since it was read")
        fh.seek(expected_size)
        try:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        except BaseException:
            fh.truncate(expected_size)
            fh.flush()
            os.fsync(fh.fileno())
            raise
