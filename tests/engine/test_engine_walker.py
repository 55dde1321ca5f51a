"""Engine: the walker's fast path for Structs of plain fields gives the values and the errors of
the field-by-field walk (and of construct)."""

from __future__ import annotations

import pytest
from construct import (
    Bytes,
    Const,
    Default,
    Enum,
    FlagsEnum,
    GreedyRange,
    Int8ul,
    Int16ub,
    Int16ul,
    Int32ul,
    Struct,
    this,
)
from hypothesis import given
from hypothesis import strategies as st

from memschema import FormatError
from memschema.walker import _plain_plan, parse_value

record = Struct("magic" / Const(b"RC"), "kind" / Int8ul, "size" / Int32ul, "big" / Int16ub,
                "flag" / Default(Int8ul, 1), "data" / Bytes(this.size), "tail" / Int8ul)
adapted = Struct("kind" / Enum(Int8ul, vec=1, manifest=2), "flags" / FlagsEnum(Int16ul, signed=1, sealed=4),
                 "n" / Int8ul, "data" / Bytes(this.n))


def test_plain_structs_get_a_plan_and_others_do_not():
    assert _plain_plan(record) is not None
    assert _plain_plan(Struct("a" / Int8ul, "b" / Struct("c" / Int8ul))) is not None
    assert _plain_plan(Struct("a" / Int8ul, "b" / GreedyRange(Int8ul))) is None
    assert [step[0] for step in _plain_plan(adapted)[0]] == ["fmt", "bytes"]   # one unpack for the numbers


@given(st.integers(0, 255), st.integers(0, 65535), st.binary(max_size=20))
def test_adapted_numbers_are_construct_values(kind, flags, data):
    """Enum and FlagsEnum fields decode in the plan as construct decodes them (unknown values too)."""
    raw = adapted.build({"kind": kind, "flags": flags, "n": len(data), "data": data})
    got, end = parse_value(adapted, raw)
    want = adapted.parse(raw)
    assert end == len(raw)
    assert (got.kind, int(got.kind), dict(got.flags), got.data) == (want.kind, int(want.kind), dict(want.flags),
                                                                      want.data)
    assert type(got.kind) is type(want.kind)


@given(st.integers(0, 255), st.binary(max_size=40), st.integers(0, 65535), st.integers(0, 255))
def test_values_are_construct_values(kind, data, big, tail):
    raw = record.build({"kind": kind, "size": len(data), "big": big, "data": data, "tail": tail})
    got, end = parse_value(record, raw + b"rest")
    assert end == len(raw)
    assert {k: v for k, v in got.items() if not k.startswith("_")} == \
        {k: v for k, v in record.parse(raw).items() if not k.startswith("_")}


@pytest.mark.parametrize(("damage", "path", "offset", "code"), [
    (lambda raw: b"XX" + raw[2:], "r.magic", 0, "bad_magic"),
    (lambda raw: raw[:5], "r.size", 3, "truncated"),
    (lambda raw: raw[:12], "r.data", 10, "truncated"),
    (lambda raw: raw[:-1], "r.tail", 13, "truncated"),
])
def test_errors_are_the_walks(damage, path, offset, code):
    raw = record.build({"kind": 1, "size": 3, "big": 2, "data": b"abc", "tail": 5})
    with pytest.raises(FormatError) as info:
        parse_value(record, damage(raw), 0, "r")
    assert (info.value.path, info.value.offset, info.value.code) == (path, offset, code)


@given(st.binary(min_size=1, max_size=300), st.data())
def test_gather_is_each_record_read_where_it_starts(data, draw):
    """`gather` copies the record at each offset (any alignment, overlapping, repeated, unsorted)."""
    from memschema.dtypes import struct_dtype
    from memschema.walker import gather
    decl = Struct("kind" / Int8ul * "k", "size" / Int16ub * "s", "crc" / Int32ul * "c")
    dtype = struct_dtype(decl)
    offsets = draw.draw(st.lists(st.integers(0, max(len(data) - dtype.itemsize, 0)), max_size=20)
                        if len(data) >= dtype.itemsize else st.just([]))
    table = gather(data, dtype, offsets)
    assert table.dtype == dtype and len(table) == len(offsets)
    for row, at in zip(table, offsets):
        assert row.tobytes() == data[at:at + dtype.itemsize]
