"""Engine: records built in bulk (numpy arrays and column-wise variable records inside a Struct)
give exactly construct's bytes; vector tables of dimension 0; negative section sizes; contexts
read through a section (`this._.header.node_count`) drawn by the strategies; a Check ends a
GreedyRange as construct does and is no field; leaves listed once, empty fields first; Select and
memoryview values serialize."""

from __future__ import annotations

import numpy as np
import pytest
from construct import (
    Array,
    Bytes,
    Check,
    Const,
    Default,
    Float32l,
    GreedyRange,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    Rebuild,
    Select,
    Struct,
    len_,
    this,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from memschema.errors import FormatError
from memschema.layout import EOF, Layout, Section, explain
from memschema.records import Columns, fill, serialize_columns, serialize_one
from memschema.strategies import external_context, from_construct, same_value
from memschema.walker import leaves, parse_value

group = Struct("kind" / Int8ul * "kind", "pad" / Default(Bytes(2), b"\0\0") * "padding",
               "n" / Int64ul * "count", "ids" / Array(this.n, Int64ul) * "ids")
term = Struct("len" / Int16ul * "length", "term" / Bytes(this.len) * "text", "n" / Int32ul * "count",
              "postings" / Array(this.n, Struct("id" / Int64ul * "id", "tf" / Int32ul * "tf")) * "postings")
listing = Struct("count" / Int32ul * "groups", "groups" / Array(this.count, group) * "groups")


def test_columns_build_the_bytes_construct_builds():
    cols = Columns(kind=np.array([1, 3, 4]), ids=(np.array([5, 6, 7]), [2, 0, 1]))
    want = b"".join(group.build({"kind": k, "n": len(ids), "ids": ids}) for k, ids in
                    ((1, [5, 6]), (3, []), (4, [7])))
    assert serialize_columns(group, cols, "g") == want
    assert serialize_one(listing, {"count": 3, "groups": cols}, "listing") == Int32ul.build(3) + want
    posting = np.zeros(3, [("id", "<u8"), ("tf", "<u4")])
    posting["id"], posting["tf"] = [1, 2, 9], [4, 5, 6]
    got = serialize_columns(term, Columns(term=[b"ab", b"xyz"], postings=(posting, [2, 1])), "t")
    assert got == term.build({"len": 2, "term": b"ab", "n": 2, "postings": [{"id": 1, "tf": 4}, {"id": 2, "tf": 5}]}) \
        + term.build({"len": 3, "term": b"xyz", "n": 1, "postings": [{"id": 9, "tf": 6}]})


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=9),
                          st.lists(st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1)), max_size=5)),
                max_size=12),
       st.sampled_from([1 << 20, 64, 7]))
def test_columns_scattered_by_elements_build_what_construct_builds(records, chunk):
    """Fixed fields and array elements are placed one index per element (Bytes one per byte), in
    chunks of records: the bytes are construct's, whatever the chunk size."""
    import memschema.records as records_module
    shaped = Struct("kind" / Int8ul * "kind", "len" / Int16ul * "length", "term" / Bytes(this.len) * "text",
                    "n" / Int32ul * "count",
                    "postings" / Array(this.n, Struct("id" / Int64ul * "id", "tf" / Int32ul * "tf")) * "postings")
    postings = np.array([p for _, _, ps in records for p in ps], [("id", "<u8"), ("tf", "<u4")])
    cols = Columns(kind=np.array([k for k, _, _ in records], np.int64), term=[t for _, t, _ in records],
                   postings=(postings, [len(ps) for _, _, ps in records]))
    saved, records_module.SCATTER_BYTES = records_module.SCATTER_BYTES, chunk
    try:
        got = serialize_columns(shaped, cols, "t", count=len(records))
    finally:
        records_module.SCATTER_BYTES = saved
    assert got == b"".join(shaped.build({"kind": k, "len": len(t), "term": t, "n": len(ps),
                                         "postings": [{"id": i, "tf": f} for i, f in ps]}) for k, t, ps in records)


def test_a_given_length_is_written_as_given_and_out_of_range_values_are_refused():
    long = b"a" * 70_000
    got = serialize_columns(term, Columns(len=np.array([70_000 % 65536]), term=[long],
                                          postings=(np.zeros(0, [("id", "<u8"), ("tf", "<u4")]), [0])), "t")
    assert got[:2] == (70_000 % 65536).to_bytes(2, "little") and got[2:2 + len(long)] == long
    with pytest.raises(FormatError) as info:
        serialize_columns(term, Columns(len=np.array([70_000]), term=[long],
                                        postings=(np.zeros(0, [("id", "<u8"), ("tf", "<u4")]), [0])), "t")
    assert info.value.path == "t[].len[0]"
    doc_lengths = Struct("count" / Int64ul * "count", "length" / Array(this.count, Int32ul) * "per id")
    assert serialize_one(doc_lengths, {"count": 3, "length": np.arange(3)}, "d") == \
        doc_lengths.build({"count": 3, "length": [0, 1, 2]})
    with pytest.raises(FormatError) as info:
        serialize_one(doc_lengths, {"count": 2, "length": np.array([1, -1])}, "d")
    assert info.value.path == "d.length[1]"
    with pytest.raises(FormatError):
        serialize_one(doc_lengths, {"count": 5, "length": np.arange(3)}, "d")


def test_rebuilt_fields_need_no_value():
    entry = Struct("tag" / Int8ul * "tag", "length" / Rebuild(Int64ul, len_(this.body)) * "body length",
                   "body" / Bytes(this.length) * "body")
    value = fill(entry, {"tag": 2, "body": b"abc"})
    assert serialize_one(entry, value, "e") == b"\x02" + (3).to_bytes(8, "little") + b"abc"


