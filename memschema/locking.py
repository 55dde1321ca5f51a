"""Writer locks: the three mechanisms the upstream tools use (shared/formats/LOCKS.md), so that a
memschema writer neither runs beside an upstream writer nor beside another memschema writer.

The engine knows no format: a format package declares which mechanism its writers take, with its
lock-file name rule and thresholds (`Format.lock_for`).  Every mechanism returns a `Held` lock
(a context manager); a lock another writer holds raises `LockHeld`, at once or after `timeout`
seconds of waiting.  Readers never lock.

- `FlockLock`: kernel `flock(LOCK_EX|LOCK_NB)` on an empty side file that is never written nor
  deleted; released by closing the descriptor, so it cannot go stale.
- `ExclusiveFileLock`: an empty side file created with O_EXCL; broken when its mtime is older than
  `stale_after`; polled every `poll` seconds; unlinked on release.
- `OwnerRecordLock`: a side file holding an owner record (pid, host, time, writer id) published
  atomically; broken by the same-host/other-host age rules; unlinked on release only while it
  still holds our writer id.  The record's layout comes from the format (`OwnerRecord`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import math
import os
import secrets
import stat
import time
from dataclasses import dataclass
from typing import Protocol

from .errors import LockHeld
from .publish import create_new

POLL = 0.05                 # longest pause between attempts when a caller asked to wait
BREAK_GUARD_WAIT = 2.0      # bound on waiting for another memschema process's stale-lock break


def with_extension(path: str | os.PathLike, extension: str) -> str:
    """Rust's `Path::with_extension`: replace the text after the last dot of the file name (a
    leading dot does not start an extension) by `extension`, or append `.extension`."""
    directory, name = os.path.split(os.fspath(path))
    if name in ("", ".", ".."):
        raise ValueError(f"{os.fspath(path)!r} has no file name to derive a lock name from")
    dot = name.rfind(".")
    stem = name[:dot] if dot > 0 else name
    return os.path.join(directory, stem + ("." + extension if extension else ""))


@dataclass(frozen=True)
class LockName:
    """How a lock file is named after the data file: `Path::with_extension(extension)` or the
    full path + `suffix`."""

    extension: str | None = None
    suffix: str | None = None

    def of(self, path: str | os.PathLike) -> str:
        if self.suffix is not None:
            return os.fspath(path) + self.suffix
        return with_extension(path, self.extension or "")


class Held:
    """A lock this process holds; `release()` (or leaving the `with` block) gives it back."""

    def __init__(self, path: str, release):
        self.path = path
        self._release = release

    @property
    def held(self) -> bool:
        return self._release is not None

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> Held:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self):   # like upstream's Drop: a forgotten handle still gives the lock back
        with contextlib.suppress(Exception):
            self.release()


class LockProtocol:
    """One upstream locking mechanism with its parameters."""

    name: LockName
    default_timeout: float = 0.0

    def lock_path(self, path: str | os.PathLike) -> str:
        return self.name.of(path)

    def acquire(self, path: str | os.PathLike, timeout: float | None = None) -> Held:
        raise NotImplementedError

    def _begin(self, path, timeout: float | None) -> tuple[float, str]:
        """(seconds to wait, lock file path) of one acquisition."""
        timeout = self.default_timeout if timeout is None else timeout
        if not (timeout >= 0 and math.isfinite(timeout)):
            raise ValueError(f"timeout must be a finite number of seconds >= 0, not {timeout!r}")
        return timeout, self.lock_path(path)


def _pauses():
    """Pauses between attempts: short at first (a writer usually holds a lock for milliseconds),
    doubling up to POLL, with jitter so that waiting writers do not retry in step."""
    pause = 0.001
    while True:
        yield pause * (0.5 + secrets.randbelow(1000) / 1000)
        pause = min(pause * 2, POLL)


def hold(protocol: LockProtocol | None, path: str | os.PathLike, timeout: float | None = None):
    """`protocol.acquire(path)`, or a no-op context when the format declares no lock."""
    return contextlib.nullcontext() if protocol is None else protocol.acquire(path, timeout)


def _held(lock: str, holder: str, waited: float) -> LockHeld:
    after = f" (waited {waited:.1f} s)" if waited else ""
    return LockHeld(f"{lock}: {holder}{after}", lock, holder)


# -- smart-tree RecordStore -------------------------------------------------------------------

@dataclass(frozen=True)
class FlockLock(LockProtocol):
    """LOCKS.md 1.2-1.3 and 1.6: open the side file O_RDWR|O_CREAT|O_NOFOLLOW|O_NONBLOCK, 0600,
    require a regular file, `flock(LOCK_EX|LOCK_NB)`; never write it, never delete it."""

    name: LockName
    default_timeout: float = 0.0

    def acquire(self, path, timeout=None) -> Held:
        wait, lock = self._begin(path, timeout)
        os.makedirs(os.path.dirname(lock) or ".", exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _held(lock, "the lock path is not a regular file", 0)
            deadline, pauses = time.monotonic() + wait, _pauses()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _held(lock, "another process holds the flock (the store is in use)", wait) from None
                    time.sleep(next(pauses))
        except BaseException:
            os.close(fd)
            raise
        return Held(lock, functools.partial(os.close, fd))


# -- shared by the two lock-file mechanisms ------------------------------------------------------

@contextlib.contextmanager
def _break_guard(lock: str):
    """Serialise the read-judge-unlink of a stale lock among memschema processes (flock on the
    directory), so two of them cannot both break one lock and delete each other's fresh one.
    Upstream does not take it; if the directory cannot be locked in time, go on without."""
    try:
        fd = os.open(os.path.dirname(lock) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + BREAK_GUARD_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.001)
            except OSError:
                break
        yield
    finally:
        os.close(fd)


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_dev, st.st_ino, st.st_mtime_ns


# -- AgenticMemory FileLock -----------------------------------------------------------------------

@dataclass(frozen=True)
class ExclusiveFileLock(LockProtocol):
    """LOCKS.md 2.2-2.4 and 2.9: `create_new` an empty side file; on EEXIST break it when its mtime
    is more than `stale_after` seconds old (no sleep, the attempt counts) or sleep `poll`; give up
    after `timeout / poll` attempts; unlink it on release (only if it is still the file we made)."""

    name: LockName
    stale_after: float = 60.0
    poll: float = 0.05
    default_timeout: float = 10.0

    def acquire(self, path, timeout=None) -> Held:
        wait, lock = self._begin(path, timeout)
        attempts = max(1, round(wait / self.poll))
        attempt = 0
        while True:
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            except FileExistsError:
                broke = self._break_if_stale(lock)   # a break consumes an attempt, without sleeping
                attempt += 1
                if attempt > attempts or (attempt == attempts and not broke):
                    raise _held(lock, f"lock file exists{self._age(lock)}", wait) from None
                if not broke:
                    time.sleep(self.poll)
                continue
            try:   # a fine-grained mtime tells our file from one recreated on the same inode
                os.utime(fd, ns=(time.time_ns(),) * 2)
                ours = _identity(os.fstat(fd))
            finally:
                os.close(fd)
            return Held(lock, functools.partial(self._release, lock, ours))

    def _break_if_stale(self, lock: str) -> bool:
        with _break_guard(lock):
            try:
                st = os.lstat(lock)
            except FileNotFoundError:
                return False            # vanished: upstream sleeps and retries
            if time.time_ns() - st.st_mtime_ns <= self.stale_after * 1e9:
                return False            # fresh, or an mtime in the future
            with contextlib.suppress(OSError):
                os.unlink(lock)
            return True

    @staticmethod
    def _age(lock: str) -> str:
        try:
            age = (time.time_ns() - os.lstat(lock).st_mtime_ns) / 1e9
        except OSError:
            return ""
        return f" (created {age:.1f} s ago)"

    @staticmethod
    def _release(lock: str, ours: tuple[int, int]) -> None:
        with _break_guard(lock), contextlib.suppress(OSError):
            if _identity(os.lstat(lock)) == ours:
                os.unlink(lock)


# -- RuVector WriterLock ------------------------------------------------------------------------

@dataclass(frozen=True)
class Owner:
    """What an owner record says: `valid` is False when its magic is wrong."""

    valid: bool
    pid: int
    host: str
    timestamp_ns: int
    writer_id: bytes


class OwnerRecord(Protocol):
    """The on-disk owner record of an `OwnerRecordLock`, declared by the format."""

    size: int
    writer_id_size: int

    def host(self) -> str: ...

    def record(self, pid: int, host: str, timestamp_ns: int, writer_id: bytes) -> bytes: ...

    def owner(self, raw: bytes) -> Owner | None: ...   # None: shorter than `size`


def pid_alive(pid: int) -> bool:
    """`kill(pid as pid_t, 0)` succeeds or fails with EPERM (Unix)."""
    signed = pid - (1 << 32) if pid >= 1 << 31 else pid
    try:
        os.kill(signed, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class OwnerRecordLock(LockProtocol):
    """LOCKS.md 3.4-3.6 and 3.9: publish the owner record atomically (temp file + hard link); on
    EEXIST apply the stale rules (short or wrong-magic record; same host, pid dead and older than
    `same_host_stale`; other host and older than `other_host_stale`), break it and try once more;
    release only a record that still holds our writer id."""

    name: LockName
    record: OwnerRecord
    same_host_stale: float = 30.0
    other_host_stale: float = 300.0
    default_timeout: float = 0.0

    def acquire(self, path, timeout=None) -> Held:
        wait, lock = self._begin(path, timeout)
        deadline, pauses = time.monotonic() + wait, _pauses()
        while True:
            writer_id = secrets.token_bytes(self.record.writer_id_size)
            raw = self.record.record(os.getpid(), self.record.host(), time.time_ns(), writer_id)
            holder = self._try(lock, raw)
            if holder is None:
                return Held(lock, functools.partial(self._release, lock, writer_id))
            if time.monotonic() >= deadline:
                raise _held(lock, holder, wait)
            time.sleep(next(pauses))

    def _try(self, lock: str, raw: bytes) -> str | None:
        """None when the lock is ours, else who holds it.  The record is published with
        `create_new` (written to a private file, then hard-linked into place): the lock appears
        complete or not at all, closing upstream's 0-byte create-then-write window."""
        try:
            create_new(lock, raw)
            return None
        except FileExistsError:
            pass                         # any other OSError (disk full, read-only) is the caller's: raised
        verdict = self._break_if_stale(lock)
        if verdict is not None:
            return verdict
        try:
            create_new(lock, raw)        # one more attempt, as upstream
            return None
        except OSError:
            return "another writer took the lock after the stale one was broken"

    def _read(self, lock: str) -> bytes:
        with open(lock, "rb") as fh:
            return fh.read(self.record.size + 1)

    def _break_if_stale(self, lock: str) -> str | None:
        """LOCKS.md 3.5 verbatim: None when the lock was broken (or vanished), else the holder."""
        with _break_guard(lock):
            try:
                raw = self._read(lock)
                if len(raw) < self.record.size:
                    time.sleep(POLL)     # a writer between create and write (upstream's window)
                    raw = self._read(lock)
            except FileNotFoundError:
                return None
            except OSError as exc:
                return f"cannot read the lock file: {exc.strerror or exc}"
            owner = self.record.owner(raw)
            if owner is not None and owner.valid:
                holder = self._holder(owner)
                if holder is not None:
                    return holder
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
            return None

    def _holder(self, owner: Owner) -> str | None:
        """Who holds a well-formed lock, or None when the rules say it is stale."""
        age = max(time.time_ns() - owner.timestamp_ns, 0) / 1e9
        since = f"locked by pid {owner.pid} on host {owner.host!r} {age:.1f} s ago"
        if owner.host == self.record.host():
            if pid_alive(owner.pid):
                return since + " (the process is alive)"
            return since if age <= self.same_host_stale else None
        return since if age <= self.other_host_stale else None

    def _release(self, lock: str, writer_id: bytes) -> None:
        with _break_guard(lock), contextlib.suppress(OSError):
            owner = self.record.owner(self._read(lock))
            if owner is not None and owner.writer_id == writer_id:
                os.unlink(lock)
