"""Engine: a file that shrinks while memschema reads it through mmap gives `file_changed`, never
SIGBUS (memschema.guard).  Every case runs in a child process, so a regression kills the child
(reported as its signal), not the test run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import memschema
from memschema import guard
from memschema.formats.amem.model import Model, Node
from memschema.formats.amem.writer import write_agentic
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native_store import NativeDocument
from memschema.formats.mem8.seed_store import SeedDocument
from memschema.formats.mem8.t8r_store import T8RDocument
from memschema.formats.rvf.writer import RvfStore

pytestmark = pytest.mark.skipif(not guard.AVAILABLE, reason="memschema._sigbus was not built")

# In the child: map every file (threshold 0), and cut the file to `keep` bytes (a page boundary)
# right after detection, so the decoder then reads whole pages past the new end.
CHILD = r"""
import json, os, sys
import memschema
from memschema import api, guard, source
path, keep, call = sys.argv[1], int(sys.argv[2]), sys.argv[3]
source.MAP_THRESHOLD = 0
if os.environ.get("NO_GUARD"):
    guard.AVAILABLE = False
    guard.UNGUARDED_READ_LIMIT = int(os.environ["NO_GUARD"])
if os.environ.get("FAULTHANDLER"):
    import faulthandler
    faulthandler.enable()
detect = api._detect_data
def cut_after_detection(data, name=""):
    found = detect(data, name)
    os.truncate(path, keep)
    return found
api._detect_data = cut_after_detection
out = {}
if call == "validate":
    report = memschema.validate(path)
    out = {"codes": sorted(report.codes()), "first": report.findings[0].code if report.findings else None,
           "message": report.findings[0].message if report.findings else ""}
else:
    try:
        doc = memschema.load(path)
        memschema.dump(doc)
        out = {"loaded": True}
    except memschema.FormatError as exc:
        out = {"error": exc.code, "message": str(exc)}
print(json.dumps(out))
"""


def _child(path: Path, keep: int, call: str = "validate", **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(path), str(keep), call], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def _seed() -> bytes:
    doc = SeedDocument.new()
    for i in range(40):
        doc.append_block(b"memory %d " % i * 50, 0.5, timestamp=i)
    return doc.build()


def _native() -> bytes:
    doc = NativeDocument.new()
    for i in range(20):
        doc.put(f"k{i}", bincode.encode_bytes(os.urandom(6000)))
    return doc.build()


def _t8r() -> bytes:
    doc = T8RDocument.new()
    for i in range(40):
        doc.put(f"k{i}", bincode.encode_bytes(os.urandom(3000)))
    return doc.build()


def _amem() -> bytes:
    nodes = [Node(content=os.urandom(3000).hex(), created_at=i, id=i) for i in range(30)]
    return write_agentic(Model(dimension=16, nodes=nodes))[0]


def _rvf(tmp_path: Path) -> bytes:
    store = RvfStore.create(tmp_path / "made.rvf", 16)
    for b in range(4):
        store.ingest(np.arange(b * 500, (b + 1) * 500), np.ones((500, 16), np.float32))
    return (tmp_path / "made.rvf").read_bytes()


@pytest.mark.parametrize("kind", ["seed", "native", "t8r", "amem", "rvf"])
@pytest.mark.parametrize("call", ["validate", "load"])
def test_a_file_cut_while_it_is_read_gives_file_changed(tmp_path, kind, call):
    data = {"seed": _seed, "native": _native, "t8r": _t8r, "amem": _amem}[kind]() if kind != "rvf" else _rvf(tmp_path)
    path = tmp_path / f"f.{kind}"
    path.write_bytes(data)
    assert memschema.validate(data).ok
    got = _child(path, 4096, call)
    assert got.returncode == 0, f"{kind}: child died with {got.returncode}: {got.stderr[-2000:]}"
    out = json.loads(got.stdout)
    if call == "validate":      # the decoder read whole pages past the end: the guard caught them
        assert out["first"] == "file_changed" and "page(s) past its new end" in out["message"], out
    else:
        assert out.get("error") == "file_changed", out


def test_faulthandler_does_not_see_the_faults_we_catch(tmp_path):
    path = tmp_path / "f.t8"
    path.write_bytes(_t8r())
    got = _child(path, 4096, FAULTHANDLER="1")
    assert got.returncode == 0 and "Fatal Python error" not in got.stderr, got.stderr[-2000:]
    assert json.loads(got.stdout)["first"] == "file_changed"


def test_without_the_extension_files_are_read_not_mapped(tmp_path):
    """The fallback: a file below UNGUARDED_READ_LIMIT is a private copy; cutting it changes nothing."""
    path = tmp_path / "f.t8"
    path.write_bytes(_t8r())
    got = _child(path, 4096, NO_GUARD=str(1 << 30))
    assert got.returncode == 0, got.stderr[-2000:]
    assert json.loads(got.stdout)["codes"] == []


def test_without_the_extension_a_mapped_file_is_the_documented_residual_risk(tmp_path):
    """Above UNGUARDED_READ_LIMIT and without the extension the mapping is unguarded: SIGBUS, as
    memschema/guard.py documents.  (This is why the extension exists.)"""
    path = tmp_path / "f.t8"
    path.write_bytes(_t8r())
    got = _child(path, 4096, NO_GUARD="0")
    assert got.returncode == -signal.SIGBUS


def test_faults_outside_our_mappings_are_not_hidden(tmp_path):
    path = tmp_path / "other.bin"
    path.write_bytes(bytes(100_000))
    code = (f"import mmap, os, memschema.guard as g; g.map_file(os.open({str(path)!r}, os.O_RDONLY), 100000, 'x')\n"
            f"f = open({str(path)!r}, 'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n"
            f"os.truncate({str(path)!r}, 10); print(m[90000])")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert got.returncode == -signal.SIGBUS


def _mapped_by(pid: int, path: Path) -> bool:
    try:
        return str(path) in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_a_large_store_truncated_by_another_process_during_validate(tmp_path):
    """The table row of issue 10: a few hundred MB RVF store cut by another process while
    `memschema validate` runs; before, SIGBUS killed it 4 runs of 4."""
    made = tmp_path / "made.rvf"
    store = RvfStore.create(made, 128)
    batch = np.random.default_rng(1).standard_normal((100_000, 128), dtype=np.float32)
    for b in range(4):
        store.ingest(np.arange(b * 100_000, (b + 1) * 100_000), batch)
    assert made.stat().st_size > 200_000_000
    path = tmp_path / "big.rvf"
    outcomes = []
    for _ in range(3):                       # until one cut lands while the file is mapped
        shutil.copyfile(made, path)
        proc = subprocess.Popen([sys.executable, "-m", "memschema.cli", "validate", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not _mapped_by(proc.pid, path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        cut_while_mapped = proc.poll() is None and _mapped_by(proc.pid, path)
        os.truncate(path, 1 << 20)
        out, err = proc.communicate(timeout=120)
        outcomes.append((cut_while_mapped, proc.returncode, out[-500:], err[-500:]))
        assert proc.returncode in (0, 1, 2), outcomes[-1]          # never a signal
        if cut_while_mapped:
            assert "file_changed" in out, outcomes[-1]
            break
    assert any(o[0] for o in outcomes), outcomes
