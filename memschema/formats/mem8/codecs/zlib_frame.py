"""zlib layer of a record frame (MEM8.md 2.6 step 1): level 1 when writing; when reading, inflate
at most `3·raw_len + 1` bytes as upstream does, require at most `3·raw_len` and the whole
compressed input consumed.  Never inflates beyond that bound, and `inflate_chunks` never holds
more than one chunk of the inflated bytes."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from . import CodecError

LEVEL = 1
CHUNK = 1 << 20        # inflated bytes per step of inflate_chunks


def deflate(data: bytes) -> bytes:
    """Python's zlib at level 1 (header 78 01).  Upstream uses flate2/miniz_oxide: identical for
    short inputs, but miniz's level-1 block choices differ on larger ones (see docs/mem8-native.md)."""
    return zlib.compress(data, LEVEL)


def inflate_chunks(compressed, raw_len: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The inflated bytes, `chunk` at a time; `CodecError` past `3·raw_len` bytes, for a broken or
    incomplete stream, and for bytes after its end (raised when the generator gets there)."""
    bound = 3 * raw_len
    d = zlib.decompressobj()
    total = 0
    tail = memoryview(compressed)
    while True:
        out = _step(d, tail, min(chunk, bound + 1 - total), total, bound)
        tail = d.unconsumed_tail
        total += len(out)
        if out:
            yield out
        if d.eof or (not tail and not out):
            break
    _ended(d, compressed)


def _step(d, data, limit: int, before: int, bound: int) -> bytes:
    """At most `limit` more inflated bytes (`before` so far); `CodecError` for a broken stream or
    past `bound` bytes in all."""
    try:
        out = d.decompress(data, limit)
    except zlib.error as exc:
        raise CodecError("zlib", f"zlib stream does not inflate: {exc}", 0) from None
    if before + len(out) > bound:
        raise CodecError("zlib", f"inflates to more than 3*raw_len = {bound} bytes", 0)
    return out


def _ended(d, compressed) -> None:
    """The stream ended, and where the compressed bytes end."""
    if not d.eof:
        raise CodecError("zlib", "zlib stream is incomplete", len(compressed))
    if d.unused_data:
        consumed = len(compressed) - len(d.unused_data)
        raise CodecError("trailing_bytes", f"{len(d.unused_data)} bytes after the zlib stream", consumed)


def inflate(compressed, raw_len: int) -> bytes:
    """The whole inflated stream (bounded by `3·raw_len`), in one call when it fits one chunk (a
    journal's records mostly do: the per-chunk loop cost more than zlib itself on small frames)."""
    bound = 3 * raw_len
    if bound >= CHUNK:
        return b"".join(inflate_chunks(compressed, raw_len))
    d = zlib.decompressobj()
    out = _step(d, compressed, bound + 1, 0, bound)
    _ended(d, compressed)
    return out
