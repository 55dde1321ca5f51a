"""Putting whole files in place without clobbering anybody: create a file that must not exist yet
(`create_new`), tell whether a file is still the one that was read (`FileStamp`), and make sure a
rewrite moves the mtime forward (`advance_mtime`, what AgenticMemory's merge check looks at)."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from dataclasses import dataclass

_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK)


@dataclass(frozen=True)
class FileStamp:
    """Identity and state of a file: a rename, an append, a truncation or a rewrite changes it."""

    path: str
    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike) -> FileStamp:
        st = os.stat(path)
        return cls(os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    @classmethod
    def maybe(cls, path: str | os.PathLike) -> FileStamp | None:
        try:
            return cls.of(path)
        except FileNotFoundError:
            return None

    def is_of(self, path: str | os.PathLike) -> bool:
        """Does this stamp describe the file at `path` (whatever its state now)?"""
        return os.path.realpath(path) == self.path


def _fsync_directory(directory: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def create_new(path: str | os.PathLike, data: bytes, mode: int = 0o666) -> None:
    """Create `path` holding `data`; `FileExistsError` if it exists, even if it appeared a moment
    ago.  The bytes are written and fsynced in a private file first and hard-linked into place,
    so a reader (or a crash) never sees a partial file; where hard links are not supported the
    file is created with O_EXCL and written in place.  `mode` is reduced by the umask."""
    target = os.fspath(path)
    directory = os.path.dirname(target) or "."
    temp = os.path.join(directory, f".{os.path.basename(target)}.{secrets.token_hex(6)}.new")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        try:
            os.link(temp, target, follow_symlinks=False)
        except FileExistsError:
            raise FileExistsError(errno.EEXIST, "exists already (it may have been created meanwhile); "
                                  "not overwritten", target) from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            _create_in_place(target, data, mode)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    _fsync_directory(directory)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _create_in_place(target: str, data: bytes, mode: int) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
    try:
        _write_all(fd, data)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(target)     # ours: created by the O_EXCL open above
        raise
    os.close(fd)


def advance_mtime(path: str | os.PathLike, previous_ns: int) -> None:
    """Make the mtime of `path` later than `previous_ns`: Linux stamps with a coarse clock, and
    FAT/HFS+/some network filesystems keep 1-2 s; a writer that rewrote a file must not look
    unchanged to a process that compares mtimes."""
    for step in (1_000, 2_000_000_000):
        st = os.stat(path)
        if st.st_mtime_ns > previous_ns:
            return
        os.utime(path, ns=(st.st_atime_ns, previous_ns + step))
