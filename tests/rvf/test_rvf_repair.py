"""`repair` of RVF stores: a store torn anywhere keeps every committed vector (the state of the
last manifest wholly before the tear), bytes left in the middle by a crash are dropped and the
directories moved, a complete manifest that does not hash is rebuilt over the segments it
committed; the results validate, reopen for writing in memschema, and open in rvf-node with
every committed vector (interop)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import memschema
from memschema.formats.rvf.writer import RvfStore

NODE = Path(__file__).resolve().parent / "node"


def vec(id_, dim):
    return [id_ + j * 0.125 for j in range(dim)]


def _committed(data: bytes) -> list[int]:
    """Live ids of the last manifest that ends at or before len(data) (a prefix ending after a
    manifest is a store in its own right)."""
    doc = memschema.load(data)
    ends = [s.end for s in doc.segments if s.type_name == "manifest"]
    return sorted(memschema.load(data[:max(ends)]).ids.tolist())


def _our_store(path: Path) -> bytes:
    store = RvfStore.create(path, 4, metric="l2")
    for k in range(4):
        ids = list(range(10 * k + 1, 10 * k + 11))
        store.ingest(ids, [vec(i, 4) for i in ids])
    store.delete([3, 14])
    store.ingest([99], [vec(99, 4)])
    return path.read_bytes()


def _cuts(data: bytes) -> list[int]:
    """Tear points: around every segment boundary, inside every header and every payload."""
    out = set()
    for s in memschema.load(data).segments:
        out |= {s.offset + 1, s.offset + 30, s.payload_offset + s.payload_length // 2, s.end - 1, s.end}
    return sorted(c for c in out if 0 < c <= len(data))


def test_a_store_torn_anywhere_keeps_every_committed_vector(tmp_path):
    data = _our_store(tmp_path / "s.rvf")
    cuts = _cuts(data)
    assert len(cuts) > 50
    for cut in cuts:
        torn = data[:cut]
        try:
            expected = _committed(torn)
        except (ValueError, memschema.FormatError):
            continue                                  # before the first manifest: nothing committed
        result = memschema.repair(torn)
        doc = memschema.load(result.data)
        assert sorted(doc.ids.tolist()) == expected, f"cut at {cut}"
        assert result.ok, f"cut at {cut}: {result.report}"
        assert result.data == torn[:len(result.data)], f"cut at {cut}: not a prefix"
        assert bool(result.changes) == (result.data != torn) and all(c.offset <= cut for c in result.changes)


def test_nothing_committed_is_said(tmp_path):
    data = _our_store(tmp_path / "s.rvf")
    first = memschema.load(data).segments[0]
    with pytest.raises(memschema.FormatError) as info:
        memschema.repair(data[:first.end - 1], format="rvf")
    assert info.value.code == "rvf.no_manifest"


def test_a_complete_manifest_that_does_not_hash_is_rebuilt_over_its_segments(tmp_path):
    data = bytearray(_our_store(tmp_path / "s.rvf"))
    full = sorted(memschema.load(bytes(data)).ids.tolist())
    last = memschema.load(bytes(data)).segments[-1]
    data[last.payload_offset + 1] ^= 0x40             # epoch byte: the payload no longer hashes
    result = memschema.repair(bytes(data))
    assert result.ok, str(result.report)
    assert sorted(memschema.load(result.data).ids.tolist()) == full
    assert [c.action.value for c in result.changes][-1] == "rebuilt"
    assert memschema.load(result.data).epoch == memschema.load(bytes(data[:last.offset])).epoch + 1


def test_our_open_accepts_a_torn_store_and_repair_output(tmp_path):
    data = _our_store(tmp_path / "s.rvf")
    torn = tmp_path / "torn.rvf"
    torn.write_bytes(data[:-40])
    store = RvfStore.open(torn)                       # a torn append after the manifest: accepted
    assert store.ingest([500], [vec(500, 4)])["torn_tail_cut"] > 0
    assert 500 in memschema.load(torn).ids.tolist() and memschema.validate(torn).ok
    fixed = tmp_path / "fixed.rvf"
    fixed.write_bytes(memschema.repair(data[:-40]).data)
    RvfStore.open(fixed).ingest([501], [vec(501, 4)])
    assert memschema.validate(fixed).ok


KILLED_WRITER = """
import sys
import numpy as np
from memschema.formats.rvf.writer import RvfStore
path, batch = sys.argv[1], int(sys.argv[2])
store = RvfStore.create(path, 32)
for k in range(10**6):
    ids = np.arange(k * batch + 1, (k + 1) * batch + 1)
    store.ingest(ids, np.repeat(ids[:, None], 32, axis=1).astype(np.float32))
    print("committed", k, flush=True)
