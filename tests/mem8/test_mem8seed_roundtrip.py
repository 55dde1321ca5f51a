"""Seed format: hypothesis round trips of the header and block declarations and of whole files."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.formats.mem8.seed import CONTENT_AREA, seed_block, seed_header
from memschema.formats.mem8.seed_store import SeedDocument

u = lambda bits: st.integers(0, (1 << bits) - 1)  # noqa: E731
f64 = st.floats(allow_nan=True, allow_infinity=True)

headers = st.fixed_dictionaries({
    "magic": st.just(b"MEM8"), "version": u(8), "flags": u(8), "block_count": u(32),
    "identity_freq": f64, "temporal_phase": f64, "crc32": u(32)})
blocks = st.fixed_dictionaries({
    "index": u(64), "wave_signature": st.binary(min_size=16, max_size=16), "timestamp": u(64),
    "importance": u(16), "token_id": u(16), "prev_hash": st.binary(min_size=32, max_size=32),
    "content_len": u(32), "content_area": st.binary(min_size=CONTENT_AREA, max_size=CONTENT_AREA)})


def _bits(value):
    """Values compared bit-exactly (NaN payloads and signed zeros included)."""
    if isinstance(value, float):
        return struct.pack("<d", value)
    if isinstance(value, dict):
        return {k: _bits(v) for k, v in value.items() if not k.startswith("_")}
    return value


@given(headers)
def test_header_build_parse_build(h):
    raw = seed_header.build(h)
    assert len(raw) == 30
    parsed = seed_header.parse(raw)
    assert _bits(parsed) == _bits(h)
    assert seed_header.build(parsed) == raw


@given(blocks)
def test_block_build_parse_build(b):
    raw = seed_block.build(b)
    parsed = seed_block.parse(raw)
    assert _bits(parsed) == _bits(b)
    assert seed_block.build(parsed) == raw


@given(st.lists(st.tuples(st.binary(max_size=5000), st.floats(allow_nan=True), u(64)), max_size=6),
       st.floats(allow_nan=False, allow_infinity=False), st.binary(max_size=4095))
def test_whole_file_load_dump_is_identity(appends, freq, trailing):
    doc = SeedDocument.new(identity_freq=freq)
    for content, importance, ts in appends:
        doc.append_block(content, importance, timestamp=ts)
    raw = doc.build() + trailing
    loaded = memschema.load(raw)
    assert loaded.variant == "seed"
    assert memschema.dump(loaded) == raw
    assert [loaded.content(i) for i in range(len(appends))] == [c[:CONTENT_AREA] for c, _, _ in appends]
    codes = memschema.validate(raw).codes()
    assert ("mem8.trailing_partial_block" in codes) == bool(trailing)
    assert "mem8.wave_signature_mismatch" not in codes
