"""Every V3 log finding code on bytes, with severity, field path and absolute offset."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import memschema
from memschema.formats.amem_log.document import ImmortalLogDocument, MemoryWalDocument
from memschema.registry import Detection

WHEN = datetime(2026, 2, 25, 12, 0, 0, tzinfo=UTC)


def _log(n: int = 3) -> tuple[bytes, ImmortalLogDocument]:
    doc = ImmortalLogDocument.new()
    for i in range(n):
        doc.append("user_message", {"type": "text", "text": f"message {i}"}, WHEN, i)
    data = doc.build()
    return data, memschema.load(data)


def _findings(data: bytes, strict: bool = False) -> list[tuple]:
    return [(f.severity.value, f.code, f.path, f.offset) for f in memschema.validate(data, strict=strict).findings]


def _replace(data: bytes, at: int, old: bytes, new: bytes) -> bytes:
    assert data[at:at + len(old)] == old and len(old) == len(new)
    return data[:at] + new + data[at + len(old):]


def test_hash_mismatch_and_the_broken_chain_after_it():
    data, doc = _log()
    at = doc.block_offset(1, "content") + len(b'{"type":"text","text":"')
    bad = _replace(data, at, b"m", b"M")                        # content changed after writing
    assert _findings(bad) == [("error", "amem_log.hash_mismatch", "records[1].block.hash", doc.block_offset(1, "hash"))]
    at = data.index(b",", doc.block_offset(2, "prev_hash")) - 1        # last digit of its first number
    bad = _replace(data, at, data[at:at + 1], b"1" if data[at:at + 1] != b"1" else b"2")
    codes = [f[1:] for f in _findings(bad)]
    assert ("amem_log.chain_broken", "records[2].block.prev_hash", doc.block_offset(2, "prev_hash")) in codes


def test_unreadable_record_is_skipped_and_shifts_the_sequence():
    data, doc = _log()
    at = doc.block_offset(1, "block_type") + 1
    bad = _replace(data, at, b"u", b"X")
    findings = _findings(bad)
    assert findings[0] == ("error", "amem_log.block_unreadable", "records[1].block.block_type", at - 1)
    assert ("error", "amem_log.sequence_gap", "records[2].block.sequence", doc.block_offset(2, "sequence")) in findings
    assert memschema.load(bad).chain.indexed == (0, 2)


def test_zero_length_record_hides_what_follows():
    data, doc = _log()
    start = doc.parsed.placed["records"].offsets[2]
    hidden = data[:start] + bytes(4) + data[start:]
    assert _findings(hidden) == [("error", "amem_log.zero_length_record", "records[2].block_len", start)]
    assert memschema.load(hidden).chain.scanned == 2
    assert _findings(data + bytes(4)) == [("warning", "amem_log.zero_length_record", "records[3].block_len",
                                           len(data))]


def test_torn_last_record():
    data, doc = _log()
    start = doc.parsed.placed["records"].offsets[2]
    torn = data[:start + 10]
    assert _findings(torn) == [("warning", "amem_log.torn_tail", "records[2].block", start + 4)]
    assert _findings(torn, strict=True)[0][0] == "error"
    assert memschema.dump(memschema.load(torn)) == torn


def test_size_bytes_and_serde_form():
    data, doc = _log(1)
    at = doc.block_offset(0, "size_bytes")
    old = data[at:at + 2]
    bad = _replace(data, at, old, b"%02d" % (int(old) + 1))
    assert _findings(bad) == [("warning", "amem_log.size_bytes_mismatch", "records[0].block.size_bytes", at)]
    spaced = data.replace(b'"sequence":0', b'"sequence": 0')
    spaced = struct.pack("<I", len(spaced) - 4) + spaced[4:]
    assert _findings(spaced) == [("warning", "amem_log.not_serde_form", "records[0].block", 4)]


def test_memory_wal_codes():
    data, log = _log(2)
    wal = MemoryWalDocument.parse(b"", Detection("amem_log", "memory_wal"))
    for block in log.blocks():
        wal.append(block)
    good = wal.build()
    doc = memschema.load(good)
    assert doc.detection.id == "amem_log/memory_wal" and _findings(good) == []
    crc = doc.offset_of("entries[1].crc32")
    assert _findings(good[:crc] + bytes(4) + good[crc + 4:]) == [
        ("error", "amem_log.wal_crc_mismatch", "entries[1].crc32", crc)]
    seq = doc.offset_of("entries[1].sequence")
    assert _findings(good[:seq] + bytes(8) + good[seq + 8:]) == [
        ("warning", "amem_log.wal_sequence_not_increasing", "entries[1].sequence", seq)]
    assert _findings(good[:-2])[0][:2] == ("warning", "amem_log.torn_tail")
