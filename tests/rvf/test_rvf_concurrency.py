"""RVF writers (LOCKS.md Part 3): `RvfStore` holds rvf-runtime's `<path>.lock` (104-byte FLVR
record) around every write; N writers lose no vector; a lock held by rvf-node or by another
process makes ours refuse or wait and never write; stale locks are broken by exactly the rules
rvf-node applies (the same planted locks are put to both); release deletes only our own lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from writers_support import TRIALS, Holder, run_together

import memschema
from memschema.errors import LockHeld
from memschema.formats.rvf.lockfile import FlvrRecord, lock_record, rust_hostname
from memschema.formats.rvf.writer import RvfStore
from memschema.parsing import parse

PROCESSES, APPENDS = 4, 15
LOCK_SCRIPT = Path(__file__).resolve().parent / "node" / "rvf_lock.js"

WRITER = """
from memschema.formats.rvf.writer import RvfStore
path, first, count = args

def write(round_):
    store = RvfStore.open(path.replace("ROUND", str(round_)), timeout=120)
    for i in range(int(first), int(first) + int(count)):
        store.ingest([i], [[float(i), 0.5]])
"""

CREATOR = """
from memschema.formats.rvf.writer import RvfStore
(path,) = args

def write(round_):
    try:
        RvfStore.create(path.replace("ROUND", str(round_)), 2, timeout=60)
        print(round_, "created", flush=True)
    except FileExistsError:
        print(round_, "exists", flush=True)
