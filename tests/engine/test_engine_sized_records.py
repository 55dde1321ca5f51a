"""Engine: a lazy parse follows records that state their own size (a fixed head, then
`Bytes(this.<head field>)`) by their lengths alone, and places exactly what the walk places."""

from __future__ import annotations

import shutil
import sysconfig

import pytest
from construct import (
    Bytes,
    Check,
    Const,
    Enum,
    FixedSized,
    GreedyBytes,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ub,
    Select,
    Struct,
    Switch,
    this,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from memschema import sized_records, walker
from memschema.layout import EOF, Layout, Section
from memschema.sized_records import sized_record

HEAD = Struct("kind" / Int8ul * "record kind", "size" / Int16ul * "payload length")
FRAME = Struct("head" / HEAD * "fixed head", "crc" / Int32ul * "a checksum", "body" / Bytes(this.head.size) * "payload")
# a segment as RVF declares one: magic and version Consts, an Enum, a payload decoded by kind or kept as bytes
POINT = Struct("x" / Int16ul * "x", "y" / Int16ul * "y")
SEGMENT = Struct(
    "head" / Struct("magic" / Const(b"SG") * "magic", "version" / Const(1, Int8ul) * "version",
                    "kind" / Enum(Int8ul, point=1, other=2) * "kind", "size" / Int16ul * "payload length") * "head",
    "body" / FixedSized(this.head.size, Switch(this.head.kind, {"point": Select(POINT, GreedyBytes)},
                                               default=GreedyBytes)) * "payload by kind")


def _layout(decl, count=EOF) -> Layout:
    return Layout("sized", "t", "records", Section("magic", Bytes(2), "two bytes"),
                  Section("recs", decl, "records", count=count))


def test_the_plan_is_derived_from_the_declaration():
    plan = sized_record(FRAME)
    assert (plan.head, plan.length_at, plan.length.format) == (7, 1, "<H")
    # a head that can fail on bytes that are there, or a length that is not a head field: walked
    assert sized_record(Struct("n" / Int32ul * "n", "b" / Bytes(this.n) * "b")).length.size == 4
    # Consts in the head are compared, adjacent ones at once; a payload that takes any bytes is sized
    plan = sized_record(SEGMENT)
    assert (plan.head, plan.length_at, plan.consts) == (6, 4, ((0, b"SG\x01"),))
    assert sized_record(Struct("m" / Check(True) * "check", "n" / Int8ul * "n", "b" / Bytes(this.n) * "b")) is None
    assert sized_record(Struct("n" / Int8ul * "n", "b" / FixedSized(this.n, POINT) * "b")) is None
    assert sized_record(Struct("n" / Int8ul * "n", "b" / Bytes(this.n * 2) * "b")) is None
    assert sized_record(Struct("n" / Int8ul * "n", "b" / Bytes(this.n) * "b", "t" / Int8ul * "t")) is None


_SEGMENT_BYTES = st.builds(lambda kind, body: b"SG\x01" + bytes([kind]) + len(body).to_bytes(2, "little") + body,
                           st.integers(0, 3), st.binary(max_size=9))
RECORDS = {   # bytes that are records now and then, for each declaration
    "frame": st.binary(max_size=120),
    "segment": st.lists(st.one_of(_SEGMENT_BYTES, _SEGMENT_BYTES, st.binary(max_size=6)), max_size=8).map(b"".join),
}


@pytest.mark.parametrize("name, decl", [("frame", FRAME), ("segment", SEGMENT)])
@settings(max_examples=300, deadline=None)
@given(draw=st.data())
def test_lazy_placement_equals_the_walk(name, decl, draw):
    data = draw.draw(RECORDS[name], "data")
    count = draw.draw(st.one_of(st.none(), st.integers(0, 12)), "count")
    layout = _layout(decl, EOF if count is None else count)
    outcomes = []
    for lazy in (False, True):
        try:
            parsed = layout.parse(b"ab" + data, lazy=lazy)
        except ValueError as exc:
            outcomes.append(("error", exc.path, exc.offset, exc.code))
            continue
        placed = parsed.placed["recs"]
        tail = placed.tail and (placed.tail.offset, placed.tail.length, placed.tail.error.path,
                                placed.tail.error.offset)
        outcomes.append((list(placed.offsets), placed.end, tail, [r.body for r in placed.value]))
    assert outcomes[0] == outcomes[1]


def test_a_lazy_parse_walks_only_where_the_chain_stops(monkeypatch):
    body = b"".join(bytes([1, n, 0, 0, 0, 0, 0]) + bytes(n) for n in (3, 0, 5))
    walked = []
    real = walker.Walker.walk

    def walk(self, decl, pos, end, path, ctx, *rest):
        if path.startswith("recs[") and path.endswith("]"):
            walked.append(path)
        return real(self, decl, pos, end, path, ctx, *rest)

    monkeypatch.setattr(walker.Walker, "walk", walk)
    parsed = _layout(FRAME).parse(b"ab" + body + b"\x01\x09", lazy=True)   # then a torn head
    assert list(parsed.placed["recs"].offsets) == [2, 12, 19] and set(walked) == {"recs[3]"}
    assert parsed.placed["recs"].tail.offset == 31
    walked.clear()
    whole = _layout(FRAME).parse(b"ab" + body, lazy=True)
    assert list(whole.placed["recs"].offsets) == [2, 12, 19] and whole.placed["recs"].tail is None and not walked


# -- the compiled chain (memschema._follow) against the Python one --------------------------------------

needs_compiled = pytest.mark.skipif(sized_records._follow is None, reason="memschema._follow is not built here")
PLANS = [sized_record(FRAME), sized_record(SEGMENT),
         sized_record(Struct("m" / Const(b"\x7fQ") * "m", "x" / Int8ul * "x", "v" / Const(2, Int8ul) * "v",
                             "n" / Int64ub * "big-endian u64 length", "b" / Bytes(this.n) * "b"))]


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(st.sampled_from(PLANS), st.data())
def test_the_compiled_chain_is_the_python_chain(plan, draw):
    data = draw.draw(st.one_of(RECORDS["segment"], st.binary(max_size=200)), "data")
    start = draw.draw(st.integers(0, len(data)), "start")
    end = draw.draw(st.integers(start, len(data)), "end")
    count = draw.draw(st.one_of(st.none(), st.integers(0, 10)), "count")
    for buffer in (data, memoryview(bytearray(data))):
        compiled = sized_records.follow(plan, buffer, start, end, count)
        python = sized_records.follow_py(plan, buffer, start, end, count)
        assert (list(compiled[0]), compiled[1]) == (list(python[0]), python[1]), f"{data.hex()} {start}..{end}"


def test_the_compiled_chain_is_built_where_a_compiler_exists():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if not shutil.which(compiler):
        pytest.skip("no C compiler here")
    assert sized_records._follow is not None
