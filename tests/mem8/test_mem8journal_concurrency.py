"""Native MEM8 and T8R journals with several writers (LOCKS.md Part 1): writers serialise on the
RecordStore `flock` and lose nothing; a process holding the lock (the smart-tree daemon) makes
ours wait or refuse and never write; the lock file is never written nor deleted."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time

import pytest
from writers_support import TRIALS, Holder, run_together

import memschema
from memschema.errors import LockHeld
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native_store import open_store
from memschema.formats.mem8.t8r_store import open_journal
from memschema.locking import with_extension

KINDS = {"native": ("proxy_memory.m8", open_store, "open_store", "memschema.formats.mem8.native_store"),
         "t8r": ("file_index.t8", open_journal, "open_journal", "memschema.formats.mem8.t8r_store")}
PROCESSES, APPENDS = 4, 25

WRITER = """
import importlib
from memschema.formats.mem8.codecs import bincode
module, opener, path, tag, count = args
open_ = getattr(importlib.import_module(module), opener)

def write(round_):
    target = path.replace("ROUND", str(round_))
    for i in range(int(count)):
        doc = open_(target)
        doc.put(f"{tag}-{i}", bincode.encode_string(f"value {tag} {i}"))
        doc.commit(target, timeout=120)
"""

FLOCK_HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)        # what RecordStore::open does (File::try_lock)
"""


def _keys(path) -> list[str]:
    doc = memschema.load(path)
    return sorted(r.key for r in (doc.records if hasattr(doc, "records") else doc.frames))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_writers_lose_nothing(kind, tmp_path):
    """TRIALS rounds of 4 processes x 25 open/put/commit each, starting at once on a missing journal."""
    name, _, opener, module = KINDS[kind]
    pattern = tmp_path / f"ROUND-{name}"
    run_together(WRITER, [[module, opener, pattern, f"w{p}", APPENDS] for p in range(PROCESSES)], tmp_path, TRIALS)
    expected = sorted(f"w{p}-{i}" for p in range(PROCESSES) for i in range(APPENDS))
    for trial in range(TRIALS):
        path = tmp_path / f"{trial}-{name}"
        assert _keys(path) == expected, f"trial {trial}: {path} lost records"
        report = memschema.validate(path)
        assert report.ok and not report.warnings, str(report)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_two_processes_creating_the_same_new_journal_both_commit(kind, tmp_path):
    """The case that lost one commit in 20 of 20 runs: both records survive every trial."""
    name, _, opener, module = KINDS[kind]
    trials = 10 * TRIALS
    run_together(WRITER, [[module, opener, tmp_path / f"ROUND-{name}", tag, 1] for tag in ("a", "b")], tmp_path,
                 trials)
    for trial in range(trials):
        assert _keys(tmp_path / f"{trial}-{name}") == ["a-0", "b-0"], f"trial {trial}"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_held_flock_makes_our_writer_refuse_or_wait(kind, tmp_path):
    name, open_, _, _ = KINDS[kind]
    path = tmp_path / name
    first = open_(path)
    first.put("k0", bincode.encode_string("v0"))
    first.commit(path)
    before = path.read_bytes()
    lock = with_extension(path, "lock")
    with Holder(FLOCK_HOLDER, lock) as daemon:
        doc = open_(path)
        doc.put("k1", bincode.encode_string("v1"))
        with pytest.raises(LockHeld) as info:
            doc.commit(path)                       # upstream does not wait: neither do we by default
        assert info.value.lock == lock and "in use" in str(info.value)
        started = time.monotonic()
        with pytest.raises(LockHeld):
            doc.commit(path, timeout=0.3)
        assert time.monotonic() - started >= 0.3
        assert path.read_bytes() == before         # nothing written under the daemon's lock
        daemon.release()
        assert doc.commit(path)["bytes"] > 0
    assert _keys(path) == ["k0", "k1"]
    st = os.stat(lock)                             # never written, never deleted, 0600
    assert st.st_size == 0 and stat.S_IMODE(st.st_mode) == 0o600


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_bounded_wait_gets_the_lock_when_the_holder_lets_go(kind, tmp_path):
    name, open_, _, _ = KINDS[kind]
    path = tmp_path / name
    with Holder(FLOCK_HOLDER, with_extension(path, "lock")) as daemon:
        doc = open_(path)
        doc.put("k", bincode.encode_string("v"))
        timer = threading.Timer(0.5, daemon.release)
        timer.start()
        started = time.monotonic()
        doc.commit(path, timeout=30)
        assert time.monotonic() - started >= 0.4
        timer.join()
    assert _keys(path) == ["k"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_held_handle_keeps_the_lock_between_commits(kind, tmp_path):
    """`hold` = an upstream store handle: the daemon cannot open the store while we hold it."""
    name, open_, _, _ = KINDS[kind]
    path = tmp_path / name
    doc = open_(path)
    with doc.hold(path):
        for i in range(3):
            doc.put(f"k{i}", bincode.encode_string("v"))
            doc.commit(path)
        assert _daemon_can_lock(with_extension(path, "lock")) is False
    assert _daemon_can_lock(with_extension(path, "lock")) is True
    assert _keys(path) == ["k0", "k1", "k2"]


def _daemon_can_lock(lock) -> bool:
    """What an upstream RecordStore::open in another process would get."""
    probe = FLOCK_HOLDER.replace("fcntl.flock(", "try:\n    fcntl.flock(") + \
        "except BlockingIOError:\n    print('busy'); sys.exit(0)\nprint('free')\n"
    out = subprocess.run([sys.executable, "-c", probe, str(lock)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "free"


def test_save_of_a_journal_takes_the_lock(tmp_path):
    """An explicit rewrite (`save`) waits for / refuses the RecordStore lock too."""
    path = tmp_path / "recall.m8"
    doc = open_store(path)
    doc.put("k", bincode.encode_string("v"))
    doc.commit(path)
    with Holder(FLOCK_HOLDER, tmp_path / "recall.lock"):
        with pytest.raises(LockHeld):
            memschema.save(memschema.load(path), path)
