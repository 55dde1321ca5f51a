"""Which RVF dialect a file is (RVF.md 1, 5), from a bounded prefix: the first segments as the
runtime layout reads them (at most `DETECT_SEGMENTS`, none past `DETECT_PREFIX` bytes), their
hashes under each dialect's rule, and the first header's spec-only fields.  A file of any size is
told apart by at most one MiB of it."""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import FormatError
from ...walker import iter_elements, parse_value
from . import hashes
from .layouts import RUNTIME, RUVBOT, SEGMENTS, SPEC, WASM
from .runtime_payloads import vec_head, vec_payload_size
from .segment import FLAGS, HEADER_SIZE, MAGIC_BYTES, SEG_TYPES, segment_header
from .wasm_export import VEC_ID, wasm_record_count

DETECT_PREFIX = 1 << 20      # bytes of the file detection reads at most
DETECT_SEGMENTS = 8          # segments whose hashes are tried

DESCRIPTIONS = {
    RUNTIME: "runtime dialect (rvf-runtime RvfStore: packed segments, rotated CRC-32)",
    RUVBOT: "ruvbot build-rvf.js file (packed segments, SHA-256[:16] hashes)",
    SPEC: "spec dialect (64-byte aligned segments, XXH3/SHAKE-256 hashes)",
    WASM: "rvf-wasm store export (VEC + MANIFEST, u16 count / u32 dimension)",
}
HASH_DIALECTS = {"crc32_rotated": RUNTIME, "sha256_128": RUVBOT, "xxh3_128": SPEC, "shake256_128": SPEC}


def _first_segments(data) -> Iterator[tuple[int, object, int]]:
    """(start, parsed segment, end) of the complete segments at the start of the file, parsed as
    they are asked for (detection mostly stops at the first)."""
    try:
        yield from iter_elements(SEGMENTS[RUNTIME], data, 0, min(len(data), DETECT_PREFIX), "segments",
                                 limit=DETECT_SEGMENTS)
    except FormatError:
        pass                 # a segment cut by the prefix (or a torn one): detection uses those before it


def _vec_fits(data, header) -> bool:
    """Does the first segment's VEC payload fit the runtime head (u16 dimension, u32 count)?"""
    if header.payload_length < vec_head.sizeof():
        return False
    head, _ = parse_value(vec_head, data, HEADER_SIZE, "segments[0].payload")
    return vec_payload_size(head.vector_count, head.dimension) == header.payload_length


def detect_dialect(data) -> tuple[str, str] | None:
    """(dialect, description) of bytes that start with an RVF segment header, else None."""
    if len(data) < HEADER_SIZE or bytes(data[:len(MAGIC_BYTES)]) != MAGIC_BYTES:
        return None
    try:
        first, _ = parse_value(segment_header, data, 0, "segments[0].header", HEADER_SIZE)
    except FormatError:       # the magic is there, the version is not 1: the walk reports it
        return RUNTIME, DESCRIPTIONS[RUNTIME]
    if first.alignment_pad or first.flags & FLAGS["SIGNED"]:
        return SPEC, DESCRIPTIONS[SPEC]
    zero_hashes = True
    for start, segment, end in _first_segments(data):
        stored = bytes(segment.header.content_hash)
        if stored == hashes.ZERO16:
            continue
        zero_hashes = False
        payload = data[start + HEADER_SIZE:end]
        for name, dialect in HASH_DIALECTS.items():
            if hashes.payload_hash(name, payload) == stored:
                return dialect, DESCRIPTIONS[dialect]
    if first.checksum_algo != 0:
        return SPEC, "spec dialect (checksum_algo set, XXH3/SHAKE-256 hashes)"
    if zero_hashes and int(first.seg_type) == SEG_TYPES["vec"] and first.segment_id == VEC_ID and \
            not _vec_fits(data, first) and \
            wasm_record_count(data, HEADER_SIZE, first.payload_length) is not None:
        return WASM, DESCRIPTIONS[WASM]
    return RUNTIME, "runtime dialect (rvf-runtime RvfStore: packed segments)"
