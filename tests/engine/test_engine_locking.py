"""The engine's lock mechanisms and file publishing, independent of any format: Rust's
`with_extension` rule, the three mechanisms' acquire/wait/stale/release behaviour, creating a
file that must not exist, and mtimes that advance."""

from __future__ import annotations

import os
import time

import pytest

import memschema
from memschema.errors import FormatError, LockHeld, MemschemaError
from memschema.locking import ExclusiveFileLock, FlockLock, LockName, OwnerRecordLock, pid_alive, with_extension
from memschema.publish import FileStamp, advance_mtime, create_new


@pytest.mark.parametrize(("name", "extension", "expected"), [
    ("proxy_memory.m8", "lock", "proxy_memory.lock"),
    ("file_index.t8", "lock", "file_index.lock"),
    ("wave_memory.native.m8", "lock", "wave_memory.native.lock"),
    ("foo", "lock", "foo.lock"),
    (".m8", "lock", ".m8.lock"),                   # a leading dot does not start an extension
    ("brain.amem", "amem.lock", "brain.amem.lock"),
    (".brain.amem", "amem.lock", ".brain.amem.lock"),
    ("memory", "amem.lock", "memory.amem.lock"),
    ("memory.bin", "amem.lock", "memory.amem.lock"),
    ("foo.", "lock", "foo.lock"),                  # Rust: extension "" after the trailing dot
    ("..x", "lock", "..lock"),
])
def test_with_extension_is_rusts_rule(name, extension, expected):
    assert with_extension(f"/d/{name}", extension) == f"/d/{expected}"


def test_suffix_names_append_to_the_whole_path():
    assert LockName(suffix=".lock").of("/x/genome.rvdna") == "/x/genome.rvdna.lock"
    with pytest.raises(ValueError):
        with_extension("/x/..", "lock")


def test_lock_held_is_a_memschema_error_not_a_format_error():
    assert issubclass(LockHeld, MemschemaError) and not issubclass(LockHeld, FormatError)
    assert issubclass(FormatError, MemschemaError) and issubclass(FormatError, ValueError)
    assert memschema.LockHeld is LockHeld


def test_flock_is_exclusive_between_descriptors_and_released_on_release(tmp_path):
    lock = FlockLock(LockName(extension="lock"))
    held = lock.acquire(tmp_path / "s.m8")
    with pytest.raises(LockHeld):                   # a second open file description, same process
        lock.acquire(tmp_path / "s.m8")
    held.release()
    held.release()                                  # idempotent
    with lock.acquire(tmp_path / "s.m8"):
        pass
    assert os.path.getsize(tmp_path / "s.lock") == 0


def test_flock_refuses_a_lock_path_that_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "s.lock")                  # O_NONBLOCK: no hang on a FIFO either
    with pytest.raises(LockHeld, match="not a regular file"):
        FlockLock(LockName(extension="lock")).acquire(tmp_path / "s.m8")
    os.unlink(tmp_path / "s.lock")
    os.symlink(tmp_path / "elsewhere", tmp_path / "s.lock")
    with pytest.raises(OSError):                    # O_NOFOLLOW, as upstream
        FlockLock(LockName(extension="lock")).acquire(tmp_path / "s.m8")


def test_exclusive_lock_waits_polls_and_breaks_only_stale_files(tmp_path):
    lock = ExclusiveFileLock(LockName(extension="amem.lock"), stale_after=60.0, poll=0.05, default_timeout=10.0)
    path = tmp_path / "brain.amem"
    held = lock.acquire(path)
    started = time.monotonic()
    with pytest.raises(LockHeld, match="exists"):
        lock.acquire(path, timeout=0.2)
    assert 0.15 <= time.monotonic() - started < 5
    held.release()
    assert not os.path.exists(tmp_path / "brain.amem.lock")
    (tmp_path / "brain.amem.lock").touch()
    now = time.time()
    os.utime(tmp_path / "brain.amem.lock", (now - 59, now - 59))
    with pytest.raises(LockHeld):
        lock.acquire(path, timeout=0)
    os.utime(tmp_path / "brain.amem.lock", (now - 61, now - 61))
    lock.acquire(path, timeout=0).release()
    (tmp_path / "brain.amem.lock").touch()
    os.utime(tmp_path / "brain.amem.lock", (now + 3600, now + 3600))   # in the future: not stale
    with pytest.raises(LockHeld):
        lock.acquire(path, timeout=0)


def test_exclusive_lock_release_leaves_a_lock_somebody_else_made(tmp_path):
    lock = ExclusiveFileLock(LockName(extension="amem.lock"))
    held = lock.acquire(tmp_path / "b.amem")
    os.unlink(tmp_path / "b.amem.lock")            # broken by another writer after 60 s ...
    (tmp_path / "b.amem.lock").touch()             # ... which now holds its own
    held.release()
    assert os.path.exists(tmp_path / "b.amem.lock")


def test_timeouts_must_be_finite():
    with pytest.raises(ValueError):
        FlockLock(LockName(extension="lock")).acquire("/tmp/x.m8", timeout=float("inf"))


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert pid_alive(1)                             # EPERM or alive: alive
    assert not pid_alive(2**22 + 12345)             # above pid_max
    assert isinstance(OwnerRecordLock.__doc__, str)


def test_create_new_never_replaces_and_is_complete_or_absent(tmp_path):
    path = tmp_path / "new.bin"
    create_new(path, b"first")
    with pytest.raises(FileExistsError):
        create_new(path, b"second")
    assert path.read_bytes() == b"first"
    assert sorted(os.listdir(tmp_path)) == ["new.bin"]     # no temporary file left behind
    os.symlink(tmp_path / "target", tmp_path / "link")
    with pytest.raises(FileExistsError):                    # a dangling symlink is not followed
        create_new(tmp_path / "link", b"x")
    assert not os.path.exists(tmp_path / "target")


def test_advance_mtime_and_stamps(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"a")
    before = FileStamp.of(path)
    os.utime(path, ns=(before.mtime_ns, before.mtime_ns))
    advance_mtime(path, before.mtime_ns)
    after = FileStamp.of(path)
    assert after.mtime_ns > before.mtime_ns and after != before and after.is_of(str(path))
    assert FileStamp.maybe(tmp_path / "absent") is None