"""


def _kill_during(argv, env=None, seconds=1.5) -> list[int]:
    """Run a writer, kill -9 it mid-way, return the batches it acknowledged."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    return [int(line.split()[1]) for line in out.splitlines() if line.startswith("committed")]


def test_kill_9_during_our_ingest_then_repair_and_reopen(tmp_path):
    rng = random.Random(7)
    for trial in range(3):
        path = tmp_path / f"k{trial}.rvf"
        acked = _kill_during([sys.executable, "-c", KILLED_WRITER, str(path), "20000"],
                             seconds=rng.uniform(1.5, 3.0))
        assert acked, "the writer acknowledged nothing before the kill"
        data = path.read_bytes()
        result = memschema.repair(data, format="rvf")
        assert result.ok, str(result.report)
        ids = set(memschema.load(result.data).ids.tolist())
        assert set(range(1, (max(acked) + 1) * 20000 + 1)) <= ids       # every acknowledged batch
        fixed = tmp_path / f"fixed{trial}.rvf"
        fixed.write_bytes(result.data)
        RvfStore.open(fixed).ingest([10**9], [np.zeros(32)])           # our own open accepts it
        lock = Path(f"{path}.lock")                                     # the killed writer's lock, if any
        if lock.exists():
            from memschema.formats.rvf.lockfile import FlvrRecord, lock_record
            from memschema.parsing import parse
            old = parse(lock_record, lock.read_bytes())
            lock.write_bytes(FlvrRecord().record(old.pid, "vm-elsewhere", time.time_ns() - 301 * 10**9,
                                                 bytes(old.writer_id)))  # stale by the other-host rule
        _, backup = memschema.repair_in_place(path)
        assert backup == (f"{path}.memschema-bak" if result.changes else None)
        assert memschema.validate(path).ok and path.read_bytes() == result.data
        if backup:
            assert Path(backup).read_bytes() == data


# -- rvf-node interop ---------------------------------------------------------------------------

