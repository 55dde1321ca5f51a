"""META_SEG v1 (RVF-INDEX-META.md Part B) in files built from the reference: decoded and checked in
the decoder's order (limits, footer SHA-256, magic, version, counts, entries, trailing bytes,
ordering and schema rules); other META payloads keep their plain handling."""

from __future__ import annotations

import hashlib
import json

import pytest
from construct import Container, ListContainer

import memschema
from memschema.formats.rvf.meta_seg import NO_BASE, meta_header, meta_payload_bytes
from memschema.formats.rvf.writer import StoreWriter
from memschema.parsing import locate


def value(tag, v=None):
    if tag in (1, 2):
        return Container(tag=tag, value=Container(length=len(v), data=v))
    return Container(tag=tag, value=v)


def body(records=None, schema=None, files=None, generation=1, base=NO_BASE, flags=1):
    schema = [(1, 1, 0, b"title"), (2, 5, 1, b"score")] if schema is None else schema
    files = [(b"model", value(1, b"mini")), (b"seed", value(4, 7))] if files is None else files
    records = [(10, 0, [(1, value(1, b"a")), (2, value(5, 0.5))]), (11, 0, [(2, value(0))]), (12, 1, [])] \
        if records is None else records
    return Container(
        header=Container(magic=b"RVFMETA\0", version=1, flags=flags, generation=generation, base_generation=base,
                         schema_count=len(schema), file_count=len(files), record_count=len(records)),
        schema=ListContainer(Container(field_id=f, value_type=t, nullable=n, name_len=len(name), name=name)
                             for f, t, n, name in schema),
        files=ListContainer(Container(key_len=len(k), key=k, value=v) for k, v in files),
        records=ListContainer(Container(vector_id=i, op=op, field_count=len(fields),
                                        fields=ListContainer(Container(field_id=f, value=v) for f, v in fields))
                              for i, op, fields in records))


def store_with(payload: bytes) -> tuple[bytes, int]:
    writer = StoreWriter(dimension=2)
    data = writer.create() + writer.ingest([10, 11, 12], [[1, 2], [3, 4], [5, 6]])
    at = len(data) + 64
    data += writer._segment("meta", payload)
    return data + writer.manifest(), at


def findings(payload: bytes):
    data, at = store_with(payload)
    return [(f.severity.value, f.code, f.offset - at if f.offset is not None else None)
            for f in memschema.validate(data).findings], data


def test_valid_snapshot_decodes():
    found, data = findings(meta_payload_bytes(body()))
    assert found == []
    meta = next(s for s in memschema.load(data).to_json()["segments"] if s["seg_type_name"] == "meta")
    decoded = meta["decoded"]
    assert decoded["encoding"] == "meta_v1" and decoded["header"]["record_count"] == 3
    assert decoded["records"][0]["fields"][1]["value"]["value"] == 0.5
    json.dumps(decoded)


def test_footer_and_header_checks():
    raw = bytearray(meta_payload_bytes(body()))
    raw[50] ^= 1
    assert findings(bytes(raw))[0] == [("error", "rvf.meta_checksum", len(raw) - 40)]
    version_at = locate(meta_header, body().header, "version")
    bad = body()
    bad.header.version = 2
    assert findings(meta_payload_bytes(bad))[0] == [("error", "rvf.meta_unparseable", version_at)]
    delta = body(generation=5, base=3, flags=0)
    assert findings(meta_payload_bytes(delta))[0] == [("error", "rvf.meta_schema", locate(meta_header, delta.header,
                                                                                           "generation"))]
    mixed = body(flags=0)            # no FULL_SNAPSHOT flag but no base either
    assert [c for _, c, _ in findings(meta_payload_bytes(mixed))[0]] == ["rvf.meta_schema"]
    extra = body(flags=3)
    assert findings(meta_payload_bytes(extra))[0] == [("warning", "rvf.meta_flags", 10)]
    raw = bytearray(meta_payload_bytes(body()))
    count_at = locate(meta_header, body().header, "record_count")
    raw[count_at:count_at + 4] = ((16 << 20) + 1).to_bytes(4, "little")
    raw[-32:] = hashlib.sha256(bytes(raw[:-40])).digest()
    assert findings(bytes(raw))[0] == [("error", "rvf.meta_limit", count_at)]


def test_entry_checks():
    unsorted = body(records=[(11, 0, []), (10, 0, [])])
    assert [c for _, c, _ in findings(meta_payload_bytes(unsorted))[0]] == ["rvf.meta_order"]
    undeclared = body(records=[(10, 0, [(9, value(1, b"x"))])])
    assert [c for _, c, _ in findings(meta_payload_bytes(undeclared))[0]] == ["rvf.meta_schema"]
    wrong_type = body(records=[(10, 0, [(1, value(4, 3))])])
    assert [c for _, c, _ in findings(meta_payload_bytes(wrong_type))[0]] == ["rvf.meta_schema"]
    not_null = body(records=[(10, 0, [(1, value(0))])])
    assert [c for _, c, _ in findings(meta_payload_bytes(not_null))[0]] == ["rvf.meta_schema"]
    deleted_field = body(records=[(10, 0, [(1, value(7))])])
    assert findings(meta_payload_bytes(deleted_field))[0] == []
    infinite = body(records=[(10, 0, [(2, value(5, float("inf")))])])
    assert [c for _, c, _ in findings(meta_payload_bytes(infinite))[0]] == ["rvf.meta_unparseable"]
    keys = body(files=[(b"b", value(0)), (b"a", value(0))])
    assert [c for _, c, _ in findings(meta_payload_bytes(keys))[0]] == ["rvf.meta_order"]
    trailing = meta_payload_bytes(body(), extra=b"\x00\x01")
    assert findings(trailing)[0][0][1] == "rvf.meta_trailing_bytes"


def test_unknown_tag_is_unparseable_not_a_crash():
    raw = bytearray(meta_payload_bytes(body(files=[(b"k", value(6, 1))])))
    tag_at = 40 + 2 * 6 + len(b"title") + len(b"score") + 2 + 1
    assert raw[tag_at] == 6
    raw[tag_at] = 9
    raw[-32:] = hashlib.sha256(bytes(raw[:-40])).digest()
    found = findings(bytes(raw))[0]
    # the unknown tag has no payload: the entry is reported, what follows no longer lines up
    assert found[0][:2] == ("error", "rvf.meta_unparseable") or found[0][:2] == ("error", "rvf.meta_trailing_bytes")
    assert all(s == "error" for s, _, _ in found)


@pytest.mark.parametrize("payload", [b"", b'{"name":"ruvbot"}'])
def test_other_meta_payloads_keep_their_handling(payload):
    found, data = findings(payload)
    assert found == []
    meta = next(s for s in memschema.load(data).to_json()["segments"] if s["seg_type_name"] == "meta")
    assert "decoded" not in meta and meta["payload_hex"] == payload.hex()
