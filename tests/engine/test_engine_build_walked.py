"""Engine: what the walker parsed (numpy tables for fixed-size records, with enum and byte-string
fields) builds back through construct to the same bytes."""

from __future__ import annotations

import numpy as np
from construct import Array, Bytes, Enum, Float32l, GreedyBytes, Int8ul, Int16ul, Int64ul, Struct, this

from memschema.parsing import build, constructible
from memschema.walker import parse_value

entry = Struct(
    "kind" / Enum(Int8ul, small=1, large=2) * "an enum field",
    "tag" / Bytes(3) * "a byte-string field",
    "values" / Array(this._.width, Float32l) * "floats of the enclosing record's width",
)
payload = Struct(
    "width" / Int16ul * "floats per entry",
    "count" / Int16ul * "entries",
    "entries" / Array(this.count, entry) * "the entries",
    "ids" / Array(this.count, Int64ul) * "one id per entry",
    "rest" / GreedyBytes * "trailing bytes",
)


def test_walked_tables_build_back_byte_for_byte():
    value = {"width": 2, "count": 3, "rest": b"\x09",
             "entries": [{"kind": k, "tag": t, "values": [i, i / 4]}
                         for i, (k, t) in enumerate([("small", b"abc"), ("large", b"xyz"), (7, b"\0\1\2")])],
             "ids": [5, 1 << 63, 0]}
    data = payload.build(value)
    walked, _ = parse_value(payload, data)
    assert isinstance(walked.entries, np.ndarray) and isinstance(walked.ids, np.ndarray)
    assert build(payload, walked) == data
    plain = constructible(walked)
    assert plain.entries[2].kind == 7 and plain.entries[0].tag == b"abc" and plain.ids[1] == 1 << 63


def test_values_without_numpy_are_left_as_they_are():
    value = payload.parse(payload.build({"width": 1, "count": 1, "entries": [{"kind": 1, "tag": b"abc",
                                                                                "values": [1.5]}],
                                         "ids": [3], "rest": b""}))
    assert constructible(value) is value


def test_locate_finds_fields_inside_walked_tables():
    from memschema.parsing import locate
    value = {"width": 2, "count": 2, "rest": b"",
             "entries": [{"kind": 1, "tag": b"abc", "values": [0, 1]}, {"kind": 2, "tag": b"def", "values": [2, 3]}],
             "ids": [5, 6]}
    data = payload.build(value)
    walked, _ = parse_value(payload, data)
    size = 1 + 3 + 2 * 4
    assert locate(payload, walked, "entries[1].tag") == 4 + size + 1
    assert locate(payload, walked, "ids[1]") == 4 + 2 * size + 8
    assert locate(entry, walked.entries[1], "values") == 4     # a numpy record on its own


def test_locate_follows_the_switch_case_a_record_took():
    from construct import FixedSized, Select, Switch

    from memschema.parsing import locate
    framed = Struct(
        "kind" / Int8ul * "which body",
        "size" / Int16ul * "body bytes",
        "body" / FixedSized(this.size, Switch(this.kind, {1: Select(payload, GreedyBytes)}, default=GreedyBytes))
        * "the body",
    )
    inner = payload.build({"width": 1, "count": 2, "rest": b"",
                           "entries": [{"kind": 1, "tag": b"abc", "values": [0]}] * 2, "ids": [5, 6]})
    data = framed.build({"kind": 1, "size": len(inner), "body": inner})
    walked, _ = parse_value(framed, data)
    assert locate(framed, walked, "body.ids[1]") == 3 + 4 + 2 * 8 + 8


def test_locate_needs_only_the_fields_before_the_one_it_places():
    from memschema.parsing import locate
    head = {"width": 2, "count": 3}                  # what precedes `entries` and `ids`: enough to place them
    assert locate(payload, head, "ids") == 4 + 3 * (1 + 3 + 2 * 4)
