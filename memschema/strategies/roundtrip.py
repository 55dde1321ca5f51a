"""The round-trip properties every declaration must have, as plain functions (raise AssertionError
with the declaration, field path and offset), so tests of any tool can apply them."""

from __future__ import annotations

import io
import struct
from typing import Any

from ..parsing import RAW_ERRORS, build, guarded, parse_span
from .compare import difference

QUIET_BIT = 0x00400000    # f32 quiet-NaN bit: CPython < 3.14 sets it when unpacking an f32 NaN


def check_value_roundtrip(decl, value: Any, name: str = "", **context: Any) -> bytes:
    """build → parse → build is byte-identical, parse reads back exactly the bytes built, and
    parse → build → parse is value-identical (floats bit for bit).  Returns the built bytes."""
    first = build(decl, value, name, **context)
    parsed, used = parse_span(decl, first, 0, name, **context)
    assert used == len(first), f"{name}: build wrote {len(first)} bytes, parse read back {used}"
    second = build(decl, parsed, name, **context)
    if second != first:
        at = next((i for i, (a, b) in enumerate(zip(first, second)) if a != b), min(len(first), len(second)))
        raise AssertionError(f"{name}: build → parse → build differs at byte offset {at} "
                             f"({first[at:at + 8].hex()} → {second[at:at + 8].hex()}); "
                             f"{len(first)} vs {len(second)} bytes")
    again, _ = parse_span(decl, second, 0, name, **context)
    diff = difference(parsed, again)
    assert diff is None, f"{name}: parse → build → parse changed the value at {diff}"
    return first


def _quieted_nan(orig: bytes, rebuilt: bytes, at: int) -> bool:
    """Whether the difference at `at` is an f32 signalling NaN that unpacking quieted."""
    for start in range(max(0, at - 3), min(at, len(orig) - 4) + 1):
        for order in "<>":
            (a,) = struct.unpack_from(order + "I", orig, start)
            (b,) = struct.unpack_from(order + "I", rebuilt, start)
            if a != b and (a & 0x7F800000) == 0x7F800000 and a & 0x007FFFFF and b == a | QUIET_BIT:
                return True
    return False


def check_bytes_survive(decl, data: bytes, name: str = "", allow_f32_snan: bool = True, **context: Any) -> bool:
    """If `decl` parses `data`, building the parsed value gives back exactly the bytes parsed
    (this is what catches construct's `Padding`, `Flag`, `FlagsEnum` and other lossy classes).
    Returns False when `data` does not parse.  `allow_f32_snan` tolerates the one loss CPython
    < 3.14 itself causes: f32 signalling NaNs come back quieted."""
    stream = io.BytesIO(data)
    try:   # construct directly: most perturbed inputs fail, and parse_span's error tracing is slow
        with guarded():
            parsed = decl.parse_stream(stream, **context)
    except RAW_ERRORS:
        return False
    used = stream.tell()
    rebuilt = build(decl, parsed, name, **context)
    original = data[:used]
    if rebuilt == original:
        return True
    if len(rebuilt) == len(original) and allow_f32_snan:
        diffs = [i for i, (a, b) in enumerate(zip(original, rebuilt)) if a != b]
        if all(_quieted_nan(original, rebuilt, i) for i in diffs):
            return True
    at = next((i for i, (a, b) in enumerate(zip(original, rebuilt)) if a != b), min(len(original), len(rebuilt)))
    raise AssertionError(f"{name}: bytes do not survive parse → build: first difference at byte offset {at} "
                         f"({original[at:at + 8].hex()} → {rebuilt[at:at + 8].hex()}), "
                         f"{len(original)} vs {len(rebuilt)} bytes")
