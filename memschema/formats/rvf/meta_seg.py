"""META_SEG (0x07) payloads in the authoritative v1 encoding (RVF-INDEX-META.md Part B;
`rvf-types/src/metadata.rs`): header, schema entries, file key/values, per-vector records, then the
completion footer `RVFDONE\\0` + SHA-256 of everything before it.  Recognised by the `RVFMETA\\0`
magic; other META payloads (ruvbot JSON, the empty golden vector) keep their plain handling.

No released writer emits v1 (B.5), so the checks follow the decoder of B.3 in its order.  Every
rejection there makes the runtime refuse the segment (the metadata is lost), so each is an error.
"""

from __future__ import annotations

import hashlib
import math

from construct import (
    Array,
    Bytes,
    Float64l,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64sl,
    Int64ul,
    Pass,
    Struct,
    Switch,
    this,
)

from ...errors import Finding, FormatError, error, warning
from ...parsing import locate, parse, parse_span

META_MAGIC = b"RVFMETA\0"
FOOTER_MAGIC = b"RVFDONE\0"
META_VERSION = 1
FULL_SNAPSHOT = 0x0001
NO_BASE = (1 << 64) - 1
MAX_META_BYTES = 256 << 20
LIMITS = {"schema_count": 65536, "file_count": 65536, "record_count": 16 << 20}
MAX_NAME, MAX_KEY, MAX_FIELDS, MAX_BLOB = 4096, 4096, 65536, 16 << 20
VALUE_TYPES = {1: "string", 2: "bytes", 3: "i64", 4: "u64", 5: "f64", 6: "bool"}
TAGS = {0: "null", **VALUE_TYPES, 7: "delete_field"}
NULL, STRING, BYTES_, F64, BOOL, DELETE_FIELD = 0, 1, 2, 5, 6, 7
OPS = {0: "upsert", 1: "delete_record"}

_blob = Struct("length" / Int32ul * "bytes (<= 16 MiB)", "data" / Bytes(this.length) * "the bytes")

meta_value = Struct(
    "tag" / Int8ul * "0 Null, 1 String, 2 Bytes, 3 I64, 4 U64, 5 F64, 6 Bool, 7 DeleteField",
    "value" / Switch(this.tag, {0: Pass, 1: _blob, 2: _blob, 3: Int64sl, 4: Int64ul, 5: Float64l, 6: Int8ul,
                                7: Pass}, default=Pass)
    * "payload of the tag (u32 length + bytes for 1, 2); none for other tags (InvalidTag, reported)",
) * "tagged metadata value (B.2)"

meta_header = Struct(
    "magic" / Bytes(len(META_MAGIC)) * "52 56 46 4D 45 54 41 00 ('RVFMETA\\0')",
    "version" / Int16ul * "1",
    "flags" / Int16ul * "bit 0 FULL_SNAPSHOT; other bits written 0, ignored",
    "generation" / Int64ul * "generation of this segment",
    "base_generation" / Int64ul * "generation a delta applies to; 0xFFFFFFFFFFFFFFFF = none (full snapshot)",
    "schema_count" / Int32ul * "schema entries (<= 65,536)",
    "file_count" / Int32ul * "file key/value entries (<= 65,536)",
    "record_count" / Int32ul * "records (<= 16,777,216)",
)

meta_schema_entry = Struct(
    "field_id" / Int16ul * "strictly ascending across entries",
    "value_type" / Int8ul * "1 String, 2 Bytes, 3 I64, 4 U64, 5 F64, 6 Bool",
    "nullable" / Int8ul * "0 or 1",
    "name_len" / Int16ul * "1..4096",
    "name" / Bytes(this.name_len) * "UTF-8 field name",
)

meta_file_entry = Struct(
    "key_len" / Int16ul * "<= 4096 (0 allowed)",
    "key" / Bytes(this.key_len) * "UTF-8; keys strictly ascending by bytes",
    "value" / meta_value * "any tagged value",
)

meta_field = Struct(
    "field_id" / Int16ul * "strictly ascending within the record; declared in the schema",
    "value" / meta_value * "tagged value of the schema's type, Null if nullable, or DeleteField",
)

