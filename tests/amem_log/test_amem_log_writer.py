"""Appending to immortal.log as `ImmortalLog::append` does — chained to the last block upstream
indexes — only while no other process has the file open, never after bytes upstream does not read;
empty V3 files are named by their file name."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

import memschema
from memschema.formats.amem_log.document import ImmortalLogDocument
from memschema.formats.amem_wal.writer import ServerMayBeWriting

WHEN = datetime(2026, 2, 25, 12, 0, 0, tzinfo=UTC)


def _path(tmp_path, n: int = 2):
    doc = ImmortalLogDocument.new()
    for i in range(n):
        doc.append("user_message", {"type": "text", "text": str(i)}, WHEN, i)
    path = tmp_path / "immortal.log"
    path.write_bytes(doc.build())
    return path


def test_append_to_continues_the_chain(tmp_path):
    path = _path(tmp_path)
    doc = memschema.load(path)
    last = doc.blocks()[-1]
    block = doc.append("decision", {"type": "decision", "decision": "go", "evidence_blocks": [last["hash"]],
                                    "confidence": 0.25})
    assert block["prev_hash"] == last["hash"] and block["sequence"] == 2
    before = path.read_bytes()
    doc.append_to(path)
    assert path.read_bytes().startswith(before)
    again = memschema.load(path)
    assert [b["sequence"] for b in again.blocks()] == [0, 1, 2]
    assert memschema.validate(path, strict=True).findings == []


def test_bad_content_is_refused():
    doc = ImmortalLogDocument.new()
    for block_type, content in (("nope", {"type": "text", "text": "x"}), ("custom", {"type": "nope"}),
                                ("custom", {"type": "text"}), ("custom", {"type": "text", "text": 1}),
                                ("custom", {"type": "text", "text": "x", "extra": 1})):
        with pytest.raises(memschema.FormatError) as exc:
            doc.append(block_type, content)
        assert exc.value.code == "amem_log.bad_block"


def test_append_refused_while_held_or_after_unread_bytes(tmp_path):
    path = _path(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", "import sys; f = open(sys.argv[1], 'r+b'); print('open', "
                             "flush=True); sys.stdin.read()", str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"open"
        doc = memschema.load(path)
        doc.append("custom", {"type": "text", "text": "x"})
        with pytest.raises(ServerMayBeWriting, match=str(proc.pid)):
            doc.append_to(path)
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    with open(path, "ab") as fh:
        fh.write(b"\x10\x00\x00\x00{")                           # a torn append
    torn = memschema.load(path)
    with pytest.raises(memschema.FormatError) as exc:
        torn.append("custom", {"type": "text", "text": "x"})
    assert exc.value.code == "amem_log.not_appendable"
    assert torn.drop_unread() == 5
    torn.append("custom", {"type": "text", "text": "x"})
    torn.save(path)
    assert [b["sequence"] for b in memschema.load(path).blocks()] == [0, 1, 2]
    assert memschema.validate(path, strict=True).findings == []


@pytest.mark.parametrize(("name", "variant"), [("immortal.log", "immortal_log"), ("memory.wal", "memory_wal")])
def test_empty_v3_files_are_named_by_their_name(tmp_path, name, variant):
    path = tmp_path / name
    path.touch()                                   # RecoveryManager::new creates memory.wal empty
    assert memschema.detect(path).id == f"amem_log/{variant}"
    assert memschema.validate(path, strict=True).findings == []
    assert memschema.dump(memschema.load(path)) == b""
    other = tmp_path / "other.log"
    other.touch()
    assert memschema.detect(other).format == "not_binary"
