"""Mutations that reach the AMEM decoders (the fuzzing hooks of `strategies.py`).

AMEM carries no checksums; what stops random bytes before the LZ4 decoders is the plausibility of
the declared sizes (agentic-memory: the u32 before each blob; spec-v1: `content_uncompressed`).
`reseal` sets each size to what its LZ4 data really decodes to (when it decodes), and `MUTATORS`
change LZ4 data in place, declare other sizes, or change a content and compress it again, so the
changed bytes reach `compression.decompress_block` / `decompress_frame`, the UTF-8 and JSON
decoders of contents and metadata, and the term-index checks.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import lz4.block
import lz4.frame

from ...errors import FormatError
from ...parsing import build, parse
from ...strategies.mutate import change_bytes
from . import agentic, spec_v1
from .agentic_store import AgenticDocument
from .compression import LZ4_FRAME_MAGIC, MAX_RATIO, compress_block, compress_frame, plausible
from .detect import AGENTIC, SPEC_V1, detect_amem
from .spec_store import SpecDocument
from .writer import write_agentic

PREFIX = agentic.content_blob.uncompressed_size
DECODE_CAP = 1 << 20       # decoded size tried when a size is recomputed


def _layout(data: bytes) -> str | None:
    found = detect_amem(data) if len(data) >= agentic.HEADER_SIZE else None
    return found.variant if found is not None else None


def _blobs(doc: AgenticDocument) -> list[tuple[int, int, int]]:
    """(node, blob start, blob length) of each blob that lies inside the file and has a prefix."""
    out = []
    for i in range(doc.node_count):
        start, length = doc.blob_span(i)
        if length > PREFIX.sizeof() and start + length <= len(doc.data):
            out.append((i, start, length))
    return out


def _decoded_size(block: bytes) -> int | None:
    try:
        return len(lz4.block.decompress(block, uncompressed_size=min(DECODE_CAP, MAX_RATIO * len(block) + 16)))
    except (lz4.block.LZ4BlockError, ValueError, MemoryError):
        return None


def _with_prefix(data: bytes, start: int, size: int) -> bytes:
    return data[:start] + PREFIX.build(size) + data[start + PREFIX.sizeof():]


def _spec_header(data: bytes, **changes) -> bytes:
    h = parse(spec_v1.header, data, 0, "header", spec_v1.HEADER_SIZE)
    h.update(changes)
    return build(spec_v1.header, h, "header") + data[spec_v1.HEADER_SIZE:]


def reseal(data: bytes) -> bytes:
    """Declared LZ4 sizes set to what the data decodes to."""
    try:
        layout = _layout(data)
        if layout == AGENTIC:
            doc = AgenticDocument(None, data)
            for _, start, length in _blobs(doc):
                size = _decoded_size(data[start + PREFIX.sizeof():start + length])
                if size is not None:
                    data = _with_prefix(data, start, size)
        elif layout == SPEC_V1:
            doc = SpecDocument(None, data)
            if doc.compressed:
                dec = lz4.frame.LZ4FrameDecompressor()
                size = len(dec.decompress(doc.raw_content(), max_length=DECODE_CAP))
                data = _spec_header(data, content_uncompressed=size)
    except (FormatError, RuntimeError, ValueError, OSError):
        pass            # nothing more to fix in bytes this broken
    return data


def _agentic(data: bytes) -> AgenticDocument | None:
    try:
        return AgenticDocument(None, data) if _layout(data) == AGENTIC else None
    except FormatError:
        return None


def _pick_blob(data: bytes, rnd: random.Random) -> tuple[AgenticDocument, int, int, int] | None:
    """(document, node, blob start, blob length) of a random node with a blob, or None."""
    doc = _agentic(data)
    blobs = _blobs(doc) if doc is not None else []
    return (doc, *rnd.choice(blobs)) if blobs else None


def _lz4_block(data: bytes, rnd: random.Random) -> bytes | None:
    """A node's LZ4 block changed in place; its prefix says what it decodes to (or the old size)."""
    picked = _pick_blob(data, rnd)
    if picked is None:
        return None
    _, _, start, length = picked
    head = start + PREFIX.sizeof()
    block = change_bytes(data[head:start + length], rnd, keep_length=True)
    out = data[:head] + block + data[start + length:]
    size = _decoded_size(block)
    return out if size is None else _with_prefix(out, start, size)