meta_record = Struct(
    "vector_id" / Int64ul * "strictly ascending across records",
    "op" / Int8ul * "0 Upsert, 1 DeleteRecord",
    "field_count" / Int32ul * "<= 65,536; 0 for DeleteRecord",
    "fields" / Array(this.field_count, meta_field) * "(field_id, value) pairs",
)

meta_body = Struct(
    "header" / meta_header * "40-byte header",
    "schema" / Array(this.header.schema_count, meta_schema_entry) * "schema entries",
    "files" / Array(this.header.file_count, meta_file_entry) * "store-wide key/values",
    "records" / Array(this.header.record_count, meta_record) * "per-vector metadata operations",
) * "everything before the footer (what the SHA-256 covers)"

meta_footer = Struct(
    "magic" / Bytes(len(FOOTER_MAGIC)) * "52 56 46 44 4F 4E 45 00 ('RVFDONE\\0')",
    "sha256" / Bytes(32) * "SHA-256 of every byte before the footer",
)
FOOTER = meta_footer.sizeof()


def is_meta_v1(payload) -> bool:
    return bytes(payload[:len(META_MAGIC)]) == META_MAGIC


def meta_findings(data, seg) -> list[Finding]:
    """The decoder's checks of B.3, in its order, then ordering and schema rules."""
    base, size, path = seg.payload_offset, seg.payload_length, f"{seg.path}.meta"
    if size > MAX_META_BYTES:
        return [error("rvf.meta_limit", f"META payload of {size} bytes > 256 MiB", path, base)]
    if size < meta_header.sizeof() + FOOTER:
        return [error("rvf.meta_unparseable", f"META v1 payload of {size} bytes is shorter than header + footer",
                      path, base)]
    end_at = base + size - FOOTER
    footer = parse(meta_footer, data, end_at, f"{path}.footer", FOOTER)
    if bytes(footer.magic) != FOOTER_MAGIC or hashlib.sha256(bytes(data[base:end_at])).digest() != bytes(footer.sha256):
        what = "footer magic is not RVFDONE" if bytes(footer.magic) != FOOTER_MAGIC else "SHA-256 does not match"
        return [error("rvf.meta_checksum", f"completion footer: {what}", f"{path}.footer", end_at)]
    header = parse(meta_header, data, base, f"{path}.header", size - FOOTER)
    out = _header_findings(header, base, path)
    if any(f.is_error for f in out):
        return out
    try:
        body, used = parse_span(meta_body, data, base, path, size - FOOTER)
    except FormatError as exc:
        return out + [error("rvf.meta_unparseable", f"META v1 body does not decode: {exc.message}", exc.path,
                            exc.offset)]
    if used != size - FOOTER:
        out.append(error("rvf.meta_trailing_bytes", f"{size - FOOTER - used} bytes between the last record and the "
                         "footer (upstream: TrailingBytes)", f"{path}.records", base + used))
    return out + _content_findings(body, base, path)


def _header_findings(h, base: int, path: str) -> list[Finding]:
    at = lambda name: base + locate(meta_header, h, name)  # noqa: E731
    if bytes(h.magic) != META_MAGIC:
        return [error("rvf.meta_unparseable", "magic is not RVFMETA", f"{path}.header.magic", base)]
    if h.version != META_VERSION:
        return [error("rvf.meta_unparseable", f"version {h.version}, readers know {META_VERSION}",
                      f"{path}.header.version", at("version"))]
    out = [error("rvf.meta_limit", f"{name} {h[name]} > {limit}", f"{path}.header.{name}", at(name))
           for name, limit in LIMITS.items() if h[name] > limit]
    snapshot = bool(h.flags & FULL_SNAPSHOT)
    if snapshot != (h.base_generation == NO_BASE):
        out.append(error("rvf.meta_schema", "FULL_SNAPSHOT flag and base_generation disagree (a snapshot has no "
                         "base, a delta has one)", f"{path}.header.base_generation", at("base_generation")))
    elif not snapshot and h.generation != h.base_generation + 1:
        out.append(error("rvf.meta_schema", f"delta generation {h.generation} is not base_generation "
                         f"{h.base_generation} + 1", f"{path}.header.generation", at("generation")))
    if h.flags & ~FULL_SNAPSHOT:
        out.append(warning("rvf.meta_flags", f"flag bits 0x{h.flags & ~FULL_SNAPSHOT:04x} set (ignored by readers)",
                           f"{path}.header.flags", at("flags")))
    return out


