"""Mutations that reach the RVF payload decoders (the fuzzing hooks of `strategies.py`).

Every segment's `content_hash` covers its payload, so a changed payload is an `rvf.hash_mismatch`
and nothing more.  `reseal` recomputes each hash with the algorithm of the file's dialect
(`RvfDocument.hash_algorithm`, `store.payload_hash`: rotated CRC-32, XXH3-128, SHAKE-256,
SHA-256/128), and the `payload` mutator changes one segment's payload (manifest, VEC, witness,
journal, ...) before re-sealing, so the changed bytes reach that segment's decoder.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...errors import FormatError
from ...parsing import locate
from ...registry import Detection
from ...strategies.mutate import change_bytes
from .detect import detect_dialect
from .document import RvfDocument
from .hashes import payload_hash
from .segment import segment_header


def _document(data: bytes) -> RvfDocument | None:
    try:
        found = detect_dialect(data)
        return None if found is None else RvfDocument(Detection("rvf", found[0]), data)
    except FormatError:
        return None


def reseal(data: bytes) -> bytes:
    """Every complete segment's content_hash recomputed under the file's dialect."""
    doc = _document(data)
    if doc is None:
        return data
    out = bytearray(data)
    for seg in doc.segments:
        digest = payload_hash(doc.hash_algorithm(seg), doc.payload(seg))
        if digest is not None:
            at = seg.offset + locate(segment_header, seg.header, "content_hash")
            out[at:at + len(digest)] = digest
    return bytes(out)


def _payload(data: bytes, rnd: random.Random) -> bytes | None:
    """One segment's payload changed in place, its hash re-sealed."""
    doc = _document(data)
    segments = [s for s in doc.segments if s.payload_length] if doc is not None else []
    if not segments:
        return None
    seg = rnd.choice(segments)
    end = seg.payload_offset + seg.payload_length
    payload = change_bytes(data[seg.payload_offset:end], rnd, keep_length=True)
    return reseal(data[:seg.payload_offset] + payload + data[end:])


MUTATORS: dict[str, Callable[[bytes, random.Random], bytes | None]] = {
    "payload": _payload,
}
