"""AMEM-WAL.md §1.10: the hand-built example decodes field by field, and memschema's writer builds the
same bytes from the same inputs."""

from __future__ import annotations

import uuid

import memschema
from memschema.formats.amem_wal.document import AmemWalDocument

# §1.10, typed from the reference's dump: header, then one inbound entry.
EXAMPLE = bytes.fromhex(
    "4d57414c0100" "00112233445566778899aabbccddeeff" "00f1536500000000" "00000000" + "00" * 30 +
    "55000000" "f41799ac" "15cd853dfe9c9717" "0000000000000000" "00" "00112233445566778899aabbccddeeff" "28000000")
EXAMPLE += b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
SESSION = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff").bytes


def test_reference_example_decodes_exactly():
    assert len(EXAMPLE) == 149
    assert memschema.detect(EXAMPLE).id == "amem_wal"
    doc = memschema.load(EXAMPLE)
    h = doc.header
    assert (h.version, bytes(h.session_id), h.created_unix_secs, h.flags) == (1, SESSION, 1700000000, 0)
    [e] = doc.entries
    assert (e.total_len, e.crc32, e.timestamp_ns, e.sequence, str(e.direction), bytes(e.session_id), e.data_len) == \
        (85, 0xAC9917F4, 1700000000123456789, 0, "inbound", SESSION, 40)
    assert bytes(e.data) == b'{"jsonrpc":"2.0","id":1,"method":"ping"}' and bytes(e.slack) == b""
    assert (doc.offset_of("entries[0].crc32"), doc.offset_of("entries[0].data")) == (0x44, 0x6D)
    assert memschema.validate(EXAMPLE).findings == []
    assert memschema.dump(doc) == EXAMPLE
    assert doc.recovery.accepted == 1 and doc.recovery.next_sequence == 1 and doc.recovery.truncate_to == 149


def test_writer_builds_the_reference_example():
    doc = AmemWalDocument.new(session_id=SESSION, created_unix_secs=1700000000)
    doc.append(b'{"jsonrpc":"2.0","id":1,"method":"ping"}', "inbound", 1700000000123456789)
    assert doc.build() == EXAMPLE


def test_dump_json_names_every_field_and_the_message():
    out = memschema.load(EXAMPLE).to_json()
    assert out["header"]["session_uuid"] == "00112233-4455-6677-8899-aabbccddeeff"
    entry = out["entries"][0]
    assert entry["direction"] == "inbound" and entry["crc32"] == 0xAC9917F4 and entry["crc_ok"]
    assert entry["data_text"] == '{"jsonrpc":"2.0","id":1,"method":"ping"}' and entry["accepted"]
    assert out["recovery"] == {"entries": 1, "next_sequence": 1, "truncate_to": 149, "unrecovered_bytes": 0,
                               "stop": None}