def _value_problem(v) -> str | None:
    if v.tag not in TAGS:
        return f"tag {v.tag} (InvalidTag)"
    if v.tag in (STRING, BYTES_) and v.value.length > MAX_BLOB:
        return f"length {v.value.length} > 16 MiB"
    if v.tag == STRING:
        try:
            bytes(v.value.data).decode("utf-8")
        except UnicodeDecodeError:
            return "string is not UTF-8"
    if v.tag == F64 and not math.isfinite(v.value):
        return "F64 is not finite"
    if v.tag == BOOL and v.value > 1:
        return f"Bool byte {v.value}"
    return None


def _content_findings(body, base: int, path: str) -> list[Finding]:
    out: list[Finding] = []

    def bad(code: str, message: str, where: str) -> None:
        out.append(error(code, message, f"{path}.{where}", base + locate(meta_body, body, where)))

    schema = {}
    for i, e in enumerate(body.schema):
        if e.value_type not in VALUE_TYPES:
            bad("rvf.meta_unparseable", f"value_type {e.value_type} (InvalidTag)", f"schema[{i}].value_type")
        if e.nullable > 1:
            bad("rvf.meta_schema", f"nullable {e.nullable}", f"schema[{i}].nullable")
        if not 1 <= e.name_len <= MAX_NAME:
            bad("rvf.meta_limit" if e.name_len else "rvf.meta_order", f"name_len {e.name_len} outside 1..4096",
                f"schema[{i}].name_len")
        if i and e.field_id <= body.schema[i - 1].field_id:
            bad("rvf.meta_order", "field_id not strictly ascending", f"schema[{i}].field_id")
        schema[e.field_id] = e
    for i, f in enumerate(body.files):
        if f.key_len > MAX_KEY:
            bad("rvf.meta_limit", f"key_len {f.key_len} > 4096", f"files[{i}].key_len")
        if i and bytes(f.key) <= bytes(body.files[i - 1].key):
            bad("rvf.meta_order", "keys not strictly ascending", f"files[{i}].key")
        problem = _value_problem(f.value)
        if problem:
            bad("rvf.meta_unparseable", problem, f"files[{i}].value")
    for i, r in enumerate(body.records):
        if i and r.vector_id <= body.records[i - 1].vector_id:
            bad("rvf.meta_order", "vector_id not strictly ascending", f"records[{i}].vector_id")
        if r.op not in OPS or (r.op == 1 and r.field_count):
            bad("rvf.meta_unparseable", f"op {r.op} with {r.field_count} fields (InvalidTag)", f"records[{i}].op")
        if r.field_count > MAX_FIELDS:
            bad("rvf.meta_limit", f"field_count {r.field_count} > 65536", f"records[{i}].field_count")
        for j, f in enumerate(r.fields):
            where = f"records[{i}].fields[{j}]"
            if j and f.field_id <= r.fields[j - 1].field_id:
                bad("rvf.meta_order", "field_id not strictly ascending in the record", f"{where}.field_id")
            entry = schema.get(f.field_id)
            tag = f.value.tag
            if entry is None:
                bad("rvf.meta_schema", f"field_id {f.field_id} is not in the schema", f"{where}.field_id")
            elif not (tag == DELETE_FIELD or tag == entry.value_type or (tag == NULL and entry.nullable == 1)):
                bad("rvf.meta_schema", f"{TAGS.get(tag, tag)} value for a {TAGS.get(entry.value_type)} field"
                    + ("" if entry.nullable else " that is not nullable"), f"{where}.value")
            problem = _value_problem(f.value)
            if problem:
                bad("rvf.meta_unparseable", problem, f"{where}.value")
    return out


def meta_payload_bytes(body, extra: bytes = b"") -> bytes:
    """A v1 payload from a `meta_body` value: body (+ `extra` bytes, for tests) + footer."""
    from construct import Container

    from ...parsing import build
    raw = build(meta_body, body, "meta_body") + extra
    return raw + build(meta_footer, Container(magic=FOOTER_MAGIC, sha256=hashlib.sha256(raw).digest()))
