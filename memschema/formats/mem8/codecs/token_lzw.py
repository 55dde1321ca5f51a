"""The LZW-like token codec (smart-tree `src/mem8/token_codec.rs`, MEM8.md 2.6 step 2).

Per-record dictionary: codes 0-255 are the bytes, each new code is `dict[prev] + first byte of the
current entry` while the dictionary holds fewer than 65536 entries.  Every code is written as a
little-endian base-128 varint (low 7 bits first, high bit = more follows, at most 3 bytes, value
< 65536).  Encoding is greedy longest match; decoding must produce exactly `raw_len` bytes.

Decoding appends to one output buffer, never beyond `raw_len` and never allocated by what
`raw_len` declares: a dictionary entry is the span of the output where it first appeared (an entry
is the previous entry plus the next byte, which is where they lie in the output), so the
dictionary costs no copies.  Once it is full (at most 65280 codes)
every further code is a copy of a fixed span: those are applied with numpy, a slice of output at a
time, so a long token stream costs neither Python loops nor per-code objects.

A whole token stream is decoded in C (`_lzw.c`) when the extension is built (the output allocated
once, bounded by `raw_len` and by what the codes can emit; the caller has charged `raw_len` to the
decoding budget first).  `decode_python` is the plain reference decoder; the C path raises the
same `CodecError` (code, message, offset) for the same input (a property test holds them to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from . import CodecError

try:   # the C fast path, built by `pip install .` where a compiler exists (optional)
    from . import _lzw
except ImportError:   # pragma: no cover - depends on the installation
    _lzw = None

MAX_CODES = 65536
MAX_VARINT_BYTES = 3
ALPHABET = bytes(range(256))     # codes 0-255; the output buffer starts with them
GATHER = 1 << 20                 # output bytes per numpy gather step
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


def read_varints(tokens, base: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(codes, start offset of each code + `base`) of complete varints, vectorised; `CodecError`
    for a bad varint or a stream that ends inside one."""
    codes, starts, rest = _varints(np.frombuffer(tokens, dtype=np.uint8), base)
    if rest:
        raise CodecError("tokens", "token stream ends inside a varint", base + len(tokens) - rest)
    return codes, starts


