"""`detect` names the side files of the three tools — made in a temporary directory with the names
and contents upstream gives them — and `load`/`validate` answer "side file of X; not a memory file"
(exit code 2), never "unknown"; copies that are whole memory files are named as what they are."""

from __future__ import annotations

import pytest

import memschema
from memschema import cli
from memschema.registry import get_format

# LOCKS.md §3.2: the lock record rvf-node 0.2.2 wrote (pid 27858, host "vm").
FLVR = bytes.fromhex("464c5652d26c0000766d") + bytes(0x48 - 10) + bytes.fromhex(
    "23b66336efbfed18a02a2b7cc0ce06702949803d7ac70ba6010000009cea256b")
UUID = "0b6f8a3e-5d1c-4f2a-9b7e-1c2d3e4f5a6b"


def _sample(fmt: str, name: str) -> bytes:
    return get_format(fmt).samples()[name]


SIDE_FILES = [
    ("proxy_memory.lock", b"", "mem8_lock", "smart-tree"),
    ("wave_memory.native.lock", b"", "mem8_lock", "wave_memory.native.m8"),
    ("brain.amem.lock", b"", "amem_lock", "brain.amem"),
    (".brain.amem.lock", b"", "amem_lock", "AgenticMemory"),
    ("data.rvf.lock", FLVR, "rvf_lock", "writer lock of data.rvf (FLVR"),
    ("genome.rvdna.lock", b"", "rvf_lock", "between create and write"),
    ("x.lock", b"4242\n", "v3_lock", "pid 4242"),
    ("data.rvf.idmap.json", b'{"idToLabel":{"a":1},"labelToId":{"1":"a"},"nextLabel":2}', "rvf_idmap", "data.rvf"),
    ("data.rvf.idmap.json", b"{not json", "rvf_idmap", "empty mappings"),
    (".recovery_complete", b"2026-02-25T12:00:00+00:00", "v3_recovery_marker", "AgenticMemory V3"),
    ("data.rvf.compact.tmp", b"", "rvf_compact_tmp", "data.rvf"),
    (f"proxy_memory.{UUID}.tmp", b"\x01\x02", "mem8_compact_tmp", "proxy_memory.m8"),
    ("brain.amem.corrupt.bak", b"AMEM\x05", "amem_corrupt_backup", "moved aside"),
]


@pytest.mark.parametrize(("name", "content", "kind", "says"), SIDE_FILES,
                         ids=[f"{s[0]}:{s[3][:12]}" for s in SIDE_FILES])
def test_side_files_are_named(tmp_path, name, content, kind, says):
    path = tmp_path / name
    path.write_bytes(content)
    found = memschema.detect(path)
    assert (found.format, found.variant) == ("side_file", kind) and says in found.description
    assert not found.is_memory_file
    report = memschema.validate(path)
    assert [f.code for f in report.findings] == ["not_memory_file"] and "side file of" in report.findings[0].message
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(path)
    assert exc.value.code == "not_memory_file" and "side file of" in str(exc.value)


COPIES = [
    ("brain.amem.corrupt.bak", ("amem", "brain_agentic.amem"), "moved aside as unreadable"),
    (".amem-backups/.brain.20260308123456.amem.bak", ("amem", "brain_agentic.amem"), "periodic backup"),
    (".amem-migrations/brain.v0.20260308123456.amem.checkpoint", ("amem", "brain_spec_v1.amem"), "migration"),
    ("data.rvf.compact.tmp", ("rvf", "sample_store.rvf"), "compaction temp file of data.rvf"),
    (f"file_index.{UUID}.tmp", ("t8r", "sample_journal.t8"), "compaction temp file of file_index.m8"),
]


@pytest.mark.parametrize(("name", "sample", "says"), COPIES, ids=[c[0] for c in COPIES])
def test_copies_of_memory_files_load_as_what_they_are(tmp_path, name, sample, says):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    data = _sample(*sample)
    path.write_bytes(data)
    found = memschema.detect(path)
    assert found.format == sample[0] and says in found.description
    assert found.variant == memschema.detect(data).variant
    assert memschema.dump(memschema.load(path)) == data
    assert memschema.validate(path).ok


def test_content_alone_names_the_rvf_lock_and_id_map():
    assert memschema.detect(FLVR).id == "side_file/rvf_lock"
    assert memschema.detect(b'{"idToLabel":{},"labelToId":{},"nextLabel":1}').id == "side_file/rvf_idmap"
    assert memschema.detect(b'{"other": 1}').id == "not_binary/json"


def test_names_alone_do_not_claim_other_files(tmp_path):
    for name, content in (("notes.lock", b"some text"), ("x.tmp", b""), ("memory.wal.bak", b"\x00" * 8),
                          ("brain.amem", b"")):
        path = tmp_path / name
        path.write_bytes(content)
        assert memschema.detect(path).format != "side_file", name


def test_cli_validate_and_detect_exit_2_with_the_side_file_named(tmp_path, capsys):
    path = tmp_path / "brain.amem.lock"
    path.touch()
    assert cli.main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert "side_file/amem_lock" in out and "side file of AgenticMemory's MCP server" in out
    assert cli.main(["detect", str(path)]) == 2
    assert "side_file/amem_lock" in capsys.readouterr().out
