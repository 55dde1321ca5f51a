"""The `.ksy` generator without the compiler: ids after the style guide with the original name kept,
expressions translated, a doc on every field and type, and what Kaitai cannot express refused
with the field's path."""

from __future__ import annotations

import pytest
from construct import (
    Bytes,
    Compressed,
    Const,
    ExprAdapter,
    FixedSized,
    GreedyBytes,
    Int8ul,
    Int16ul,
    Int32ul,
    Struct,
    this,
)
from schemas.layouts import TEST_DECLARATIONS, TEST_LAYOUTS

from memschema import registry
from memschema.ksy import Unsupported, generate
from memschema.layout import Layout, Section


def _all():
    out = {k: generate(k, v, dict(registry.get_format(k).declarations)) for k, v in registry.layouts().items()}
    out.update({k: generate(k, v, TEST_DECLARATIONS.get(k)) for k, v in TEST_LAYOUTS.items()})
    return out


def _fields(spec):
    yield from (("", f) for f in spec.get("seq", []))
    yield from ((name, f) for name, f in spec.get("instances", {}).items())


@pytest.mark.parametrize("key,ksy", sorted(_all().items()))
def test_every_type_and_field_has_a_doc(key, ksy):
    missing = [f"{key}: type {name}" for name, t in ksy.spec.get("types", {}).items() if not t.get("doc")]
    for owner, spec in [("<root>", ksy.spec), *ksy.spec.get("types", {}).items()]:
        missing += [f"{key}: {owner}.{f.get('id', name)}" for name, f in _fields(spec) if not f.get("doc")]
    assert not missing and not ksy.undocumented, missing + ksy.undocumented


def test_ids_follow_the_style_guide_and_keep_the_original_name():
    ksy = generate("amem/agentic-memory", TEST_LAYOUTS["amem/agentic-memory"], TEST_DECLARATIONS["amem/agentic-memory"])
    header = {f["id"]: f for f in ksy.spec["types"]["header"]["seq"]}
    assert header["num_nodes"]["-orig-id"] == "node_count"          # a section's count
    assert header["ofs_edges"]["-orig-id"] == "edge_table_offset"   # a section's position
    assert "contents" in header["magic"] and "-orig-id" not in header["magic"]
    node = {f["id"]: f for f in ksy.spec["types"]["node_record"]["seq"]}
    assert node["ofs_blob"]["-orig-id"] == "content_offset"         # what a view places by
    assert node["reserved"]["-orig-id"] == "padding"
    term = {f["id"]: f for f in ksy.spec["types"]["term_entry"]["seq"]}
    assert term["len_term"]["-orig-id"] == "len" and term["term"]["size"] == "len_term"   # Bytes(this.len)


def test_expressions_are_translated():
    ksy = generate("amem/agentic-memory", TEST_LAYOUTS["amem/agentic-memory"], TEST_DECLARATIONS["amem/agentic-memory"])
    inst = ksy.spec["instances"]
    assert inst["content"]["size"] == "(header.ofs_vectors - header.ofs_content)"
    assert inst["indexes"]["pos"] == "header.ofs_vectors + header.num_nodes * (header.dimension * 4)"
    assert ksy.spec["types"]["cluster"]["seq"][0]["repeat-expr"] == "_parent.dimension"      # this._.dimension
    blob = ksy.spec["types"]["node_record"]["instances"]["blob"]
    assert (blob["io"], blob["pos"], blob["size"]) == ("_root._io", "_root.header.ofs_content + ofs_blob", "len_blob")
    entry_type = ksy.type_names[id(TEST_LAYOUTS["amem/agentic-memory"].section("indexes").decl)]
    body = next(f for f in ksy.spec["types"][entry_type]["seq"] if f["id"] == "body")
    assert body["type"]["switch-on"] == "tag" and body["type"]["cases"][4] == "cluster_map"
    assert ksy.spec["enums"]["event_type"][0] == "fact"


def test_records_until_the_end_keep_their_torn_tail():
    ksy = generate("mem8/seed", registry.layouts()["mem8/seed"])
    seq = {f["id"]: f for f in ksy.spec["seq"]}
    assert seq["blocks"]["repeat-expr"] == "(_io.size - _io.pos) / sizeof<block>"
    assert seq["blocks_tail"]["size-eos"] is True


