"""Bulk decoding of the unsigned LEB128 varints that INDEX adjacency lists, the INDEX id map and
spec VEC id maps are made of (construct's `VarInt`, applied to a whole byte run at once with numpy:
a 100k-node graph holds millions of them).  Upstream decoders reject an 11th byte (shift >= 64); a
10th byte keeps only its low bit, as Rust's `<<` on u64 does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index_seg import MAX_VARINT_BYTES


@dataclass
class Varints:
    """The complete varints of a byte run: `values` (uint64), `starts` (byte offset of each in the
    run), `lengths` (bytes each); `complete_end` = bytes they cover (the rest is a cut-off varint)."""

    values: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    complete_end: int

    def __len__(self) -> int:
        return len(self.values)

    def first_overlong(self, count: int) -> int | None:
        """Index of the first of the first `count` varints longer than 10 bytes, or None."""
        bad = np.flatnonzero(self.lengths[:count] > MAX_VARINT_BYTES)
        return int(bad[0]) if len(bad) else None


def decode_varints(raw) -> Varints:
    """Every complete varint in `raw` (bytes, memoryview or uint8 array), in order."""
    b = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    ends = np.flatnonzero(b < 0x80)
    starts = np.zeros(len(ends), dtype=np.int64)
    if len(ends):
        starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    values = np.zeros(len(ends), dtype=np.uint64)
    longest = int(lengths.max()) if len(lengths) else 0
    for k in range(min(longest, MAX_VARINT_BYTES)):
        sel = np.flatnonzero(lengths > k) if k else slice(None)
        group = (b[starts[sel] + k] & 0x7F).astype(np.uint64)
        values[sel] |= group << np.uint64(7 * k)
    return Varints(values, starts, lengths, int(ends[-1]) + 1 if len(ends) else 0)


def delta_decode(deltas: np.ndarray, restart_interval: int) -> np.ndarray:
    """Absolute values of a delta-varint run with restart points (every `restart_interval`-th value
    absolute, the others added to the previous one; rvf-wire `decode_delta`).  uint64 arithmetic
    wraps like the release build upstream."""
    values = np.asarray(deltas, dtype=np.uint64)
    if not len(values):
        return values
    restarts = np.arange(0, len(values), restart_interval) if restart_interval else np.array([0])
    sums = np.cumsum(values, dtype=np.uint64)
    # each run from a restart point sums from that point: subtract the sum before it
    before = np.concatenate(([np.uint64(0)], sums[:-1]))[restarts]
    run = np.repeat(np.arange(len(restarts)), np.diff(np.append(restarts, len(values))))
    base = before[run]
    return sums - base
