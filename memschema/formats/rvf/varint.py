"""The unsigned LEB128 varints that INDEX adjacency lists, the INDEX id map and spec VEC id maps are
made of: the construct declaration (`U64VarInt`) and its bulk decoding with numpy (a 100k-node graph
holds millions of them).

Upstream decoders (`rvf-index` / `rvf-wire` `decode_varint`) reject an 11th byte (shift >= 64) and
let a 10th byte's high bits fall off.  Every upstream encoder writes the shortest form.  memschema
reads a varint as a u64 in its shortest form only: a longer spelling (`ff 00` for 127), an 11th byte
or a 10th byte above 1 is an invalid varint, so whatever parses builds back to the same bytes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from construct import StreamError, VarInt, byte2int, stream_read

MAX_VARINT_BYTES = 10            # 10 × 7 bits cover a u64


class _U64VarInt(type(VarInt)):
    """construct's `VarInt` limited to canonical u64 encodings (see the module docstring)."""

    def _parse(self, stream, context, path):
        value, shift = 0, 0
        for n in range(1, MAX_VARINT_BYTES + 1):
            b = byte2int(stream_read(stream, 1, path))
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if n > 1 and b == 0 or n == MAX_VARINT_BYTES and b > 1:
                    raise StreamError(f"varint of {n} bytes is not the shortest u64 encoding", path=path)
                return value
        raise StreamError(f"varint longer than {MAX_VARINT_BYTES} bytes", path=path)

    def _build(self, obj, stream, context, path):
        if isinstance(obj, int) and obj >= 1 << 64:
            raise StreamError(f"{obj} is not a u64", path=path)
        return super()._build(obj, stream, context, path)


U64VarInt = _U64VarInt()


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

    last: np.ndarray = None                     # each varint's last byte

    def first_overlong(self, count: int) -> int | None:
        """Index of the first of the first `count` varints that is not a canonical u64 (longer
        than 10 bytes, a needless zero group, a 10th byte above 1), or None."""
        lengths, last = self.lengths[:count], self.last[:count]
        bad = np.flatnonzero((lengths > MAX_VARINT_BYTES) | ((lengths > 1) & (last == 0))
                             | ((lengths == MAX_VARINT_BYTES) & (last > 1)))
        return int(bad[0]) if len(bad) else None


def decode_varints(raw) -> Varints:
    """Every complete varint in `raw` (bytes, memoryview or uint8 array), in order."""
    b = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    ends = np.flatnonzero(b < 0x80)
    starts = np.zeros(len(ends), dtype=np.int64)
    if len(ends):
        starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    values = (b[starts] & 0x7F).astype(np.uint64)
    longer = np.flatnonzero(lengths > 1)          # most varints are one byte: the rest byte by byte
    for k in range(1, MAX_VARINT_BYTES):
        if not len(longer):
            break
        values[longer] |= (b[starts[longer] + k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        longer = longer[lengths[longer] > k + 1]
    complete_end = int(ends[-1]) + 1 if len(ends) else 0
    return Varints(values, starts, lengths, complete_end, b[ends])


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
