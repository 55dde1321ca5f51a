"""Every MWAL finding code on bytes, with its severity, field path and absolute offset (AMEM-WAL.md
§1.11 under the project's severity policy)."""

from __future__ import annotations

import struct

import pytest

import memschema
from memschema.formats.amem_wal.declarations import MAX_ENTRY_BYTES
from memschema.formats.amem_wal.document import AmemWalDocument

SESSION = bytes(range(1, 17))


def _file(*messages: bytes) -> tuple[bytes, AmemWalDocument]:
    doc = AmemWalDocument.new(SESSION, 1700000000)
    for i, m in enumerate(messages):
        doc.append(m, ("inbound", "outbound")[i % 2], 1700000000000000000 + i)
    data = doc.build()
    return data, memschema.load(data)


def _put(data: bytes, at: int, fmt: str, value) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


def _findings(data: bytes, strict: bool = False) -> list[tuple]:
    return [(f.severity.value, f.code, f.path, f.offset) for f in memschema.validate(data, strict=strict).findings]


def test_crc_mismatch_stops_upstream_and_cuts_the_rest():
    data, doc = _file(b"one", b"two", b"three")
    at = doc.offset_of("entries[1].data")
    bad = _put(data, at, "B", data[at] ^ 1)
    crc_at = doc.offset_of("entries[1].crc32")
    assert _findings(bad) == [("error", "amem_wal.crc_mismatch", "entries[1].crc32", crc_at)]
    loaded = memschema.load(bad)
    assert loaded.recovery.accepted == 1 and loaded.recovery.truncate_to == doc.parsed.placed["entries"].offsets[1]
    assert "1 more entries after it" in memschema.validate(bad).findings[0].message
    assert memschema.dump(loaded) == bad and len(loaded.entries) == 3   # every entry still decoded


def test_every_rejected_entry_is_an_error():
    data, doc = _file(b"one", b"two", b"three")
    bad = _put(data, doc.offset_of("entries[0].direction"), "B", 7)
    bad = _put(bad, doc.offset_of("entries[2].data"), "B", 0)
    assert _findings(bad) == [
        ("error", "amem_wal.direction", "entries[0].direction", doc.offset_of("entries[0].direction")),
        ("error", "amem_wal.crc_mismatch", "entries[2].crc32", doc.offset_of("entries[2].crc32"))]
    assert memschema.load(bad).recovery.accepted == 0 and memschema.load(bad).recovery.truncate_to == 64


@pytest.mark.parametrize("total_len", [0, 44, MAX_ENTRY_BYTES + 1, 2**32 - 1])
def test_total_len_outside_upstream_limits(total_len):
    data, doc = _file(b"one", b"two")
    start = doc.parsed.placed["entries"].offsets[1]
    bad = _put(data, start, "<I", total_len)
    assert _findings(bad) == [("error", "amem_wal.entry_length", "entries.tail.total_len", start)]


def test_entry_over_16_mib_that_parses_is_an_error():
    data, doc = _file(b"x" * (MAX_ENTRY_BYTES - 44))        # total_len = 16 MiB + 1, bytes present
    assert _findings(data) == [("error", "amem_wal.entry_length", "entries[0].total_len", 64)]


def test_data_len_past_total_len():
    data, doc = _file(b"one", b"two")
    bad = _put(data, doc.offset_of("entries[1].data_len"), "<I", 4)
    assert _findings(bad) == [("error", "amem_wal.data_len_overflow", "entries.tail.data_len",
                               doc.offset_of("entries[1].data_len"))]


def test_torn_append_is_a_warning_lenient_and_an_error_strict():
    data, doc = _file(b"one", b"two")
    start = doc.parsed.placed["entries"].offsets[1]
    for cut in (start + 2, start + 30, len(data) - 1):
        torn = data[:cut]
        assert _findings(torn) == [("warning", "amem_wal.torn_tail", "entries.tail.total_len", start)]
        assert _findings(torn, strict=True)[0][0] == "error"
        assert memschema.dump(memschema.load(torn)) == torn


def test_header_fields():
    data, doc = _file(b"one")
    assert _findings(_put(data, doc.offset_of("header.version"), "<H", 2)) == \
        [("error", "amem_wal.version", "header.version", 4)]
    assert _findings(_put(data, doc.offset_of("header.flags"), "<I", 1)) == \
        [("warning", "amem_wal.flags_nonzero", "header.flags", 30)]
    assert _findings(_put(data, doc.offset_of("header.reserved") + 5, "B", 9)) == \
        [("warning", "amem_wal.reserved_nonzero", "header.reserved", 39)]


@pytest.mark.parametrize("size", [4, 6, 63])   # the magic is there, the header is not
def test_short_header_does_not_load(size):
    data, _ = _file(b"one")
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(data[:size])
    assert exc.value.code == "amem_wal.truncated" and exc.value.path.startswith("header")
    assert memschema.validate(data[:size]).errors[0].code == "amem_wal.truncated"


def test_slack_session_sequence_and_time():
    data, doc = _file(b"one", b"two", b"three")
    # slack: grow entry 0's total_len by 2 and insert two bytes after its data
    at = doc.offset_of("entries[0].slack")
    slack = _put(data[:at] + b"\xaa\xbb" + data[at:], 64, "<I", doc.entries[0].total_len + 2)
    assert _findings(slack) == [("warning", "amem_wal.unchecksummed_slack", "entries[0].slack", at)]
    zero = _put(data, doc.offset_of("entries[1].session_id"), "16s", bytes(16))
    assert _findings(zero) == [("info", "amem_wal.session_zero", "entries[1].session_id",
                                doc.offset_of("entries[1].session_id"))]
    assert memschema.load(zero).recovered()[1].session_id == SESSION      # read_entries reports the header's
    other = _put(data, doc.offset_of("entries[1].session_id"), "16s", b"\x01" * 16)
    assert _findings(other)[0][1:] == ("amem_wal.session_mismatch", "entries[1].session_id",
                                       doc.offset_of("entries[1].session_id"))
    repeat = _put(data, doc.offset_of("entries[2].sequence"), "<Q", 0)
    assert _findings(repeat) == [("warning", "amem_wal.sequence_not_increasing", "entries[2].sequence",
                                  doc.offset_of("entries[2].sequence"))]
    back = _put(data, doc.offset_of("entries[2].timestamp_ns"), "<q", 5)
    assert _findings(back) == [("warning", "amem_wal.timestamp_decreasing", "entries[2].timestamp_ns",
                                doc.offset_of("entries[2].timestamp_ns"))]
