"""`.amem` writers (LOCKS.md Part 2): `update` and `save` hold the MCP server's O_EXCL save lock,
re-read the brain under it and rename a new file over it with a later mtime; N writers lose no
node; a server's lock makes ours wait (50 ms polls, ~10 s) or refuse; stale locks (mtime > 60 s)
are broken and nothing else is."""

from __future__ import annotations

import os
import threading
import time

import pytest
from writers_support import TRIALS, run_together

import memschema
from memschema.errors import LockHeld
from memschema.formats.amem.model import Model, Node
from memschema.formats.amem.update import update
from memschema.formats.amem.writer import write_agentic, write_spec
from memschema.source import FileChanged

PROCESSES, APPENDS = 4, 10

WRITER = """
from memschema.formats.amem.model import Node
from memschema.formats.amem.update import update
path, tag, count, layout = args

def add(model, text):
    ids = model.node_ids()
    model.nodes.append(Node(text, id=max(ids, default=-1) + 1, created_at=len(ids)))

def write(round_):
    target = path.replace("ROUND", str(round_))
    for i in range(int(count)):
        update(target, lambda m: add(m, f"{tag}-{i}"), layout=layout, dimension=4, timeout=120)
"""


def _contents(path) -> list[str]:
    doc = memschema.load(path)
    return sorted(doc.content(i) for i in range(doc.node_count))


@pytest.mark.parametrize("layout", ["agentic-memory", "spec-v1"])
def test_writers_lose_nothing(layout, tmp_path):
    """TRIALS rounds of 4 processes x 10 locked read-modify-writes, starting at once on a missing brain."""
    run_together(WRITER, [[tmp_path / "ROUND.amem", f"w{p}", APPENDS, layout] for p in range(PROCESSES)], tmp_path,
                 TRIALS)
    expected = sorted(f"w{p}-{i}" for p in range(PROCESSES) for i in range(APPENDS))
    for trial in range(TRIALS):
        path = tmp_path / f"{trial}.amem"
        assert _contents(path) == expected, f"trial {trial}: {path} lost nodes"
        assert memschema.detect(path).variant == layout and memschema.validate(path).ok
        assert not os.path.exists(tmp_path / f"{trial}.amem.lock")


def _brain(path, n=2, layout="agentic-memory"):
    model = Model(dimension=3, nodes=[Node(f"node {i}", id=i, created_at=i) for i in range(n)])
    path.write_bytes((write_agentic if layout == "agentic-memory" else write_spec)(model)[0])


def test_the_lock_is_held_during_the_write_and_removed_after(tmp_path):
    path = tmp_path / ".brain.amem"
    _brain(path)
    seen = []

    def change(model):
        lock = tmp_path / ".brain.amem.lock"
        seen.append((lock.exists(), lock.stat().st_size))
        model.nodes.append(Node("third", id=2))
    before = os.stat(path)
    update(path, change)
    assert seen == [(True, 0)] and not (tmp_path / ".brain.amem.lock").exists()
    after = os.stat(path)
    assert after.st_ino != before.st_ino and after.st_mtime_ns > before.st_mtime_ns   # renamed, newer
    assert _contents(path) == ["node 0", "node 1", "third"]


def test_a_server_holding_the_lock_makes_us_wait_or_refuse(tmp_path):
    path = tmp_path / "brain.amem"
    _brain(path)
    before = path.read_bytes()
    lock = tmp_path / "brain.amem.lock"
    lock.touch()                                   # a server in the middle of its save()
    started = time.monotonic()
    with pytest.raises(LockHeld) as info:
        update(path, lambda m: m.nodes.append(Node("x", id=9)), timeout=0.3)
    assert time.monotonic() - started >= 0.25 and info.value.lock == str(lock)
    with pytest.raises(LockHeld):
        memschema.save(memschema.load(path), path, timeout=0)
    assert path.read_bytes() == before and lock.exists()      # not written, the server's lock kept
    threading.Timer(0.4, lock.unlink).start()      # the server's save ends
    update(path, lambda m: m.nodes.append(Node("x", id=9)))   # default: polls up to ~10 s
    assert _contents(path) == ["node 0", "node 1", "x"] and not lock.exists()


@pytest.mark.parametrize(("age", "broken"), [(61, True), (59, False), (-3600, False)])
def test_stale_locks_are_broken_by_mtime_only(tmp_path, age, broken):
    path = tmp_path / "brain.amem"
    _brain(path)
    lock = tmp_path / "brain.amem.lock"
    lock.touch()
    now = time.time()
    os.utime(lock, (now - age, now - age))         # a crashed server's lock, or a future mtime
    if broken:
        update(path, lambda m: m.nodes.append(Node("y", id=5)), timeout=0)
        assert "y" in _contents(path) and not lock.exists()
    else:
        with pytest.raises(LockHeld):
            update(path, lambda m: m.nodes.append(Node("y", id=5)), timeout=0.1)
        assert lock.exists()


def test_save_refuses_a_brain_that_changed_since_it_was_loaded(tmp_path):
    path = tmp_path / "brain.amem"
    _brain(path)
    doc = memschema.load(path)
    update(path, lambda m: m.nodes.append(Node("by another writer", id=7)))
    with pytest.raises(FileChanged):
        memschema.save(doc, path)                  # would drop the other writer's node
    assert "by another writer" in _contents(path)
    fresh = memschema.load(path)
    old = os.stat(path).st_mtime_ns
    memschema.save(fresh, path)
    assert os.stat(path).st_mtime_ns > old and path.read_bytes() == fresh.build()


def test_creating_a_brain_never_replaces_one(tmp_path, monkeypatch):
    """`update` on a missing file creates it with create_new: a brain that appears meanwhile (a
    writer that takes no lock, like the amem CLI) is not overwritten."""
    import memschema.formats.amem.update as update_mod
    path = tmp_path / "brain.amem"
    real = update_mod.create_new

    def late(p, data):
        _brain(path, 3)
        return real(p, data)
    monkeypatch.setattr(update_mod, "create_new", late)
    with pytest.raises(FileExistsError):
        update(path, lambda m: m.nodes.append(Node("mine")))
    assert _contents(path) == ["node 0", "node 1", "node 2"]
