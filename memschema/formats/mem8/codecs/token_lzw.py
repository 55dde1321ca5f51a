"""The LZW-like token codec (smart-tree `src/mem8/token_codec.rs`, MEM8.md 2.6 step 2).

Per-record dictionary: codes 0-255 are the bytes, each new code is `dict[prev] + first byte of the
current entry` while the dictionary holds fewer than 65536 entries.  Every code is written as a
little-endian base-128 varint (low 7 bits first, high bit = more follows, at most 3 bytes, value
< 65536).  Encoding is greedy longest match; decoding must produce exactly `raw_len` bytes.

Decoding runs in C (`_lzw.c`) when the extension is built, else in pure Python; both raise the
same `CodecError` for the same input (a property test holds them to it).
"""

from __future__ import annotations

import numpy as np

from . import CodecError

try:   # the C fast path, built by `pip install .` where a compiler exists (optional)
    from . import _lzw
except ImportError:   # pragma: no cover - depends on the installation
    _lzw = None

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


def _failure(kind: int, offset: int, a: int = 0, b: int = 0, raw_len: int = 0) -> CodecError:
    """The error of one failure kind (shared by the C fast path and the pure decoder, so both
    raise the same code, message and offset)."""
    message = {
        1: "token stream ends inside a varint",
        2: f"varint longer than {MAX_VARINT_BYTES} bytes",
        3: f"code {a} is not below {MAX_CODES}",
        4: f"code {a} is not in the dictionary of {b} entries",
        5: f"decoded tokens exceed raw_len {raw_len}",
        6: f"tokens decode to {a} bytes, raw_len is {raw_len}",
    }[kind]
    return CodecError("tokens", message, offset)


def read_varints(tokens: bytes) -> tuple[list[int], list[int]]:
    """(codes, start offset of each code), vectorised; `CodecError` for a bad varint."""
    arr = np.frombuffer(tokens, dtype=np.uint8)
    if not len(arr):
        return [], []
    ends = np.flatnonzero(arr < 0x80)
    if not len(ends) or ends[-1] != len(arr) - 1:
        raise _failure(1, int(ends[-1]) + 1 if len(ends) else 0)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if (lengths > MAX_VARINT_BYTES).any():
        raise _failure(2, int(starts[np.flatnonzero(lengths > MAX_VARINT_BYTES)[0]]))
    low = arr.astype(np.int64) & 0x7F
    codes = low[starts].copy()
    two = lengths >= 2
    codes[two] |= low[starts[two] + 1] << 7
    three = lengths == 3
    codes[three] |= low[starts[three] + 2] << 14
    if (codes >= MAX_CODES).any():
        i = int(np.flatnonzero(codes >= MAX_CODES)[0])
        raise _failure(3, int(starts[i]), int(codes[i]))
    return codes.tolist(), starts.tolist()


def decode_python(tokens: bytes, raw_len: int) -> bytes:
    """The pure-Python decoder (the fallback when the C fast path is not built, and its reference
    in the tests).  Memory stays O(raw_len): the output is capped and every entry extends an
    earlier output."""
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
            raise _failure(4, starts[i], code, n)
        size += len(entry)
        if size > raw_len:
            raise _failure(5, starts[i], raw_len=raw_len)
        out += entry
        if prev is not None and n < MAX_CODES:
            append(prev + entry[:1])
        prev = entry
    if size != raw_len:
        raise _failure(6, len(tokens), size, raw_len=raw_len)
    return bytes(out)


def decode_fast(tokens: bytes, raw_len: int) -> bytes:
    """The C fast path (`_lzw`); ImportError-free only when the extension was built."""
    result = _lzw.decode(tokens, raw_len)
    if isinstance(result, tuple):
        kind, offset, a, _b = result
        raise _failure(kind, offset, a, _b, raw_len)
    return result


def decode(tokens: bytes, raw_len: int) -> bytes:
    """Exactly `raw_len` bytes from `tokens`; `CodecError` (offset into `tokens`) otherwise."""
    if _lzw is not None:
        return decode_fast(tokens, raw_len)
    return decode_python(tokens, raw_len)