def vector_layout() -> Layout:
    header = Struct("magic" / Const(b"VEC0") * "magic", "n" / Int32ul * "vectors", "dim" / Int32ul * "dimension")
    return Layout("vec", "vectors", "header, then n vectors of dim floats",
                  Section("header", header, "12 bytes"),
                  Section("vectors", Array(this.header.dim, Float32l), "n × dim f32", count=this.header.n))


@pytest.mark.parametrize("dim", [0, 3])
def test_vector_tables_of_any_dimension_including_zero(dim):
    layout = vector_layout()
    data = layout.build({"header": {"dim": dim}, "vectors": np.ones((4, dim), "<f4")})
    assert len(data) == 12 + 16 * dim and not layout.placement_problems(data)
    parsed = layout.parse(data)
    assert parsed.vectors.shape == (4, dim) and parsed.vectors.dtype == np.float32
    assert parsed.build() == data
    assert [leaf.path for leaf in parsed.leaves()][:3] == ["header.magic", "header.n", "header.dim"]


def test_a_negative_section_size_is_a_placement_problem():
    header = Struct("start" / Int32ul * "region start", "stop" / Int32ul * "region end")
    layout = Layout("neg", "neg", "header and a region between two offsets",
                    Section("header", header, "8 bytes"),
                    Section("region", Bytes(this.header.stop - this.header.start), "region", at=this.header.start,
                            size=this.header.stop - this.header.start))
    assert not layout.placement_problems(header.build({"start": 8, "stop": 10}) + b"xy")
    problems = layout.placement_problems(header.build({"start": 8, "stop": 4}) + b"xy")
    assert problems and "negative size" in problems[0]


type_bits = Struct("num_types" / Int32ul * "types",
                   "bitsets" / Array(this.num_types, Bytes((this._.header.node_count + 7) // 8)) * "bitsets")


def test_context_read_through_a_section_is_nested():
    assert external_context(type_bits) == {"header": {"node_count": ("size", 48)}}

    @settings(max_examples=25)
    @given(from_construct(type_bits, with_context=True))
    def check(drawn):
        value, context = drawn
        assert type_bits.parse(type_bits.build(value, **context), **context) == value

    check()


blocks = Struct("flags" / Int8ul * "flags",
                "blocks" / GreedyRange(Struct("size" / Int32ul * "block size; 0 ends the blocks",
                                              Check(this.size != 0),
                                              "data" / Bytes(this.size) * "block data")) * "blocks",
                "end" / Const(0, Int32ul) * "end mark",
                "note" / Bytes(this.flags) * "trailing note")


def test_a_check_ends_a_greedy_range_like_construct_and_is_no_field():
    data = blocks.build({"flags": 2, "blocks": [{"size": 3, "data": b"abc"}, {"size": 1, "data": b"d"}],
                         "note": b"hi"})
    value, end = parse_value(blocks, data, 0, "b", numpy=False)
    assert end == len(data) and same_value(value, blocks.parse(data))
    found, err = leaves(blocks, data, 0, "b")
    assert err is None
    assert [x.path for x in found] == ["b.flags", "b.blocks[0].size", "b.blocks[0].data", "b.blocks[1].size",
                                       "b.blocks[1].data", "b.end", "b.note"]

    @settings(max_examples=25)
    @given(from_construct(blocks))
    def drawn_values_build(value):      # a draw with a block of size 0 would not build: rejected
        assert same_value(blocks.parse(blocks.build(value)), value)

    drawn_values_build()


def test_array_leaves_are_listed_once_and_an_empty_field_sorts_first():
    layout = vector_layout()
    parsed = layout.parse(layout.build({"header": {"dim": 2}, "vectors": np.ones((2, 2), "<f4")}))
    paths = [leaf.path for leaf in parsed.leaves()]
    assert paths.count("vectors[0][0]") == 1 and len(paths) == 3 + 4
    entry = Struct("tag" / Int8ul * "tag", "n" / Int8ul * "length", "body" / Bytes(this.n) * "body")
    tlv = Layout("tlv", "tlv", "entries until the end", Section("entries", entry, "entries", count=EOF))
    parsed = tlv.parse(b"\x01\x00\x02\x01x")
    rows = parsed.leaves()
    assert [(r.path, r.offset, r.size) for r in rows] == [
        ("entries[0].tag", 0, 1), ("entries[0].n", 1, 1), ("entries[0].body", 2, 0), ("entries[1].tag", 2, 1),
        ("entries[1].n", 3, 1), ("entries[1].body", 4, 1)]
    assert explain(parsed, 2).leaf.path == "entries[1].tag"


def test_a_count_numpy_cannot_express_is_refused_as_a_format_error():
    layout = vector_layout()
    data = layout.build({"header": {"dim": 1}, "vectors": np.ones((1, 1), "<f4")})
    huge = data[:8] + (2**32 - 1).to_bytes(4, "little") + data[12:]
    with pytest.raises(FormatError) as info:
        layout.parse(huge)
    assert info.value.code == "truncated"


def test_select_and_memoryview_values_serialize():
    first = Struct("kind" / Const(1, Int8ul) * "kind 1", "values" / Array(2, Int32ul) * "two values")
    second = Struct("kind" / Const(2, Int8ul) * "kind 2", "text" / Bytes(3) * "three bytes")
    either = Select(first, second)
    assert serialize_one(either, {"kind": 2, "text": memoryview(b"abc")}, "e") == b"\x02abc"
    values = np.array([5, 6])
    assert serialize_one(either, {"kind": 1, "values": values}, "e") == b"\x01" + Array(2, Int32ul).build([5, 6])
    with pytest.raises(FormatError):
        serialize_one(either, {"kind": 3}, "e")