def _node(env, script, *args, timeout=120):
    node, environ = env
    proc = subprocess.run([node, str(NODE / script), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=environ)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _rvf_node_sees(rvf_node, path, ids: list[int], dim: int):
    """rvf-node opens `path` and finds every id of `ids`, and no other vector."""
    report = rvf_node([{"op": "openReadonly", "path": str(path)}])[0]["result"]
    assert report["status"]["totalVectors"] == len(ids), path
    if ids:
        hits = rvf_node([{"op": "openReadonly", "path": str(path)},
                         {"op": "query", "vectors": [vec(i, dim) for i in ids], "k": 1}])[1]["result"]
        assert [h[0]["id"] for h in hits] == ids


@pytest.mark.interop
def test_rvf_node_store_torn_anywhere_repairs_and_reopens_in_rvf_node(rvf_node, tmp_path):
    path = tmp_path / "node.rvf"
    rvf_node([{"op": "create", "path": str(path), "dim": 3},
              {"op": "ingest", "ids": list(range(1, 9))},
              {"op": "ingest", "ids": list(range(9, 17))},
              {"op": "delete", "ids": [2, 10]},
              {"op": "ingest", "ids": list(range(17, 25))},
              {"op": "close"}])
    data = path.read_bytes()
    cuts = _cuts(data)
    checked = 0
    for cut in cuts[::3] + [len(data) - 1]:
        torn = data[:cut]
        try:
            expected = _committed(torn)
        except (ValueError, memschema.FormatError):
            continue
        fixed = tmp_path / f"fixed-{cut}.rvf"
        result = memschema.repair(torn)
        assert result.ok, f"cut {cut}: {result.report}"
        fixed.write_bytes(result.data)
        _rvf_node_sees(rvf_node, fixed, expected, 3)
        checked += 1
    assert checked >= 10
    reopened = rvf_node([{"op": "open", "path": str(fixed)}, {"op": "ingest", "ids": [100]}, {"op": "close"},
                         {"op": "openReadonly", "path": str(fixed)}])
    assert reopened[-1]["result"]["status"]["totalVectors"] == len(expected) + 1


@pytest.mark.interop
def test_bytes_rvf_node_left_in_the_middle_are_dropped_and_directories_moved(rvf_node, tmp_path):
    """LOCKS.md 3.7: rvf-node appends after a torn tail, leaving it between complete segments;
    memschema's own validation rejects that file, repair makes it clean with every vector."""
    path = tmp_path / "mid.rvf"
    rvf_node([{"op": "create", "path": str(path), "dim": 3}, {"op": "ingest", "ids": [1, 2, 3]}, {"op": "close"}])
    partial = (tmp_path / "mid.rvf").read_bytes()
    donor = tmp_path / "donor.rvf"
    rvf_node([{"op": "create", "path": str(donor), "dim": 3}, {"op": "ingest", "ids": [7, 8]}, {"op": "close"}])
    vec_seg = next(s for s in memschema.load(donor).segments if s.type_name == "vec")
    with open(path, "ab") as fh:
        fh.write(donor.read_bytes()[vec_seg.offset:vec_seg.offset + 74])   # a torn VEC append
    rvf_node([{"op": "open", "path": str(path)}, {"op": "ingest", "ids": [4, 5]}, {"op": "close"}])
    assert not memschema.validate(path).ok
    result = memschema.repair(path)
    assert result.ok, str(result.report)
    assert {c.action.value for c in result.changes} == {"dropped", "rebuilt"}
    assert [c.length for c in result.changes if c.action.value == "dropped"] == [74]
    assert sorted(memschema.load(result.data).ids.tolist()) == [1, 2, 3, 4, 5]
    assert result.data[:len(partial)] == partial
    fixed = tmp_path / "fixed.rvf"
    fixed.write_bytes(result.data)
    _rvf_node_sees(rvf_node, fixed, [1, 2, 3, 4, 5], 3)
    _rvf_node_sees(rvf_node, path, [1, 2, 3, 4, 5], 3)     # rvf-node read it before too


@pytest.mark.interop
def test_kill_9_during_rvf_node_ingest_then_repair(rvf_node, rvf_node_env, tmp_path):
    node, env = rvf_node_env
    rng = random.Random(11)
    for trial in range(3):
        path = tmp_path / f"n{trial}.rvf"
        acked = _kill_during([node, str(NODE / "rvf_ingest_loop.js"), str(path), "16", "50"], env,
                             seconds=rng.uniform(0.8, 1.5))   # rvf-node's own open/query get slow on big stores
        assert acked
        assert os.path.exists(f"{path}.lock")          # the killed process left its lock; repair -o needs none
        result = memschema.repair(path)
        assert result.ok, str(result.report)
        ids = memschema.load(result.data).ids
        assert set(range(1, (max(acked) + 1) * 50 + 1)) <= set(ids.tolist())
        fixed = tmp_path / f"fixed{trial}.rvf"
        fixed.write_bytes(result.data)
        report = rvf_node([{"op": "openReadonly", "path": str(fixed)}])[0]["result"]
        assert report["status"]["totalVectors"] == len(ids)
        sample = sorted(rng.sample(ids.tolist(), 20))
        hits = rvf_node([{"op": "openReadonly", "path": str(fixed)},
                         {"op": "query", "vectors": [vec(i, 16) for i in sample], "k": 1}])[1]["result"]
        assert [h[0]["id"] for h in hits] == sample
        assert json.loads(json.dumps(report))["status"]["fileSize"] == len(result.data)