def _varints(arr: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Complete varints of `arr` and how many bytes at its end start an incomplete one."""
    ends = np.flatnonzero(arr < 0x80)
    rest = len(arr) - (int(ends[-1]) + 1 if len(ends) else 0)
    if rest >= MAX_VARINT_BYTES:
        raise CodecError("tokens", f"varint longer than {MAX_VARINT_BYTES} bytes", base + len(arr) - rest)
    if not len(ends):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), rest
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if (lengths > MAX_VARINT_BYTES).any():
        at = int(starts[np.flatnonzero(lengths > MAX_VARINT_BYTES)[0]])
        raise CodecError("tokens", f"varint longer than {MAX_VARINT_BYTES} bytes", base + at)
    codes = (arr[starts] & 0x7F).astype(np.int64)
    two = lengths >= 2
    codes[two] |= (arr[starts[two] + 1].astype(np.int64) & 0x7F) << 7
    three = lengths == 3
    codes[three] |= (arr[starts[three] + 2].astype(np.int64) & 0x7F) << 14
    if (codes >= MAX_CODES).any():
        i = int(np.flatnonzero(codes >= MAX_CODES)[0])
        raise CodecError("tokens", f"code {int(codes[i])} is not below {MAX_CODES}", base + int(starts[i]))
    return codes, starts + base, rest


def _code_chunks(chunks: Iterable[bytes]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(codes, starts) per chunk of the token stream; a varint cut by a chunk boundary is carried."""
    carry, base = b"", 0
    for chunk in chunks:
        data = carry + bytes(chunk) if carry else chunk
        codes, starts, rest = _varints(np.frombuffer(data, dtype=np.uint8), base)
        carry = bytes(data[len(data) - rest:]) if rest else b""
        base += len(data) - rest
        yield codes, starts
    if carry:
        raise CodecError("tokens", "token stream ends inside a varint", base)


class _Decoder:
    """The output grows as codes produce it (never by what `raw_len` declares); it starts with the
    256 single-byte entries, so every dictionary entry, literals included, is a span of it."""

    def __init__(self, raw_len: int):
        self.raw_len = raw_len
        self.out = bytearray(ALPHABET)
        self.src = list(range(len(ALPHABET)))           # code -> where its entry starts in `out`
        self.len = [1] * len(ALPHABET)                  # code -> entry length
        self.prev: tuple[int, int] | None = None        # (start, length) of the previous entry
        self.full: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def size(self) -> int:
        return len(self.out) - len(ALPHABET)

    def _exceeds(self, at: int) -> CodecError:
        return CodecError("tokens", f"decoded tokens exceed raw_len {self.raw_len}", at)

    def sequential(self, codes: list[int], starts: np.ndarray) -> int:
        """Apply codes while the dictionary grows; returns how many were applied.  (Few objects
        per code: this loop runs up to 65280 times per record.)"""
        out, src, lens = self.out, self.src, self.len
        pos, limit = len(out), len(ALPHABET) + self.raw_len    # positions in `out`
        prev_s, prev_l = self.prev if self.prev is not None else (-1, 0)
        n = n0 = len(src)
        for code in codes:
            if n >= MAX_CODES:
                break
            if code < n:
                s, length = src[code], lens[code]
                end = pos + length
                if end > limit:
                    raise self._exceeds(int(starts[self._index(n, n0, prev_l)]))
                if length == 1:
                    out.append(out[s])
                else:
                    out += out[s:s + length]
            elif code == n and prev_l:
                length = prev_l + 1
                end = pos + length
                if end > limit:
                    raise self._exceeds(int(starts[self._index(n, n0, prev_l)]))
                out += out[prev_s:prev_s + prev_l]
                out.append(out[prev_s])
            else:
                raise CodecError("tokens", f"code {code} is not in the dictionary of {n} entries",
                                 int(starts[self._index(n, n0, prev_l)]))
            if prev_l:
                src.append(prev_s)                      # previous entry + this entry's first byte
                lens.append(prev_l + 1)
                n += 1
            prev_s, prev_l = pos, length
            pos = end
        done = self._index(n, n0, prev_l)
        self.prev = (prev_s, prev_l) if prev_l else None
        return done

    def _index(self, n: int, n0: int, prev_l: int) -> int:
        """How many codes of this call were applied: each adds an entry, but the very first code
        of a record (no previous entry) does not."""
        fresh = self.prev is None
        return 0 if fresh and not prev_l else n - n0 + fresh

    def gathered(self, codes: np.ndarray, starts: np.ndarray) -> None:
        """Apply codes of a full dictionary: each is a copy of a fixed span written earlier."""
        if self.full is None:
            self.full = np.asarray(self.src, np.int64), np.asarray(self.len, np.int64)
        src, lens = self.full[0][codes], self.full[1][codes]
        ends = self.size + np.cumsum(lens)
        if len(ends) and ends[-1] > self.raw_len:
            raise self._exceeds(int(starts[int(np.searchsorted(ends, self.raw_len, side="right"))]))
        first = 0
        while first < len(codes):   # a slice of codes producing about GATHER bytes at a time
            last = max(first + 1, int(np.searchsorted(ends, ends[first] - lens[first] + GATHER, side="right")))
            ln = lens[first:last]
            offsets = np.repeat(src[first:last] - (np.cumsum(ln) - ln), ln) + np.arange(int(ln.sum()))
            view = np.frombuffer(self.out, dtype=np.uint8)
            part = view[offsets]
            del view                # the buffer must not be exported while it grows
            self.out += memoryview(part)
            first = last

    def feed(self, codes: np.ndarray, starts: np.ndarray) -> None:
        done = 0 if len(self.src) >= MAX_CODES else self.sequential(codes[:MAX_CODES].tolist(), starts)
        if done < len(codes):
            self.gathered(codes[done:], starts[done:])


def decode_chunks(chunks: Iterable[bytes], raw_len: int) -> memoryview:
    """Exactly `raw_len` bytes from the token stream given in chunks; `CodecError` (offset into the
    token stream) otherwise.  Memory: the output so far and one chunk of codes."""
    dec = _Decoder(raw_len)
    seen = [0]

    def counted():
        for chunk in chunks:
            seen[0] += len(chunk)
            yield chunk
    for codes, starts in _code_chunks(counted()):
        dec.feed(codes, starts)
    if dec.size != raw_len:
        raise CodecError("tokens", f"tokens decode to {dec.size} bytes, raw_len is {raw_len}", seen[0])
    return memoryview(dec.out)[len(ALPHABET):]


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
        7: "varint cut short, longer than 3 bytes or past 65535",   # lzw_core.h without its scan pass
    }[kind]
    return CodecError("tokens", message, offset)


def _reference_varints(tokens: bytes) -> tuple[list[int], list[int]]:
    """(codes, start offset of each code) as the C decoder reads them (its first failure wins)."""
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
    """The plain reference decoder the C fast path is tested against (entries as bytes objects;
    `decode_chunks` is the streaming pure-Python decoder).  The output is capped by `raw_len`."""
    codes, starts = _reference_varints(tokens)
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
    return bytes(decode_chunks([tokens], raw_len))
