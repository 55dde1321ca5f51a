"""Writing transport.wal without an upstream lock: appends only while no other process has the file
open, only to the bytes that were loaded, never after bytes upstream would cut off; rewrites are
atomic and refused the same way."""

from __future__ import annotations

import subprocess
import sys

import pytest

import memschema
from memschema.formats.amem_wal import writer
from memschema.formats.amem_wal.document import AmemWalDocument
from memschema.formats.amem_wal.writer import ServerMayBeWriting, holders
from memschema.source import FileChanged


def _wal(tmp_path, *messages: bytes):
    doc = AmemWalDocument.new(bytes(16), 1)
    for m in messages:
        doc.append(m, "inbound", 10)
    path = tmp_path / "transport.wal"
    path.write_bytes(doc.build())
    return path


@pytest.fixture
def holder():
    """A process that keeps a file open, as an MCP server keeps transport.wal open."""
    procs = []

    def start(path):
        proc = subprocess.Popen([sys.executable, "-c", "import sys; f = open(sys.argv[1], 'ab'); print('open', "
                                 "flush=True); sys.stdin.read()", str(path)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"open"
        procs.append(proc)
        return proc.pid
    yield start
    for proc in procs:
        proc.stdin.close()
        proc.wait(timeout=10)


def test_append_to_adds_whole_entries_with_the_next_sequence(tmp_path):
    path = _wal(tmp_path, b"a", b"b")
    doc = memschema.load(path)
    before = path.read_bytes()
    doc.append(b'{"id":3}', "outbound", 20)
    doc.append_to(path)
    after = path.read_bytes()
    assert after.startswith(before)
    reread = memschema.load(path)
    assert [e.sequence for e in reread.recovered()] == [0, 1, 2]
    assert reread.recovered()[-1].data == b'{"id":3}' and reread.recovered()[-1].direction == "outbound"
    assert memschema.validate(path, strict=True).ok and memschema.dump(reread) == after
    assert memschema.dump(doc) == after                         # the document now is the file


def test_append_refused_while_another_process_has_the_file_open(tmp_path, holder):
    path = _wal(tmp_path, b"a")
    pid = holder(path)
    assert holders(path) == [pid]
    doc = memschema.load(path)
    doc.append(b"b")
    before = path.read_bytes()
    with pytest.raises(ServerMayBeWriting, match=str(pid)):
        doc.append_to(path)
    with pytest.raises(ServerMayBeWriting):
        doc.save(path, assume_no_server=True)                  # a visible holder is never overridden
    assert path.read_bytes() == before


def test_cannot_tell_means_refuse_unless_the_caller_says_no_server_runs(tmp_path, monkeypatch):
    path = _wal(tmp_path, b"a")
    monkeypatch.setattr(writer, "PROC", tmp_path / "no-proc")
    assert holders(path) is None
    doc = memschema.load(path)
    doc.append(b"b")
    with pytest.raises(ServerMayBeWriting, match="cannot tell"):
        doc.append_to(path)
    doc.append_to(path, assume_no_server=True)
    assert len(memschema.load(path).recovered()) == 2


def test_append_refused_when_the_file_changed_or_has_a_torn_tail(tmp_path):
    path = _wal(tmp_path, b"a")
    doc = memschema.load(path.read_bytes())
    doc.append(b"b")
    with open(path, "ab") as fh:
        fh.write(b"\x05")                                      # someone appended meanwhile
    with pytest.raises(FileChanged):
        doc.append_to(path)
    torn = memschema.load(path)
    with pytest.raises(memschema.FormatError) as exc:
        torn.append(b"c")
    assert exc.value.code == "amem_wal.not_appendable" and exc.value.offset == len(path.read_bytes()) - 1
    assert torn.drop_unrecovered() == 1
    torn.append(b"c")
    with pytest.raises(memschema.FormatError):
        torn.append_to(path)                                   # dropping bytes needs a rewrite
    torn.save(path)
    assert [e.data for e in memschema.load(path).recovered()] == [b"a", b"c"]
    assert memschema.validate(path, strict=True).ok


def test_empty_message_and_unknown_direction_are_refused():
    doc = AmemWalDocument.new()
    with pytest.raises(memschema.FormatError):
        doc.append(b"")
    with pytest.raises(memschema.FormatError):
        doc.append(b"x", "sideways")


def test_after_several_writers_the_next_sequence_is_above_all(tmp_path):
    doc = AmemWalDocument.new(bytes(16), 1)
    for _ in range(3):
        doc.append(b"x")
    data = bytearray(doc.build())
    at = memschema.load(bytes(data)).offset_of("entries[2].sequence")
    data[at:at + 8] = bytes(8)                                 # a second process started over at 0
    multi = memschema.load(bytes(data))
    assert multi.recovery.next_sequence == 1                    # upstream: last + 1
    assert multi.next_sequence() == 2                           # memschema: above every sequence seen
