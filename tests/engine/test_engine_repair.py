"""`memschema repair` as a command: -o, --in-place with a backup under the writer lock, --json,
exit codes (0 the output validates, 1 errors remain, 2 nothing to salvage / no repair / lock
held), and the API it is built on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from writers_support import Holder

import memschema
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native_store import NativeDocument
from memschema.formats.mem8.sections_store import M8SectionsDocument
from memschema.formats.rvf.writer import RvfStore


def cli(*args):
    return subprocess.run([sys.executable, "-m", "memschema.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def _torn_journal(tmp_path):
    doc = NativeDocument.new()
    for i in range(3):
        doc.put(f"k{i}", bincode.encode_string("v" * 50))
    data = doc.build()
    path = tmp_path / "store.m8"
    path.write_bytes(data[:-100])
    return path, data


def test_repair_to_an_output_file(tmp_path):
    path, data = _torn_journal(tmp_path)
    out = cli("repair", path, "-o", tmp_path / "fixed.m8")
    assert out.returncode == 0, out.stderr
    assert "cut      mem8.native.torn_tail" in out.stdout and "OK (0 errors" in out.stdout
    assert (tmp_path / "fixed.m8").read_bytes() == data[:2 * 8192]
    assert path.read_bytes() == data[:-100]                  # the input is untouched
    report = json.loads(cli("repair", path, "-o", tmp_path / "f2.m8", "--json").stdout)
    assert (report["format"], report["variant"]) == ("mem8", "native") and report["memschema_output"] == 1
    assert report["kept"] == {"records": 2, "pairs": 2} and report["ok"]
    assert report["changes"] == [{"action": "cut", "code": "mem8.native.torn_tail", "path": "tail",
                                  "offset": 16384, "length": len(data) - 100 - 16384,
                                  "message": report["changes"][0]["message"]}]
    assert report["validation"]["ok"] and report["backup"] is None


def test_in_place_keeps_a_backup_and_takes_the_lock(tmp_path):
    path, data = _torn_journal(tmp_path)
    with Holder("import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
                "fcntl.flock(fd, fcntl.LOCK_EX)\n", tmp_path / "store.lock"):
        held = cli("repair", path, "--in-place")
        assert held.returncode == 2 and "in use" in held.stderr
        assert path.read_bytes() == data[:-100] and not (tmp_path / "store.m8.memschema-bak").exists()
    out = cli("repair", path, "--in-place")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "store.m8.memschema-bak").read_bytes() == data[:-100]
    assert path.read_bytes() == data[:2 * 8192]
    again = cli("repair", path, "--in-place")
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.lock", "store.m8", "store.m8.memschema-bak"]
    with open(path, "ab") as fh:
        fh.write(b"torn")
    assert cli("repair", path, "--in-place").returncode == 0
    assert (tmp_path / "store.m8.memschema-bak.1").read_bytes() == data[:2 * 8192] + b"torn"


def test_exit_1_when_errors_remain(tmp_path):
    store = RvfStore.create(tmp_path / "s.rvf", 2)
    for i in range(3):
        store.ingest([i], [[1.0, 2.0]])
    data = bytearray((tmp_path / "s.rvf").read_bytes())
    witness = [s for s in memschema.load(bytes(data)).segments if s.type_name == "witness"][1]
    data[witness.payload_offset + 3] ^= 0xFF      # dropped; the next witness's chain link then fails
    (tmp_path / "s.rvf").write_bytes(bytes(data))
    out = cli("repair", tmp_path / "s.rvf", "-o", tmp_path / "fixed.rvf")
    assert out.returncode == 1 and "rvf.witness_broken" in out.stdout
    assert sorted(memschema.load(tmp_path / "fixed.rvf").ids.tolist()) == [0, 1, 2]


def test_exit_2_for_no_repair_same_file_and_nothing_to_salvage(tmp_path):
    (tmp_path / "s.m8").write_bytes(M8SectionsDocument.new().build())
    out = cli("repair", tmp_path / "s.m8", "-o", tmp_path / "o.m8")
    assert out.returncode == 2 and "no repair for this format (m8sections/current)" in out.stderr
    path, _ = _torn_journal(tmp_path)
    same = cli("repair", path, "-o", path)
    assert same.returncode == 2 and "--in-place" in same.stderr
    (tmp_path / "text.m8").write_text("hello")
    assert cli("repair", tmp_path / "text.m8", "-o", tmp_path / "x").returncode == 2
    assert not (tmp_path / "o.m8").exists() and not (tmp_path / "x").exists()


def test_api_repair_in_place_returns_the_backup(tmp_path):
    path, data = _torn_journal(tmp_path)
    result, backup = memschema.repair_in_place(path)
    assert backup == f"{path}.memschema-bak" and result.ok and path.read_bytes() == result.data
    with pytest.raises(memschema.FormatError):
        memschema.repair(b"\0" * 10)
