"""zlib layer of a record frame (MEM8.md 2.6 step 1): level 1 when writing; when reading, inflate
at most `3·raw_len + 1` bytes as upstream does, require at most `3·raw_len` and the whole
compressed input consumed.  Never inflates beyond that bound."""

from __future__ import annotations

import zlib

from . import CodecError

LEVEL = 1


def deflate(data: bytes) -> bytes:
    """Python's zlib at level 1 (header 78 01).  Upstream uses flate2/miniz_oxide: identical for
    short inputs, but miniz's level-1 block choices differ on larger ones (see docs/mem8-native.md)."""
    return zlib.compress(data, LEVEL)


def inflate(compressed: bytes, raw_len: int) -> bytes:
    bound = 3 * raw_len
    d = zlib.decompressobj()
    try:
        out = d.decompress(compressed, bound + 1)
    except zlib.error as exc:
        raise CodecError("zlib", f"zlib stream does not inflate: {exc}", 0) from None
    if len(out) > bound:
        raise CodecError("zlib", f"inflates to more than 3*raw_len = {bound} bytes", 0)
    if not d.eof:
        raise CodecError("zlib", "zlib stream is incomplete", len(compressed))
    if d.unused_data:
        consumed = len(compressed) - len(d.unused_data)
        raise CodecError("trailing_bytes", f"{len(d.unused_data)} bytes after the zlib stream", consumed)
    return out
