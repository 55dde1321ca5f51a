"""Reading sources: paths (regular files, FIFOs, `/dev/stdin`, `<(...)`), `-` (standard input),
bytes and binary file objects; the writers are in `writes` (re-exported here).

- A regular file up to `MAP_THRESHOLD` bytes is read into memory; a larger one is memory-mapped
  read-only (guarded against SIGBUS when it shrinks meanwhile: `guard`), so a file larger than RAM
  opens without being read whole.  Without the guard extension files are read up to
  `guard.UNGUARDED_READ_LIMIT`.
- Pipes, FIFOs, sockets and `-` are read as streams into memory, up to the budget's
  `max_stream_bytes` (`FormatError` code `input_too_large` beyond).  A FIFO is opened without
  blocking and waited for at most `FIFO_TIMEOUT` seconds (no writer: `TimeoutError`).
- Directories, character and block devices raise `OSError`s that say what they are.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import sys
from typing import BinaryIO

from . import guard
from .budget import current
from .errors import FormatError
from .writes import FileChanged, append_safely, atomic_write, stale_temp_files  # noqa: F401 - re-exported

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

READ_ERROR_CODES = frozenset({"input_too_large", "file_changed"})   # FormatError codes of reading itself
# Regular files above this size are mapped (with the guard), smaller ones read: below it a read
# costs less than a mapping; above it the mapping wins (a 15 MiB journal opens in 2.3 ms mapped,
# 3.7 ms read; benchmarks/, issue 12).
MAP_THRESHOLD = 1 << 20
FIFO_TIMEOUT = 10.0            # seconds a FIFO may stay silent before its first byte (or EOF)
CHUNK = 1 << 20
STDIN = "-"


_stdin: dict[tuple[int, int], bytes] = {}   # a pipe on standard input, once read (it cannot be read twice)


class NotAFile(OSError):
    """A path that names something memschema cannot read a memory file from (a device, a directory)."""


def read_source(source: Source) -> tuple[object, str]:
    """Return (buffer, name).  The buffer supports len(), slicing and the buffer protocol."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), "<bytes>"
    if isinstance(source, memoryview):
        return source.cast("B") if source.format != "B" else source, "<bytes>"
    if isinstance(source, str) and source == STDIN:
        return _read_stdin(), "<stdin>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return _read_path(path), path
    if hasattr(source, "read"):
        return _read_object(source), getattr(source, "name", "<stream>")
    raise TypeError(f"cannot read a memory file from {type(source).__name__}")


def changed(buffer, name: str) -> FormatError | None:
    """A `file_changed` error when the file behind a mapped `buffer` shrank while it was read."""
    why = guard.changed(buffer)
    return None if why is None else FormatError(f"{name}: {why}; read it again", "", None, "file_changed")


def _kind(mode: int) -> str | None:
    """What a non-regular, non-stream file is, or None for the ones memschema reads."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return None
    return "not a regular file, pipe or FIFO"


def _read_path(path: str):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)   # a FIFO without writer opens at once
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        what = _kind(mode)
        if what is not None:
            code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
            raise (IsADirectoryError if code == errno.EISDIR else NotAFile)(code, f"is {what}, not a memory file", path)
        if stat.S_ISREG(mode):
            os.set_blocking(fd, True)
            return _read_regular(fd, path)
        if (st.st_dev, st.st_ino) == _stdin_key():    # /dev/stdin, /proc/self/fd/0: the pipe `-` names
            return _read_stdin()
        return _read_stream(fd, path, FIFO_TIMEOUT if stat.S_ISFIFO(mode) else None)
    finally:
        os.close(fd)


def _read_regular(fd: int, path: str):
    """The file's bytes, or a guarded mapping of them (on a duplicate of `fd`; the caller closes `fd`)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return b""
    if size > (MAP_THRESHOLD if guard.AVAILABLE else guard.UNGUARDED_READ_LIMIT):
        return guard.map_file(os.dup(fd), size, path)
    parts, got = [], 0
    while got < size:
        part = os.pread(fd, size - got, got)
        if not part:
            raise FormatError(f"{path}: the file shrank from {size} to {got} bytes while it was read; read it again",
                              "", None, "file_changed")
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_stream(fd: int, name: str, first_timeout: float | None) -> bytes:
    """Everything until EOF, at most the budget's `max_stream_bytes`."""
    if first_timeout is not None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(int(first_timeout * 1000)):
            raise TimeoutError(errno.ETIMEDOUT, f"nothing was written to the FIFO within {first_timeout:g} s "
                               "(no writer?)", name)
        os.set_blocking(fd, True)
    limit = current().max_stream_bytes
    parts, total = [], 0
    while True:
        part = os.read(fd, CHUNK)
        if not part:
            return b"".join(parts)
        total += len(part)
        if total > limit:
            raise _too_large(name, limit)
        parts.append(part)


def _too_large(name: str, limit: int) -> FormatError:
    return FormatError(f"{name}: the input stream is longer than {limit} bytes (max_stream_bytes, "
                       "--max-stream-bytes); pass the file by name to map it instead", "", None, "input_too_large")


def _stdin_fd() -> int:
    return sys.stdin.fileno() if sys.stdin is not None else 0


def _stdin_key() -> tuple[int, int] | None:
    """(device, inode) of a pipe or socket on standard input, else None."""
    try:
        st = os.fstat(_stdin_fd())
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode) else None


def _read_stdin():
    """Standard input: a file as a file; a pipe read once and kept, so that `-` (or /dev/stdin)
    names the same bytes each time a command reads it (inspect loads, then validates)."""
    key = _stdin_key()
    if key is not None and key in _stdin:
        return _stdin[key]
    fd = _stdin_fd()
    mode = os.fstat(fd).st_mode
    if stat.S_ISCHR(mode) and os.isatty(fd):
        raise NotAFile(errno.ENOTTY, "standard input is a terminal: pipe a memory file in or name one", STDIN)
    what = _kind(mode)
    if what is not None:
        raise NotAFile(errno.EINVAL, f"standard input is {what}, not a memory file", STDIN)
    if stat.S_ISREG(mode):         # `< file`: the file itself, from its start
        return _read_regular(fd, "<stdin>")
    data = _read_stream(fd, "<stdin>", None)
    if key is not None:
        _stdin[key] = data
    return data


def _read_object(source) -> bytes:
    limit = current().max_stream_bytes
    data = source.read(limit + 1)
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("file object must be opened in binary mode")
    if len(data) > limit:
        raise _too_large(getattr(source, "name", "<stream>"), limit)
    return bytes(data)
