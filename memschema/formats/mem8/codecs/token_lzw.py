"""The LZW-like token codec (smart-tree `src/mem8/token_codec.rs`, MEM8.md 2.6 step 2).

Per-record dictionary: codes 0-255 are the bytes, each new code is `dict[prev] + first byte of the
current entry` while the dictionary holds fewer than 65536 entries.  Every code is written as a
little-endian base-128 varint (low 7 bits first, high bit = more follows, at most 3 bytes, value
< 65536).  Encoding is greedy longest match; decoding must produce exactly `raw_len` bytes.
"""

from __future__ import annotations

import numpy as np

from . import CodecError

MAX_CODES = 65536
MAX_VARINT_BYTES = 3
_SINGLE_BYTES = tuple(bytes([i]) for i in range(256))


def write_varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def encode(data: bytes) -> bytes:
    """Greedy longest-match LZW codes of `data` as varints; empty input encodes to nothing."""
    out = bytearray()
    if not data:
        return bytes(out)
    table: dict[int, int] = {}   # (code << 8 | next byte) -> code of the extended string
    next_code = 256
    w = data[0]
    for c in data[1:]:
        extended = table.get((w << 8) | c)
        if extended is not None:
            w = extended
            continue
        write_varint(w, out)
        if next_code < MAX_CODES:
            table[(w << 8) | c] = next_code
            next_code += 1
        w = c
    write_varint(w, out)
    return bytes(out)


def read_varints(tokens: bytes) -> tuple[list[int], list[int]]:
    """(codes, start offset of each code), vectorised; `CodecError` for a bad varint."""
    arr = np.frombuffer(tokens, dtype=np.uint8)
    if not len(arr):
        return [], []
    ends = np.flatnonzero(arr < 0x80)
    if not len(ends) or ends[-1] != len(arr) - 1:
        raise CodecError("tokens", "token stream ends inside a varint", int(ends[-1]) + 1 if len(ends) else 0)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if (lengths > MAX_VARINT_BYTES).any():
        at = int(starts[np.flatnonzero(lengths > MAX_VARINT_BYTES)[0]])
        raise CodecError("tokens", f"varint longer than {MAX_VARINT_BYTES} bytes", at)
    low = arr.astype(np.int64) & 0x7F
    codes = low[starts].copy()
    two = lengths >= 2
    codes[two] |= low[starts[two] + 1] << 7
    three = lengths == 3
    codes[three] |= low[starts[three] + 2] << 14
    if (codes >= MAX_CODES).any():
        i = int(np.flatnonzero(codes >= MAX_CODES)[0])
        raise CodecError("tokens", f"code {int(codes[i])} is not below {MAX_CODES}", int(starts[i]))
    return codes.tolist(), starts.tolist()


def decode(tokens: bytes, raw_len: int) -> bytes:
    """Exactly `raw_len` bytes from `tokens`; `CodecError` (offset into `tokens`) otherwise.
    Memory stays O(raw_len): the output is capped and every entry extends an earlier output."""
    codes, starts = read_varints(tokens)
    entries = list(_SINGLE_BYTES)
    append = entries.append
    out = bytearray()
    size = 0
    prev: bytes | None = None
    for i, code in enumerate(codes):
        n = len(entries)
        if code < n:
            entry = entries[code]
        elif code == n and prev is not None:
            entry = prev + prev[:1]
        else:
            raise CodecError("tokens", f"code {code} is not in the dictionary of {n} entries", starts[i])
        size += len(entry)
        if size > raw_len:
            raise CodecError("tokens", f"decoded tokens exceed raw_len {raw_len}", starts[i])
        out += entry
        if prev is not None and n < MAX_CODES:
            append(prev + entry[:1])
        prev = entry
    if size != raw_len:
        raise CodecError("tokens", f"tokens decode to {size} bytes, raw_len is {raw_len}", len(tokens))
    return bytes(out)
