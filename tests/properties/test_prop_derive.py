"""`from_construct` on every construct class it claims to support (synthetic declarations), and
the lossy classes the round-trip properties must catch."""

from __future__ import annotations

import math
import struct

import construct as c
import pytest
from construct import this
from hypothesis import given, settings
from hypothesis import strategies as st

from memschema.strategies import check_bytes_survive, check_value_roundtrip, difference, from_construct

SUPPORTED = {
    "ints_floats": c.Struct("a" / c.Int8sl, "b" / c.Int64ub, "f" / c.Float32l, "d" / c.Float64b,
                            "h" / c.Float16l, "e" / c.BytesInteger(3), "g" / c.Flag),
    "length_field": c.Struct("size" / c.Int32ul, "data" / c.Bytes(this.size)),
    "length_minus_header": c.Struct("total" / c.Int16ul, "body" / c.Bytes(lambda ctx: ctx.total - 4)),
    "count_field": c.Struct("n" / c.Int16ul, "items" / c.Array(this.n, c.Int32ul)),
    "parent_count": c.Struct("n" / c.Int8ul, "inner" / c.Struct("xs" / c.Array(this._.n, c.Int8ul))),
    "prefixed_array": c.PrefixedArray(c.Int8ul, c.Struct("k" / c.Int8ul, "v" / c.Bytes(2))),
    "prefixed": c.Prefixed(c.Int16ul, c.GreedyBytes),
    "greedy": c.Struct("head" / c.Int8ul, "rest" / c.GreedyRange(c.Int16ul)),
    "enum": c.Struct("kind" / c.Enum(c.Int8ul, a=1, b=2)),
    "switch": c.Struct("tag" / c.Int8ul,
                       "body" / c.Switch(this.tag, {1: c.Int32ul, 2: c.Bytes(3)}, default=c.Pass)),
    "switch_on_enum": c.Struct("tag" / c.Enum(c.Int8ul, x=1, y=2),
                               "body" / c.Switch(this.tag, {"x": c.Int16ul, "y": c.Float32l})),
    "const_computed_rebuild": c.Struct("magic" / c.Const(b"AB"), "n" / c.Rebuild(c.Int8ul, c.len_(this.xs)),
                                       "twice" / c.Computed(this.n * 2), "xs" / c.Array(this.n, c.Int8ul)),
    "if_optional": c.Struct("flag" / c.Int8ul, "maybe" / c.If(this.flag == 1, c.Int16ul)),
    "strings": c.Struct("p" / c.PaddedString(8, "utf8"), "cs" / c.CString("utf8"),
                        "ps" / c.PascalString(c.Int8ul, "utf8")),
    "bitstruct": c.BitStruct("a" / c.Flag, "b" / c.BitsInteger(7)),
    "compressed": c.Prefixed(c.Int32ul, c.Compressed(c.GreedyBytes, "zlib")),
    "fixed_sized": c.FixedSized(8, c.GreedyBytes),
    "aligned": c.Aligned(4, c.Bytes(3)),
    "default_varint": c.Struct("v" / c.VarInt, "z" / c.ZigZag, "d" / c.Default(c.Int8ul, 7)),
    "checksum": c.Struct("data" / c.Bytes(4), "crc" / c.Checksum(c.Int32ul, lambda b: sum(b) & 0xFFFFFFFF,
                                                                   this.data)),
    "renamed_docs": c.Struct("x" / c.Int32ul * "a documented field"),
    "hex": c.Struct("h" / c.Hex(c.Int32ul)),
}


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_supported_construct_round_trips(name):
    decl = SUPPORTED[name]

    @settings(max_examples=30)
    @given(from_construct(decl, name=name))
    def check(value):
        check_value_roundtrip(decl, value, name)

    check()


@given(from_construct(SUPPORTED["length_field"]))
def test_dependent_length_agrees(value):
    assert len(value.data) == value.size and value.size <= 64


@given(from_construct(SUPPORTED["switch"]))
def test_switch_reaches_cases(value):
    assert value.body is None or value.tag in (1, 2)


OVERRIDDEN = c.Struct("h" / c.Struct("n" / c.Int8ul), "xs" / c.Array(this.h.n, c.Int8ul))


@given(from_construct(OVERRIDDEN, n=st.just(2), **{"xs": lambda ctx: [ctx.h.n] * ctx.h.n}))
def test_overrides_by_name_and_path(value):
    assert value.h.n == 2 and value.xs == [2, 2]


def test_nan_and_signed_zero_compare_bit_exactly():
    assert difference(0.0, -0.0) is not None
    assert difference(math.nan, math.nan) is None
    other_nan = struct.unpack("<d", bytes.fromhex("010000000000f87f"))[0]
    assert difference(math.nan, other_nan) is not None


def test_floats_include_nan_and_signed_zero():
    seen = set()

    @settings(max_examples=300, database=None)
    @given(from_construct(c.Float32l))
    def collect(x):
        seen.add("nan" if math.isnan(x) else "-0" if x == 0 and math.copysign(1, x) < 0 else "other")

    collect()
    assert {"nan", "-0"} <= seen


def test_unsupported_names_the_path():
    decl = c.Struct("a" / c.Int8ul, "inner" / c.Struct("p" / c.Pointer(8, c.GreedyBytes)))
    with pytest.raises(TypeError, match=r"inner\.p"):
        from_construct(decl)


class _Doubler(c.Adapter):
    def _decode(self, obj, context, path):
        return obj * 2

    def _encode(self, obj, context, path):
        return obj // 2


DOUBLED = c.Struct("x" / _Doubler(c.Int8ul))


@given(from_construct(DOUBLED))
def test_fixed_size_unknown_adapter_is_drawn_from_bytes(value):
    check_value_roundtrip(DOUBLED, value)


# --- the lossy classes the properties exist to find -------------------------------------------

def test_padding_loses_nonzero_bytes():
    decl = c.Struct("a" / c.Int8ul, c.Padding(3))
    with pytest.raises(AssertionError, match="byte offset 2"):
        check_bytes_survive(decl, b"\x01\x00\x07\x00")


def test_flagsenum_loses_unknown_bits():
    decl = c.Struct("f" / c.FlagsEnum(c.Int8ul, a=1, b=2))
    with pytest.raises(AssertionError, match="build → parse → build differs"):
        check_value_roundtrip(decl, {"f": 0x81})


def test_f32_signalling_nan_is_tolerated_only_when_asked():
    snan = bytes.fromhex("0100807f")
    assert check_bytes_survive(c.Float32l, snan)
    with pytest.raises(AssertionError):
        check_bytes_survive(c.Float32l, snan, allow_f32_snan=False)