def test_what_kaitai_cannot_decode_stays_documented_bytes():
    """A compressed payload with a size stays `size:` bytes saying memschema decodes it; without a
    size it cannot be placed at all and is refused, naming the field."""
    sized = Struct("magic" / Const(b"ZZ") * "magic", "n" / Int16ul * "payload size",
                   "packed" / FixedSized(this.n, Compressed(GreedyBytes, "zlib")) * "zlib data",
                   "stamp" / ExprAdapter(Int32ul, lambda x, ctx: x * 2, lambda x, ctx: x // 2) * "doubled")
    ksy = generate("zz", Layout("zz", "ZZ", "a file", Section("header", sized, "the header")))
    fields = {f["id"]: f for f in ksy.spec["types"]["header"]["seq"]}
    assert fields["packed"]["size"] == "len_packed"
    assert "kept as bytes: memschema decodes this Compressed" in fields["packed"]["doc"]
    assert fields["stamp"]["size"] == 4 and "ExprAdapter" in fields["stamp"]["doc"]
    assert ksy.opaque == ["header.packed: Compressed", "header.stamp: ExprAdapter"]
    unsized = Struct("packed" / Compressed(GreedyBytes, "zlib") * "zlib data to the end, and more after it",
                     "after" / Int8ul * "a byte")
    with pytest.raises(Unsupported, match=r"header\.packed: Compressed of no fixed size"):
        generate("zz", Layout("zz", "ZZ", "a file", Section("header", unsized, "the header")))
    sized = Struct("n" / Int16ul * "size", "payload" / Bytes(this.n) * "payload",
                   "crc" / Int8ul * "checksum byte", "rest" / GreedyBytes * "the rest")
    ksy = generate("ok", Layout("ok", "OK", "a file", Section("body", sized, "the body")))
    assert [f["id"] for f in ksy.spec["types"]["body"]["seq"]] == ["len_payload", "payload", "crc", "rest"]


def test_a_layout_with_an_unknown_field_reference_is_refused_with_its_path():
    header = Struct("count" / Int8ul * "records")
    layout = Layout("bad", "Bad", "a file", Section("header", header, "h"),
                    Section("records", Int8ul, "r", count=this.header.missing))
    with pytest.raises(Unsupported, match="no field 'missing'"):
        generate("bad", layout)


def test_unnamed_padding_is_reserved_bytes():
    from construct import Padding
    ksy = generate("pad", Layout("pad", "Pad", "a file", Section(
        "header", Struct("a" / Int8ul * "a byte", Padding(3), "b" / Int8ul * "another"), "h")))
    assert ksy.spec["types"]["header"]["seq"][1] == {"id": "reserved_1", "size": 3,
                                                      "doc": "padding (construct Padding, no field)"}


def test_a_payload_switched_on_a_header_enum_reads_its_declared_case():
    """`Switch(this.header.kind, {name: Select(x, GreedyBytes)})` (x, or its bytes when they do not
    decode as x, as RVF segment payloads are declared): Kaitai reads x, by the enum the key names
    inside the header Struct."""
    from construct import Enum, Select, Switch
    point = Struct("x" / Int16ul * "x", "y" / Int16ul * "y") * "a point"
    header = Struct("kind" / Enum(Int8ul, point=1, other=2) * "what follows", "size" / Int8ul * "payload bytes")
    record = Struct("header" / header * "the header",
                    "payload" / FixedSized(this.header.size, Switch(this.header.kind, {
                        "point": Select(point, GreedyBytes)}, default=GreedyBytes)) * "the payload")
    ksy = generate("sw", Layout("sw", "SW", "a file", Section("record", record, "one record")),
                   {"point": point, "record_header": header})
    payload = {f["id"]: f for f in ksy.spec["types"]["record"]["seq"]}["payload"]
    assert payload["size"] == "header.size"
    assert payload["type"]["switch-on"] == "header.kind"
    assert payload["type"]["cases"] == {"kind::point": "point"}
