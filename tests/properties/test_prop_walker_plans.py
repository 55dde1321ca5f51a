"""The walker reads Structs of plain fields through a plan (one `unpack_from` per run of numbers,
numpy views for arrays, Optional/If of fixed fields); every registered declaration must give
through it exactly the values, or the error (path, offset, code), of the field-by-field walk, on
its own valid builds and on those builds cut short or with bytes flipped.

The parameter list is `memschema.declarations()` itself, so a new declaration cannot escape."""

from __future__ import annotations

import math
import random
from functools import partial

import numpy as np
import pytest
from construct import ListContainer
from corpus_support import CORPUS, corpus_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from properties.test_prop_declarations import KNOWN_LOSSY

import memschema
from memschema import walker
from memschema.errors import FormatError
from memschema.parsing import build
from memschema.strategies import from_construct

DECLARATIONS = memschema.declarations()

CHECK = settings(max_examples=max(10, settings.default.max_examples // 4),
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.filter_too_much, HealthCheck.large_base_example])


def plain(value):
    """A value in comparable form (numpy views and construct containers alike)."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.descr, value.shape, value.tobytes())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, (list, ListContainer)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, str):          # EnumIntegerString and plain strings
        return (type(value).__name__, str(value), int(value) if hasattr(value, "int") else None)
    return value


def outcome(read, planned: bool, monkeypatch):
    """`read()` (a walk giving (value, end)) through the plans, or with every plan refused."""
    if not planned:
        monkeypatch.setattr(walker, "_plain_plan", lambda sc: None)
    try:
        value, end = read()
        return plain(value), end
    except FormatError as exc:
        return exc.path, exc.offset, exc.code
    finally:
        monkeypatch.undo()


def _params():
    for name in sorted(DECLARATIONS):
        if name not in KNOWN_LOSSY:      # values from_construct cannot draw
            yield pytest.param(name, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_plans_read_what_the_walk_reads(name, monkeypatch):
    decl = DECLARATIONS[name]

    @CHECK
    @given(from_construct(decl, name=name, with_context=True), st.data())
    def check(drawn, data):
        value, context = drawn
        built = bytearray(build(decl, value, name, **context))
        if built and data.draw(st.booleans(), label="damage"):
            for _ in range(data.draw(st.integers(1, 3), label="flips")):
                built[data.draw(st.integers(0, len(built) - 1), label="offset")] ^= data.draw(st.integers(1, 255))
        cut = data.draw(st.integers(0, len(built)), label="cut") if data.draw(st.booleans()) else len(built)
        raw = bytes(built[:cut])
        got = [outcome(lambda: walker.parse_value(decl, raw, 0, "v", **context), planned, monkeypatch)
               for planned in (True, False)]
        assert got[0] == got[1]

    check()


def _real_files() -> list:
    files = []
    for sub in ("mem8", "rvf", "amem"):
        files += [pytest.param(sub, name, id=f"{sub}/{name}") for name in corpus_files(sub)]
    return files


@pytest.mark.parametrize("sub, name", _real_files())
def test_plans_read_real_records_as_the_walk_does(sub, name, monkeypatch):
    """Each record of each repeated section of every corpus file (the layouts' own declarations,
    e.g. an RVF segment: header, then its payload by `seg_type` inside `payload_length` bytes),
    read at its span through the plans and by the walk, intact and with bytes flipped."""
    path = CORPUS / sub / name
    try:
        doc = memschema.load(path)
    except FormatError:
        pytest.skip("not a file a layout reads on its own")
    parsed = getattr(doc, "parsed", None)
    if parsed is None:
        pytest.skip("no layout")
    data = bytes(parsed.data)
    rng = random.Random(name)
    for placed in parsed.placed.values():
        if placed.offsets is None:
            continue
        for i in range(min(len(placed.offsets), 40)):
            start, stop = placed.record_span(i)
            for flips in (0, 1, 3):
                raw = bytearray(data)
                for _ in range(flips if stop > start else 0):
                    raw[rng.randrange(start, stop)] ^= rng.randrange(1, 256)
                read = partial(_walk, placed.section.decl, bytes(raw), start, stop, parsed.context)
                got = [outcome(read, planned, monkeypatch) for planned in (True, False)]
                assert got[0] == got[1], f"{sub}/{name} {placed.section.name}[{i}] at {start} ({flips} flips)"


def _walk(decl, data: bytes, start: int, stop: int, ctx):
    return walker.Walker(data).walk(decl, start, stop, "r", ctx)
