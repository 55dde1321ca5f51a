"""Hypothesis strategies for the V3 logs (the project's convention: `valid_files(variant)` and
`broken_files()` per format package, found by the property tests).

Valid files are chains written by memschema's own writer (`ImmortalLogDocument.append`, blocks of
every content variant with any JSON in the tool fields), sometimes with a torn last record, and
`memory.wal` files of those blocks.  Broken files change one field of one record, found through the
record's member spans, and name the finding `validate` must report.
"""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime

from hypothesis import strategies as st

from ...registry import Detection
from .declarations import BLOCK_TYPES, BOUNDARY_TYPES, FILE_OPERATIONS
from .document import ImmortalLogDocument, MemoryWalDocument

_u32 = st.integers(0, 2**32 - 1)
_opt = st.none().__or__
_hash = st.lists(st.integers(0, 255), min_size=32, max_size=32)
_json = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=8)
                     | st.floats(allow_nan=False, allow_infinity=False),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3),
                     max_leaves=6)
_contents = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=40), "role": _opt(st.text(max_size=8)),
                           "tokens": _opt(_u32)}),
    st.fixed_dictionaries({"type": st.just("tool"), "tool_name": st.text(max_size=8), "input": _json,
                           "output": _json, "duration_ms": _opt(st.integers(0, 2**64 - 1)),
                           "success": st.booleans()}),
    st.fixed_dictionaries({"type": st.just("file"), "path": st.text(max_size=20),
                           "operation": st.sampled_from(FILE_OPERATIONS), "content_hash": _opt(_hash),
                           "lines": _opt(_u32), "diff": _opt(st.text(max_size=20))}),
    st.fixed_dictionaries({"type": st.just("decision"), "decision": st.text(max_size=20),
                           "reasoning": _opt(st.text(max_size=20)), "evidence_blocks": st.lists(_hash, max_size=2),
                           "confidence": _opt(st.floats(width=32, allow_nan=False, allow_infinity=False))}),
    st.fixed_dictionaries({"type": st.just("boundary"), "boundary_type": st.sampled_from(BOUNDARY_TYPES),
                           "context_tokens_before": _u32, "context_tokens_after": _u32,
                           "summary": st.text(max_size=20), "continuation_hint": _opt(st.text(max_size=8))}),
    st.fixed_dictionaries({"type": st.just("error"), "error_type": st.text(max_size=8), "message": st.text(max_size=20),
                           "resolution": _opt(st.text(max_size=8)), "resolved": st.booleans()}),
    st.fixed_dictionaries({"type": st.just("checkpoint"), "active_files": st.lists(st.text(max_size=8), max_size=3),
                           "working_context": st.text(max_size=20),
                           "pending_tasks": st.lists(st.text(max_size=8), max_size=3)}),
    st.fixed_dictionaries({"type": st.just("binary"), "data": st.binary(max_size=20).map(
        lambda b: base64.b64encode(b).decode()), "mime_type": st.text(max_size=12)}),
)
_times = st.tuples(st.datetimes(datetime(1970, 1, 1), datetime(9999, 1, 1), timezones=st.just(UTC)),
                   st.sampled_from([0, 5, 120_000_000, 123_456_000, 999_999_999]))


@st.composite
def immortal_logs(draw, torn: bool = True, least: int = 1) -> bytes:
    doc = ImmortalLogDocument.new()
    for _ in range(draw(st.integers(least, 4))):
        when, nanos = draw(_times)
        doc.append(draw(st.sampled_from(BLOCK_TYPES)), draw(_contents), when.replace(microsecond=0), nanos)
    data = doc.build()
    if torn and draw(st.booleans()):
        data += data[:draw(st.integers(1, 40))]       # a crash inside the next append
    return data


@st.composite
def memory_wals(draw) -> bytes:
    log = ImmortalLogDocument.parse(draw(immortal_logs(torn=False)), Detection("amem_log", "immortal_log"))
    wal = MemoryWalDocument.parse(b"", Detection("amem_log", "memory_wal"))
    for block in log.blocks():
        wal.append(block)
    return wal.build()


def valid_files(variant: str | None = None) -> st.SearchStrategy[bytes]:
    if variant == "immortal_log":
        return immortal_logs()
    if variant == "memory_wal":
        return memory_wals()
    return st.one_of(immortal_logs(), memory_wals())


def _log(data: bytes) -> ImmortalLogDocument:
    return ImmortalLogDocument.parse(data, Detection("amem_log", "immortal_log"))


def _digit_changed(data: bytes, at: int) -> bytes:
    """The last digit of the first number of the array at `at` set to 1 or 2 (still 0..255)."""
    out = bytearray(data)
    last = data.index(b",", at) - 1
    out[last] = ord("1") if out[last] != ord("1") else ord("2")
    return bytes(out)


def _mark_x(data: bytes, at: int) -> bytes:
    """The first character of the string at `at` replaced: an enum name serde does not know."""
    out = bytearray(data)
    out[at + 1] = ord("X")
    return bytes(out)


@st.composite
def _member_changed(draw, key: str, change, code: str) -> tuple[bytes, str]:
    """One record's top-level member `key` changed in place (same length, still JSON)."""
    data = draw(immortal_logs(torn=False))
    doc = _log(data)
    i = draw(st.integers(0, len(doc.parsed.records) - 1))
    return change(data, doc.block_offset(i, key)), code


@st.composite
def _torn(draw) -> tuple[bytes, str]:
    data = draw(immortal_logs(torn=False, least=2))
    last = _log(data).parsed.placed["records"].offsets[-1]
    return data[:draw(st.integers(last + 1, len(data) - 1))], "amem_log.torn_tail"


@st.composite
def _zero_length(draw) -> tuple[bytes, str]:
    """A zero block_len with a record after it: upstream never reads that record (the first record
    stays, so the file is still recognised)."""
    data = draw(immortal_logs(torn=False, least=2))
    doc = _log(data)
    last = doc.parsed.placed["records"].offsets[-1]
    return data[:last] + bytes(4) + data[last:], "amem_log.zero_length_record"


@st.composite
def _wal_crc(draw) -> tuple[bytes, str]:
    data = draw(memory_wals())
    doc = MemoryWalDocument.parse(data, Detection("amem_log", "memory_wal"))
    at = doc.offset_of("entries[0].crc32")
    value = struct.unpack_from("<I", data, at)[0] ^ (1 << draw(st.integers(0, 31)))
    return data[:at] + struct.pack("<I", value) + data[at + 4:], "amem_log.wal_crc_mismatch"


def broken_files() -> st.SearchStrategy[tuple[bytes, str]]:
    return st.one_of(_member_changed("hash", _digit_changed, "amem_log.hash_mismatch"),
                     _member_changed("prev_hash", _digit_changed, "amem_log.chain_broken"),
                     _member_changed("block_type", _mark_x, "amem_log.block_unreadable"),
                     _torn(), _zero_length(), _wal_crc())