def _lz4_size(data: bytes, rnd: random.Random) -> bytes | None:
    """A node's size prefix set to another plausible size: the decoder must notice the mismatch."""
    picked = _pick_blob(data, rnd)
    if picked is None:
        return None
    _, _, start, length = picked
    limit = MAX_RATIO * (length - PREFIX.sizeof()) + 16
    size = rnd.choice((0, 1, limit, rnd.randint(0, limit)))
    return _with_prefix(data, start, size if plausible(size, length - PREFIX.sizeof()) else 0)


def _content(data: bytes, rnd: random.Random) -> bytes | None:
    """A node's decoded content changed (any bytes, UTF-8 or not) and compressed again; the rest of
    the file rebuilt by the writer around the stored blobs."""
    picked = _pick_blob(data, rnd)
    if picked is None:
        return None
    doc, i, _, _ = picked
    try:
        model, stored = doc.to_model(), doc.kept_blobs()
        stored[i] = compress_block(change_bytes(doc.content_bytes(i), rnd))
        return write_agentic(model, blobs=stored)[0]
    except FormatError:
        return None


def _spec(data: bytes) -> SpecDocument | None:
    try:
        doc = SpecDocument(None, data) if _layout(data) == SPEC_V1 else None
    except FormatError:
        return None
    magic = doc.raw_content()[:len(LZ4_FRAME_MAGIC)] if doc is not None and doc.compressed else b""
    return doc if magic == LZ4_FRAME_MAGIC else None


def _lz4_frame(data: bytes, rnd: random.Random) -> bytes | None:
    """The spec-v1 content block changed, compressed again, the header's sizes and offsets moved."""
    doc = _spec(data)
    if doc is None:
        return None
    try:
        block = change_bytes(bytes(doc.block), rnd)
    except FormatError:
        return None
    h = doc.header
    frame = compress_frame(block)
    moved = len(frame) - h.content_length
    out = data[:h.content_offset] + frame + data[h.content_offset + h.content_length:]
    return _spec_header(out, content_length=len(frame), content_uncompressed=len(block),
                        vector_offset=h.vector_offset + moved, index_offset=h.index_offset + moved)


def _frame_header_size(frame: bytes) -> int:
    """Bytes of an LZ4 frame header (LZ4 frame format 1.6.x: magic, FLG, BD, an 8-byte content size
    when FLG bit 3 is set, a 4-byte dictionary id when FLG bit 0 is set, the header checksum)."""
    if len(frame) <= len(LZ4_FRAME_MAGIC):
        return len(frame)
    flg = frame[len(LZ4_FRAME_MAGIC)]
    return len(LZ4_FRAME_MAGIC) + 2 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0) + 1


def _lz4_frame_bytes(data: bytes, rnd: random.Random) -> bytes | None:
    """The spec-v1 LZ4 frame's blocks changed in place (after its header)."""
    doc = _spec(data)
    if doc is None:
        return None
    h = doc.header
    end = h.content_offset + h.content_length
    start = h.content_offset + _frame_header_size(data[h.content_offset:end])
    if start >= end:
        return None
    body = change_bytes(data[start:end], rnd, keep_length=True)
    return reseal(data[:start] + body + data[end:])


MUTATORS: dict[str, Callable[[bytes, random.Random], bytes | None]] = {
    "lz4_block": _lz4_block,
    "lz4_size": _lz4_size,
    "content": _content,
    "lz4_frame": _lz4_frame,
    "lz4_frame_bytes": _lz4_frame_bytes,
}
