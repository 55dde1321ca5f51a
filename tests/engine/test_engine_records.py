"""Engine: records built in bulk (numpy arrays and column-wise variable records inside a Struct)
give exactly construct's bytes; vector tables of dimension 0; negative section sizes; contexts
read through a section (`this._.header.node_count`) drawn by the strategies."""

from __future__ import annotations

import numpy as np
import pytest
from construct import (
    Array,
    Bytes,
    Const,
    Default,
    Float32l,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    Rebuild,
    Struct,
    len_,
    this,
)
from hypothesis import given, settings

from memschema.errors import FormatError
from memschema.layout import Layout, Section
from memschema.records import Columns, fill, serialize_columns, serialize_one
from memschema.strategies import external_context, from_construct

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
