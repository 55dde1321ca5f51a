"""Engine: a lazy parse follows records that state their own size (a fixed head, then
`Bytes(this.<head field>)`) by their lengths alone, and places exactly what the walk places."""

from __future__ import annotations

from construct import Bytes, Const, Int8ul, Int16ul, Int32ul, Struct, this
from hypothesis import given, settings
from hypothesis import strategies as st

from memschema import walker
from memschema.layout import EOF, Layout, Section
from memschema.sized_records import sized_record

HEAD = Struct("kind" / Int8ul * "record kind", "size" / Int16ul * "payload length")
FRAME = Struct("head" / HEAD * "fixed head", "crc" / Int32ul * "a checksum", "body" / Bytes(this.head.size) * "payload")


def _layout(decl, count=EOF) -> Layout:
    return Layout("sized", "t", "records", Section("magic", Bytes(2), "two bytes"),
                  Section("recs", decl, "records", count=count))


def test_the_plan_is_derived_from_the_declaration():
    plan = sized_record(FRAME)
    assert (plan.head, plan.length_at, plan.length.format) == (7, 1, "<H")
    # a head that can fail on bytes that are there, or a length that is not a head field: walked
    assert sized_record(Struct("n" / Int32ul * "n", "b" / Bytes(this.n) * "b")).length.size == 4
    assert sized_record(Struct("m" / Const(b"M") * "magic", "n" / Int8ul * "n", "b" / Bytes(this.n) * "b")) is None
    assert sized_record(Struct("n" / Int8ul * "n", "b" / Bytes(this.n * 2) * "b")) is None
    assert sized_record(Struct("n" / Int8ul * "n", "b" / Bytes(this.n) * "b", "t" / Int8ul * "t")) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.one_of(st.none(), st.integers(0, 12)))
def test_lazy_placement_equals_the_walk(data, count):
    layout = _layout(FRAME, EOF if count is None else count)
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
        outcomes.append((list(placed.offsets), placed.end, tail, [bytes(r.body) for r in placed.value]))
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
