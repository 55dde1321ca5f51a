"""Engine: construct failures become FormatError with the innermost field path and absolute offset."""

from __future__ import annotations

import numpy as np
import pytest
from construct import (
    Array,
    Bytes,
    Const,
    Enum,
    FixedSized,
    Float32l,
    GreedyRange,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    Padding,
    PrefixedArray,
    Struct,
    this,
)

from memschema import FormatError
from memschema.dtypes import floats, struct_dtype, table
from memschema.parsing import build, locate, parse, parse_span

item = Struct("kind" / Int8ul, "size" / Int16ul, "data" / Bytes(this.size))
doc = Struct("magic" / Const(b"DOC1"), "count" / Int32ul, "items" / Array(this.count, item),
             "tail" / FixedSized(8, Struct("a" / Int32ul, "b" / Int32ul)))


def _good() -> bytes:
    return doc.build({"magic": b"DOC1", "count": 2, "items": [{"kind": 1, "size": 3, "data": b"abc"},
                                                                 {"kind": 2, "size": 1, "data": b"z"}],
                      "tail": {"a": 1, "b": 2}})


def test_parse_at_an_offset_of_a_larger_buffer():
    data = b"\xff" * 10 + _good()
    value, consumed = parse_span(doc, data, 10)
    assert consumed == len(_good()) and value["items"][1].data == b"z"


def test_bad_const_names_field_and_offset():
    data = b"\0" * 5 + b"DOC2" + _good()[4:]
    with pytest.raises(FormatError) as exc:
        parse(doc, data, 5, "file")
    assert (exc.value.path, exc.value.offset) == ("file.magic", 5)


def test_truncation_inside_an_array_element():
    data = _good()[:4 + 4 + 3 + 3 + 2]  # second item's size field cut after its first byte
    with pytest.raises(FormatError) as exc:
        parse(doc, data)
    assert exc.value.path == "items[1].size"
    assert exc.value.offset == 4 + 4 + 6 + 1
    assert exc.value.code == "truncated"


def test_truncation_inside_a_fixed_sized_substream_reports_the_absolute_offset():
    good = _good()
    bad = good[:-8] + b"\0\0\0\0"  # tail shortened: FixedSized reads 8 bytes, only 4 exist
    with pytest.raises(FormatError) as exc:
        parse(doc, bad)
    assert exc.value.path == "tail"
    assert exc.value.offset == len(good) - 8


def test_huge_count_is_a_format_error_not_an_allocation():
    bad = b"DOC1" + (0xFFFFFFFF).to_bytes(4, "little")
    with pytest.raises(FormatError) as exc:
        parse(doc, bad)
    assert exc.value.path == "items" and exc.value.offset == 8  # refused before the first element


def test_build_errors_are_format_errors():
    with pytest.raises(FormatError):
        build(doc, {"magic": b"DOC1", "count": 1, "items": []}, "doc")


def test_locate_static_and_dynamic_fields():
    value = parse(doc, _good())
    assert locate(doc, value, "count") == 4
    assert locate(doc, value, "items[1].size") == 8 + 6 + 1
    assert locate(doc, value, "items[1].data") == 8 + 6 + 3
    assert locate(doc, value, "tail") == len(_good()) - 8


record = Struct("id" / Int64ul, "kind" / Enum(Int8ul, a=0, b=1), "pad" / Padding(3), "w" / Float32l,
                "tag" / Bytes(2), "xs" / Array(2, Int16ul))


def test_numpy_dtype_is_derived_from_the_struct():
    dt = struct_dtype(record)
    assert dt.itemsize == record.sizeof() == 8 + 1 + 3 + 4 + 2 + 4
    assert dt.names == ("id", "kind", "w", "tag", "xs")
    assert dt.fields["w"][1] == 12
    raw = b"".join(record.build({"id": i, "kind": "b", "w": i / 2, "tag": b"xy", "xs": [i, 7]}) for i in range(5))
    arr = table(record, b"\0" + raw, 1, 5, "records")
    assert arr["id"].tolist() == list(range(5))
    assert arr["w"].tolist() == [i / 2 for i in range(5)]
    assert arr[3]["xs"].tolist() == [3, 7]
    assert not arr.flags.owndata  # a view over the bytes


