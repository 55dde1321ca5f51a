"""Upstream's reader scan (`recover_entries` / `read_entries`, AMEM-WAL.md §1.7) over a parsed file.

The layout parses every entry whose framing holds (`total_len` = head + `data_len` + slack, bytes
present); upstream's scanners are stricter and stop at the first entry that fails any of their
steps.  What they accept is the state; the next server start cuts the file back to the end of the
last accepted entry (`truncate_to`), whatever follows.  The checks run column by column over the
entry heads (a numpy table gathered from the entries' offsets, dtype from `mwal_entry_head`); only
the CRCs need one `zlib.crc32` per entry.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ...dtypes import struct_dtype
from ...layout import Parsed, Tail
from ...parsing import field_offset, parse
from .declarations import ENTRY_HEAD_SIZE, HEADER_SIZE, MAX_ENTRY_BYTES, direction, mwal_entry_head

U64_MAX = np.iinfo(np.uint64).max
DIRECTIONS = np.array(sorted(direction.decmapping), dtype=np.uint8)


@dataclass(frozen=True)
class Rejection:
    """Why upstream's scan stops: `step` of §1.7 (`torn`, `entry_length`, `data_len_overflow`,
    `direction`, `crc_mismatch`), the entry (None: bytes that do not frame an entry) and field."""

    step: str
    index: int | None
    start: int
    path: str
    offset: int
    message: str

    @property
    def torn(self) -> bool:
        return self.step == "torn"


@dataclass(frozen=True)
class Recovery:
    """What upstream's scanners read: `accepted` entries, the offset the next server start keeps
    (`truncate_to`), the sequence it continues with, and why the scan stopped before the end."""

    accepted: int
    truncate_to: int
    next_sequence: int
    stop: Rejection | None


def heads(parsed: Parsed) -> np.ndarray:
    """The fixed head of every parsed entry as one numpy table (gathered, not parsed per entry)."""
    placed = parsed.placed["entries"]
    dtype = struct_dtype(mwal_entry_head)
    starts = np.asarray(placed.offsets, dtype=np.int64)
    if not len(starts):
        return np.zeros(0, dtype=dtype).view(np.recarray)
    raw = np.frombuffer(parsed.data, dtype=np.uint8)[starts[:, None] + np.arange(dtype.itemsize)]
    return raw.view(dtype).reshape(len(starts)).view(np.recarray)


def crc_ok(parsed: Parsed, table: np.ndarray) -> np.ndarray:
    """CRC-32 of each entry's data against its `crc32` field."""
    starts = parsed.placed["entries"].offsets
    view = memoryview(parsed.data)
    ok = np.ones(len(table), dtype=bool)
    lengths = table.data_len.tolist()
    stored = table.crc32.tolist()
    for i, start in enumerate(starts):
        begin = start + ENTRY_HEAD_SIZE
        ok[i] = zlib.crc32(view[begin:begin + lengths[i]]) == stored[i]
    return ok


def entry_problems(table: np.ndarray, crc: np.ndarray) -> np.ndarray:
    """Per parsed entry, the first §1.7 step it fails ("" when upstream accepts it)."""
    out = np.full(len(table), "", dtype=object)
    out[~crc] = "crc_mismatch"
    out[~np.isin(table.direction, DIRECTIONS)] = "direction"
    out[table.total_len > MAX_ENTRY_BYTES] = "entry_length"
    return out


def _where(start: int, index: int | None, name: str) -> tuple[str, int]:
    label = f"entries[{index}]" if index is not None else "entries.tail"
    return f"{label}.{name}", start + field_offset(mwal_entry_head, name)


def _rejection(step: str, index: int | None, start: int, field: str, message: str) -> Rejection:
    return Rejection(step, index, start, *_where(start, index, field), message)


def entry_rejection(step: str, index: int, start: int, row) -> Rejection:
    if step == "entry_length":
        return _rejection(step, index, start, "total_len", f"total_len {int(row.total_len)} is over the "
                          f"{MAX_ENTRY_BYTES}-byte limit of upstream's readers")
    if step == "direction":
        return _rejection(step, index, start, "direction", f"direction {int(row.direction)} is neither "
                          "inbound (0) nor outbound (1)")
    return _rejection(step, index, start, "crc32", f"crc32 {int(row.crc32):#010x} does not match the data")


def tail_rejection(data, tail: Tail) -> Rejection:
    """Classify bytes that do not frame an entry by upstream's step order: a torn append (steps 2
    and 4: the bytes end first) or a bad entry (steps 3 and 5)."""
    start, end = tail.offset, tail.offset + tail.length
    length_field = mwal_entry_head.total_len
    if end - start < length_field.sizeof():
        return _rejection("torn", None, start, "total_len", f"{end - start} bytes cannot hold total_len "
                          "(a torn append)")
    total_len = parse(length_field, data, start, "total_len")
    if not ENTRY_HEAD_SIZE <= total_len <= MAX_ENTRY_BYTES:
        return _rejection("entry_length", None, start, "total_len", f"total_len {total_len} is outside "
                          f"{ENTRY_HEAD_SIZE}..{MAX_ENTRY_BYTES}")
    if end - start < total_len:
        return _rejection("torn", None, start, "total_len", f"total_len {total_len}, only {end - start} "
                          "bytes left (a torn append)")
    head = parse(mwal_entry_head, data, start, "")
    return _rejection("data_len_overflow", None, start, "data_len", f"data_len {head.data_len} is more than "
                      f"total_len {total_len} - {ENTRY_HEAD_SIZE}")


def scan(parsed: Parsed, table: np.ndarray, problems: np.ndarray) -> Recovery:
    placed = parsed.placed["entries"]
    bad = np.nonzero(problems != "")[0]
    if len(bad):
        first = int(bad[0])
        stop = entry_rejection(problems[first], first, placed.offsets[first], table[first])
        accepted = first
    else:
        accepted = len(table)
        stop = tail_rejection(parsed.data, placed.tail) if placed.tail is not None else None
    if accepted:
        end = placed.record_span(accepted - 1)[1]
        last = int(table.sequence[accepted - 1])
        next_sequence = last + 1 if last < U64_MAX else last
    else:
        end, next_sequence = HEADER_SIZE, 0
    return Recovery(accepted, end, next_sequence, stop)
