"""Hypothesis strategies for whole `transport.wal` files (the project's convention:
`valid_files()` and `broken_files()` per format package, found by the property tests).

Valid files are written by memschema's own writer (`AmemWalDocument.append`), sometimes with a torn
final append (a warning, not an error).  Broken files damage one field, located through the
declarations, and name the finding `validate` must report.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from ...parsing import field_offset
from .declarations import ENTRY_HEAD_SIZE, MAX_ENTRY_BYTES, mwal_entry_head
from .document import AmemWalDocument

_messages = st.one_of(st.binary(min_size=1, max_size=300),
                      st.text(min_size=1, max_size=80).map(lambda t: f'{{"jsonrpc":"2.0","params":{t!r}}}'.encode()))


@st.composite
def wal_files(draw, torn: bool = True) -> bytes:
    doc = AmemWalDocument.new(draw(st.binary(min_size=16, max_size=16)), draw(st.integers(0, 2**40)))
    t = draw(st.integers(0, 2**62))
    for message, direction in draw(st.lists(st.tuples(_messages, st.sampled_from(("inbound", "outbound"))),
                                            min_size=1, max_size=6)):
        t += draw(st.integers(0, 10**9))
        doc.append(message, direction, t)
    data = doc.build()
    if torn and draw(st.booleans()):
        entry = data[doc.parsed.placed["entries"].start:]
        data += entry[:draw(st.integers(1, ENTRY_HEAD_SIZE + 2))]   # a crash inside the next append
    return data


def valid_files(variant: str | None = None) -> st.SearchStrategy[bytes]:
    return wal_files()


def _entry_at(data: bytes, index: int) -> int:
    return AmemWalDocument.parse(data, None).parsed.placed["entries"].offsets[index]


def _put(data: bytes, at: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


@st.composite
def _entry_field(draw) -> tuple[bytes, int, int]:
    """A valid file, an entry index and its start."""
    data = draw(wal_files(torn=False))
    n = len(AmemWalDocument.parse(data, None).parsed.entries)
    i = draw(st.integers(0, n - 1))
    return data, i, _entry_at(data, i)


@st.composite
def _crc(draw) -> tuple[bytes, str]:
    data, _, start = draw(_entry_field())
    at = start + ENTRY_HEAD_SIZE
    out = bytearray(data)
    out[at] ^= draw(st.integers(1, 255))
    return bytes(out), "amem_wal.crc_mismatch"


@st.composite
def _direction(draw) -> tuple[bytes, str]:
    data, _, start = draw(_entry_field())
    at = start + field_offset(mwal_entry_head, "direction")
    return _put(data, at, "<B", draw(st.integers(2, 255))), "amem_wal.direction"


@st.composite
def _total_len(draw) -> tuple[bytes, str]:
    """total_len below the fixed head or above upstream's limit."""
    data, _, start = draw(_entry_field())
    value = draw(st.one_of(st.integers(0, ENTRY_HEAD_SIZE - 1), st.integers(MAX_ENTRY_BYTES + 1, 2**32 - 1)))
    return _put(data, start, "<I", value), "amem_wal.entry_length"


@st.composite
def _data_len(draw) -> tuple[bytes, str]:
    data, _, start = draw(_entry_field())
    total = struct.unpack_from("<I", data, start)[0]
    at = start + field_offset(mwal_entry_head, "data_len")
    return _put(data, at, "<I", draw(st.integers(total - ENTRY_HEAD_SIZE + 1, 2**32 - 1))), \
        "amem_wal.data_len_overflow"


@st.composite
def _version(draw) -> tuple[bytes, str]:
    data = draw(wal_files())
    at = AmemWalDocument.parse(data, None).offset_of("header.version")
    return _put(data, at, "<H", draw(st.integers(2, 2**16 - 1))), "amem_wal.version"


@st.composite
def _sequence(draw) -> tuple[bytes, str]:
    """Two entries with the same sequence: two processes appended."""
    data = draw(wal_files(torn=False).filter(lambda d: len(AmemWalDocument.parse(d, None).parsed.entries) > 1))
    at = _entry_at(data, 1) + field_offset(mwal_entry_head, "sequence")
    return _put(data, at, "<Q", 0), "amem_wal.sequence_not_increasing"


@st.composite
def _torn(draw) -> tuple[bytes, str]:
    data = draw(wal_files(torn=False))
    start = _entry_at(data, -1)
    return data[:draw(st.integers(start + 1, len(data) - 1))], "amem_wal.torn_tail"


def broken_files() -> st.SearchStrategy[tuple[bytes, str]]:
    """(broken file, finding code validate must report)."""
    return st.one_of(_crc(), _direction(), _total_len(), _data_len(), _version(), _sequence(), _torn())