def test_numpy_views_check_the_extent_before_viewing():
    with pytest.raises(FormatError) as exc:
        table(record, b"\0" * 50, 10, 2, "nodes")
    assert (exc.value.path, exc.value.offset, exc.value.code) == ("nodes", 10, "truncated")
    with pytest.raises(FormatError):
        floats(b"\0" * 16, 4, 10**12, "vectors")
    assert floats(np.arange(4, dtype="<f4").tobytes(), 4, 3, "v").tolist() == [1.0, 2.0, 3.0]


def test_greedy_range_failure_is_not_reported_as_an_error():
    blocks = Struct("items" / GreedyRange(Struct("x" / Int32ul)), "rest" / Bytes(2))
    with pytest.raises(FormatError) as exc:
        parse(blocks, b"\x01\0\0\0\x02\0\0\0\x09")  # rest needs 2 bytes after the greedy range, only 1
    assert exc.value.path == "rest" and exc.value.offset == 8


def test_prefixed_array_counts_are_checked_against_the_bytes():
    pa = PrefixedArray(Int32ul, Int64ul)
    with pytest.raises(FormatError) as exc:
        parse(pa, (10**9).to_bytes(4, "little") + b"\0" * 16, 0, "ids")
    assert exc.value.path == "ids" and exc.value.offset == 4
    with pytest.raises(FormatError) as exc:  # a plausible count still fails where the bytes end
        parse(pa, (3).to_bytes(4, "little") + b"\0" * 16, 0, "ids")
    assert exc.value.path == "ids[2]" and exc.value.offset == 4 + 16


def test_arrays_of_empty_elements_cannot_declare_billions_of_elements():
    """12 bytes declaring 2^32 - 1 empty centroids: a FormatError at once, not 4 billion lists."""
    decl = Struct("n" / Int32ul, "dim" / Int32ul, "centroids" / Array(this.n, Array(this.dim, Float32l)))
    with pytest.raises(FormatError) as exc:
        parse(decl, (0xFFFFFFFF).to_bytes(4, "little") + bytes(4))
    assert exc.value.path == "centroids" and exc.value.offset == 8
    small = parse(decl, (1000).to_bytes(4, "little") + bytes(4))  # a few empty elements stay legal
    assert len(small.centroids) == 1000


def test_nested_arrays_of_empty_elements_share_one_budget():
    inner = Struct("n" / Int32ul, "m" / Int32ul, "k" / Int32ul,
                   "grid" / Array(this.n, Array(this.m, Bytes(this.k))))
    data = (60000).to_bytes(4, "little") * 2 + bytes(4)  # 60000 x 60000 empty cells = 3.6e9 lists
    with pytest.raises(FormatError) as exc:
        parse(inner, data)
    assert exc.value.path.startswith("grid[")  # refused part-way, long before 3.6e9 lists exist


def test_field_offset_behind_a_const_and_behind_variable_fields():
    """Offsets from the declaration alone: fixed-size fields (a `Const` included) by their sizes,
    fields behind variable-size ones through an all-zero instance."""
    from memschema.parsing import field_offset
    head = Struct("magic" / Const(b"ST8"), "version" / Int8ul, "frame" / Struct("a" / Int32ul, "b" / Int32ul))
    assert [field_offset(head, p) for p in ("magic", "version", "frame", "frame.b")] == [0, 3, 4, 8]
    assert field_offset(item, "data") == 3
    assert field_offset(Struct("n" / Int8ul, "blob" / Bytes(this.n), "after" / Int16ul), "after") == 1