"""

HOLDER = """
import sys
from memschema.formats.rvf.lockfile import WRITER_LOCK
held = WRITER_LOCK.acquire(sys.argv[1])
"""


def test_writers_lose_nothing(tmp_path):
    """TRIALS rounds of 4 processes x 15 open/ingest on one store, starting at once."""
    for trial in range(TRIALS):
        RvfStore.create(tmp_path / f"{trial}.rvf", 2)
    run_together(WRITER, [[tmp_path / "ROUND.rvf", 1000 * p, APPENDS] for p in range(PROCESSES)], tmp_path, TRIALS)
    expected = sorted(1000 * p + i for p in range(PROCESSES) for i in range(APPENDS))
    for trial in range(TRIALS):
        path = tmp_path / f"{trial}.rvf"
        doc = memschema.load(path)
        assert sorted(doc.ids.tolist()) == expected, f"trial {trial}: {path} lost vectors"
        assert doc.epoch == PROCESSES * APPENDS and memschema.validate(path).ok
        assert not os.path.exists(f"{path}.lock")


def test_two_processes_creating_one_store_one_wins_the_other_is_told(tmp_path):
    trials = 10 * TRIALS
    outs = run_together(CREATOR, [[tmp_path / "ROUND.rvf"]] * 2, tmp_path, trials)
    verdicts = [dict(line.split() for line in out.splitlines()) for out in outs]
    for trial in range(trials):
        assert sorted(v[str(trial)] for v in verdicts) == ["created", "exists"], f"trial {trial}"
        assert memschema.validate(tmp_path / f"{trial}.rvf").ok


def test_create_refuses_an_existing_store_unless_told_to_replace(tmp_path):
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2)
    store.ingest(list(range(1, 1001)), np.ones((1000, 2)))
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        RvfStore.create(path, 2)
    assert path.read_bytes() == before
    RvfStore.create(path, 3, replace=True)
    assert memschema.load(path).dimension == 3 and len(memschema.load(path).ids) == 0


def _plant(path, pid, host, age_s, *, magic_ok=True, crc_ok=True, size=None):
    raw = bytearray(FlvrRecord().record(pid, host, time.time_ns() - int(age_s * 1e9), os.urandom(16)))
    if not magic_ok:
        raw[0:4] = b"XXXX"
    if not crc_ok:
        raw[-1] ^= 0xFF
    Path(f"{path}.lock").write_bytes(bytes(raw[:size]))


def _dead_pid() -> int:
    with open("/proc/sys/kernel/pid_max") as fh:
        return int(fh.read()) + 1


def _rvf_node_opens(env, path) -> bool:
    node, environ = env
    out = subprocess.run([node, str(LOCK_SCRIPT), "try", str(path)], capture_output=True, text=True, timeout=60,
                         env=environ)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["ok"]


def _memschema_opens(path) -> bool:
    try:
        RvfStore.open(path).hold().close()
    except LockHeld:
        return False
    return True


LIVE = os.getpid()
MATRIX = {   # LOCKS.md 3.5, as verified against rvf-node 0.2.2: (planted lock, opens?)
    "dead pid, 60 s": (dict(pid=-1, age_s=60), True),
    "dead pid, 10 s": (dict(pid=-1, age_s=10), False),
    "dead pid, 31 s": (dict(pid=-1, age_s=31), True),
    "pid 1, 1 h": (dict(pid=1, age_s=3600), False),
    "live pid, 1 h": (dict(pid=LIVE, age_s=3600), False),
    "other host, 100 s": (dict(pid=-1, age_s=100, host="elsewhere"), False),
    "other host, 301 s, live pid": (dict(pid=LIVE, age_s=301, host="elsewhere"), True),
    "0 bytes": (dict(pid=LIVE, age_s=0, size=0), True),
    "103 bytes": (dict(pid=LIVE, age_s=0, size=103), True),
    "wrong magic, live pid": (dict(pid=LIVE, age_s=0, magic_ok=False), True),
    "bad CRC, live pid": (dict(pid=LIVE, age_s=0, crc_ok=False), False),
    "future timestamp, dead pid": (dict(pid=-1, age_s=-3600), False),
}


@pytest.mark.interop
@pytest.mark.parametrize("case", sorted(MATRIX))
def test_stale_rules_agree_with_rvf_node(case, tmp_path, rvf_node_env):
    planted, opens = MATRIX[case]
    args = dict(planted)
    args["pid"] = _dead_pid() if args["pid"] == -1 else args["pid"]
    args.setdefault("host", rust_hostname())
    path = tmp_path / "s.rvf"
    RvfStore.create(path, 2)
    _plant(path, **args)
    assert _rvf_node_opens(rvf_node_env, path) is opens, f"{case}: rvf-node"
    _plant(path, **args)
    assert _memschema_opens(path) is opens, f"{case}: memschema"
    assert os.path.exists(f"{path}.lock") is not opens     # a broken lock is gone after our release


@pytest.mark.interop
def test_a_lock_path_that_is_a_directory_is_held_for_both(tmp_path, rvf_node_env):
    path = tmp_path / "s.rvf"
    RvfStore.create(path, 2)
    os.mkdir(f"{path}.lock")
    assert not _rvf_node_opens(rvf_node_env, path) and not _memschema_opens(path)


def test_a_live_holder_blocks_writes_and_a_killed_one_goes_stale_after_30_s(tmp_path):
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2)
    before = path.read_bytes()
    with Holder(HOLDER, path) as other:
        with pytest.raises(LockHeld, match=f"pid {other.pid} on host"):
            store.ingest([1], [[1.0, 2.0]])
        assert path.read_bytes() == before
        other.release()                            # a clean release deletes its lock
    assert not os.path.exists(f"{path}.lock")
    store.ingest([1], [[1.0, 2.0]])
    with Holder(HOLDER, path) as crashed:
        crashed.kill()                             # kill -9: the record stays, its pid is dead
    with pytest.raises(LockHeld):
        store.ingest([2], [[3.0, 4.0]])            # dead, but not older than 30 s
    lock = Path(f"{path}.lock")
    record = parse(lock_record, lock.read_bytes())
    assert record.pid == crashed.pid
    lock.write_bytes(FlvrRecord().record(record.pid, rust_hostname(), time.time_ns() - 31 * 10**9,
                                         bytes(record.writer_id)))
    store.ingest([2], [[3.0, 4.0]])
    assert sorted(memschema.load(path).ids.tolist()) == [1, 2]


def test_a_bounded_wait_gets_the_lock_when_the_holder_lets_go(tmp_path):
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2, timeout=30)
    with Holder(HOLDER, path) as other:
        timer = threading.Timer(0.5, other.release)
        timer.start()
        started = time.monotonic()
        store.ingest([1], [[1.0, 2.0]])
        assert time.monotonic() - started >= 0.4
        timer.join()


@pytest.mark.interop
def test_rvf_node_holding_the_store_blocks_our_writer(tmp_path, rvf_node_env):
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2)
    store.ingest([1], [[1.0, 2.0]])
    node, env = rvf_node_env
    proc = subprocess.Popen([node, str(LOCK_SCRIPT), "hold", str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        info = json.loads(proc.stdout.readline())
        before = path.read_bytes()
        with pytest.raises(LockHeld, match=f"pid {info['pid']} on host"):
            store.ingest([2], [[3.0, 4.0]])
        with pytest.raises(LockHeld):
            RvfStore.create(path, 2, replace=True)
        with pytest.raises(LockHeld):
            store.delete([1])
        assert path.read_bytes() == before
        # rvf-node's own lock file, read through the declaration
        dump = subprocess.run([sys.executable, "-m", "memschema.cli", "dump", "--json", "--as", "rvf.lock_record",
                               f"{path}.lock"], capture_output=True, text=True, timeout=60)
        record = json.loads(dump.stdout)["lock_record"]
        assert record["pid"] == info["pid"] and record["magic_ok"] and record["crc_ok"]
        assert record["hostname_text"] == rust_hostname() and record["lock_version"] == 1
        proc.stdin.close()                          # rvf-node closes the store and deletes its lock
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    store.ingest([2], [[3.0, 4.0]])
    assert sorted(memschema.load(path).ids.tolist()) == [1, 2]


@pytest.mark.interop
def test_our_held_store_blocks_rvf_node_and_rvf_node_crash_blocks_us(tmp_path, rvf_node_env):
    path = tmp_path / "s.rvf"
    RvfStore.create(path, 2)
    with RvfStore.open(path) as store:              # held from open to close, as upstream
        store.ingest([1], [[1.0, 2.0]])
        assert not _rvf_node_opens(rvf_node_env, path)
    assert _rvf_node_opens(rvf_node_env, path)
    node, env = rvf_node_env
    proc = subprocess.Popen([node, str(LOCK_SCRIPT), "hold", str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    json.loads(proc.stdout.readline())
    proc.stdin.write("exit\n")                      # process.exit() without close(): the lock stays
    proc.stdin.flush()
    assert proc.wait(timeout=60) == 0
    with pytest.raises(LockHeld):
        RvfStore.open(path).ingest([2], [[3.0, 4.0]])
    assert sorted(memschema.load(path).ids.tolist()) == [1]
