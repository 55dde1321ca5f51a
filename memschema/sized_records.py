"""Records that state their own size: a head of fixed size, then `Bytes(this.<head field>)` or
`FixedSized(this.<head field>, ...)` of a payload that takes any bytes (a `Switch` or `Select` that
falls back to `GreedyBytes`: whatever the payload holds, the record ends there).

A lazy parse (`Layout.parse(lazy=True)`) keeps only where each record starts.  For such records
that is found by reading one length per record at its offset in the head, and comparing the head's
`Const`s (a magic, a version) with the bytes at their offsets, instead of walking every field: a
journal of 20,000 frames or a store of 3,000 segments is placed in milliseconds.  The plan is
derived from the declaration; anything it does not cover (a `Check` in the head, a computed length,
a field after the payload) is walked as before.  Where the chain stops early, the caller walks that
one record to get the exact error.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from functools import cache

import construct as c

from .parsing import field_offset
from .walker import _strip, this_path

try:
    from . import _follow
except ImportError:   # no compiler when memschema was installed
    _follow = None


@dataclass(frozen=True)
class SizedRecord:
    head: int               # bytes before the sized payload
    length_at: int          # offset of the length field within the record
    length: struct.Struct   # format of the length field
    consts: tuple[tuple[int, bytes], ...] = ()   # (offset in the record, bytes) each head must hold


def _plain_field(sc: c.Construct) -> c.Construct | None:
    """The field itself when parsing it can never fail on bytes that are there (no Const, no Check;
    an Enum gives an integer for a value it does not name)."""
    while isinstance(sc, (c.Renamed, c.Default)):
        sc = sc.subcon
    if isinstance(sc, (c.Enum, c.FlagsEnum)) and isinstance(_strip(sc.subcon), c.FormatField):
        return sc
    if isinstance(sc, c.FormatField) and sc.fmtstr[0] in "<>":
        return sc
    if isinstance(sc, c.Bytes) and isinstance(sc.length, int):
        return sc
    if isinstance(sc, c.Struct):
        return sc if all(_plain_field(f) is not None for f in sc.subcons) else None
    return None


def _takes_any_bytes(sc: c.Construct) -> bool:
    """Does parsing `sc` succeed on any bytes (so a `FixedSized` of it is decided by its length)?"""
    sc = _strip(sc)
    if isinstance(sc, type(c.GreedyBytes)):
        return True
    if isinstance(sc, c.Select):
        return any(_takes_any_bytes(s) for s in sc.subcons)
    if isinstance(sc, c.Switch):
        cases = sc.cases.values() if isinstance(sc.cases, dict) else None
        return cases is not None and all(_takes_any_bytes(s) for s in (*cases, sc.default))
    return isinstance(sc, type(c.Pass))


def _head_consts(fields, at: int, out: list) -> bool:
    """Collect the `Const`s of a head as (offset, bytes); False when some other field can fail."""
    for sc in fields:
        while isinstance(sc, c.Renamed):
            sc = sc.subcon
        if isinstance(sc, c.Const) and _plain_field(sc.subcon) is not None:
            out.append((at, sc.build(None)))
        elif isinstance(sc, c.Struct):
            if not _head_consts(sc.subcons, at, out):
                return False
        elif _plain_field(sc) is None:
            return False
        at += sc.sizeof()
    return True


def _field(struct_: c.Struct, names: list[str]) -> c.Construct | None:
    sc: c.Construct = struct_
    for name in names:
        sc = _strip(sc)
        if not isinstance(sc, c.Struct):
            return None
        sc = next((f for f in sc.subcons if f.name == name), None)
        if sc is None:
            return None
    return _plain_field(sc)


@cache
def sized_record(decl: c.Construct) -> SizedRecord | None:
    inner = _strip(decl)
    if not isinstance(inner, c.Struct) or len(inner.subcons) < 2:
        return None
    *fields, last = inner.subcons
    payload = _strip(last)
    consts: list = []
    if isinstance(payload, c.FixedSized) and not _takes_any_bytes(payload.subcon):
        return None
    if not isinstance(payload, (c.Bytes, c.FixedSized)) or not _head_consts(fields, 0, consts):
        return None
    names = this_path(payload.length)
    if not names or names[0] not in {f.name for f in fields}:
        return None
    length = _field(inner, names)
    if not isinstance(length, c.FormatField) or length.fmtstr[-1] not in "BHILQ":
        return None
    head = c.Struct(*fields).sizeof()
    if head == 0:
        return None
    return SizedRecord(head, field_offset(inner, ".".join(names)), struct.Struct(length.fmtstr), _merged(consts))


def _merged(consts: list) -> tuple:
    """Adjacent Consts as one comparison (a magic then a version: one slice per record)."""
    out: list = []
    for at, value in consts:
        if out and out[-1][0] + len(out[-1][1]) == at:
            out[-1] = (out[-1][0], out[-1][1] + value)
        else:
            out.append((at, value))
    return tuple(out)


def follow(plan: SizedRecord, data, start: int, end: int, count: int | None) -> tuple[array, int]:
    """(offsets of the complete records from `start`, where the chain stopped): at `end`, after
    `count` records, or at the first record whose head or payload does not fit before `end` or
    whose head does not hold its `Const`s.  In C when `memschema._follow` was built."""
    if _follow is None:
        return follow_py(plan, data, start, end, count)
    raw, at = _follow.follow(data, start, end, -1 if count is None else count, plan.head, plan.length_at,
                             plan.length.size, plan.length.format[0] == ">", plan.consts)
    offsets = array("q")
    offsets.frombytes(raw)
    return offsets, at


def follow_py(plan: SizedRecord, data, start: int, end: int, count: int | None) -> tuple[array, int]:
    """`follow` in Python (the fallback without a compiler, and the C version's reference)."""
    offsets = array("q")
    consts = plan.consts
    append = offsets.append
    unpack = plan.length.unpack_from
    head, length_at = plan.head, plan.length_at
    at = start
    limit = end - head
    while at <= limit and (count is None or len(offsets) < count):
        if consts and any(data[at + k:at + k + len(b)] != b for k, b in consts):
            break   # the walk of this record names the field
        after = at + head + unpack(data, at + length_at)[0]
        if after > end:
            break
        append(at)
        at = after
    return offsets, at
