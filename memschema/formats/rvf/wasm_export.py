"""The `wasm_export` dialect: what `@ruvector/rvf-wasm` `rvf_store_export` writes (RVF.md 5;
`crates/rvf/rvf-wasm/src/store.rs`), read and written here.

A file is exactly `VEC(segment_id 1) ‖ MANIFEST(segment_id 2)`, packed, every header field after
`payload_length` zero (so `content_hash` is unset).  The VEC head swaps the runtime's counts (u16
`vector_count`, u32 `dimension`) and the writer casts the live count to u16: a store of 65,536
vectors or more gets a wrapped `vector_count` while the payload (and the manifest's u64
`total_vectors`) hold every record.  rvf-wasm's own `rvf_store_open` then loads only
`vector_count` records, so memschema decodes all of them and reports the wrap as an error.
"""

from __future__ import annotations

import numpy as np
from construct import Container, ListContainer

from ...errors import Finding, error
from ...parsing import build, locate, parse
from .runtime_payloads import vec_record_fixed, wasm_manifest_payload, wasm_vec_head, wasm_vec_payload
from .segment import SEG_TYPES, segment_header

WASM_VEC_HEAD = wasm_vec_head.sizeof()
COUNT_MODULUS = 1 << (8 * wasm_vec_payload.vector_count.sizeof())   # u16 vector_count
WASM_EPOCH = 1          # rvf_store_export writes epoch 1 and profile 0, always
VEC_ID, MANIFEST_ID = 1, 2


def record_size(dimension: int) -> int:
    return vec_record_fixed(dimension).sizeof()


def wasm_record_count(data, payload_offset: int, length: int) -> int | None:
    """Records in a wasm_export VEC payload: its `vector_count`, or the larger count that the payload
    length implies when the u16 wrapped (≡ `vector_count` mod 65,536); None when the payload does
    not fit as (u16 count, u32 dimension) + packed records."""
    if length < WASM_VEC_HEAD:
        return None
    head = parse(wasm_vec_head, data, payload_offset, "vec", WASM_VEC_HEAD)
    size = record_size(head.dimension)
    body = length - WASM_VEC_HEAD
    if body % size:
        return None
    count = body // size
    return count if count % COUNT_MODULUS == head.vector_count else None


def export_bytes(ids, vectors, dimension: int) -> bytes:
    """The bytes `rvf_store_export` writes for these live vectors (RVF.md 5): refuses 65,536 or
    more vectors, whose u16 count rvf-wasm itself would wrap."""
    from .writer import segment_bytes, vec_payload_bytes
    ids = np.asarray(ids, dtype=np.uint64).reshape(-1)
    if len(ids) >= COUNT_MODULUS:
        raise ValueError(f"{len(ids)} vectors: the wasm_export VEC count is a u16 (< {COUNT_MODULUS})")
    if not 0 < dimension < 1 << 16:
        raise ValueError("dimension must be 1..65535 (the wasm manifest stores it as u16)")
    vec = vec_payload_bytes(ids, vectors, dimension, head=wasm_vec_head)
    unset = bytes(segment_header.content_hash.sizeof())
    entry = Container(seg_id=VEC_ID, offset=0, payload_length=len(vec), seg_type=SEG_TYPES["vec"])
    manifest = build(wasm_manifest_payload, Container(
        epoch=WASM_EPOCH, dimension=dimension, total_vectors=len(ids), profile_id=0, seg_count=1,
        segment_dir=ListContainer([entry]), trailing=b""), "wasm_manifest_payload")
    return (segment_bytes(SEG_TYPES["vec"], VEC_ID, vec, unset)
            + segment_bytes(SEG_TYPES["manifest"], MANIFEST_ID, manifest, unset))


def wasm_findings(doc) -> list[Finding]:
    """VEC payloads of a wasm_export file: a wrapped u16 count, or bytes that are no whole records."""
    out: list[Finding] = []
    for seg in doc.segments:
        if seg.type_name != "vec":
            continue
        at = seg.offset + locate(segment_header, seg.header, "payload_length")
        count = wasm_record_count(doc.data, seg.payload_offset, seg.payload_length)
        if count is None:
            out.append(error("rvf.vec_size", f"VEC payload of {seg.payload_length} bytes is not a "
                             "wasm_export head (u16 count, u32 dimension) + whole records",
                             f"{seg.path}.header.payload_length", at))
            continue
        head = parse(wasm_vec_head, doc.data, seg.payload_offset, f"{seg.path}.payload", WASM_VEC_HEAD)
        if count != head.vector_count:
            out.append(error("rvf.wasm_count_wrapped", f"vector_count {head.vector_count} but the payload "
                             f"holds {count} records: rvf-wasm wrote the count as u16 and its reader loads "
                             f"only {head.vector_count}", f"{seg.path}.payload.vector_count",
                             seg.payload_offset + locate(wasm_vec_head, head, "vector_count")))
        if doc.dimension is not None and head.dimension != doc.dimension:
            out.append(error("rvf.vec_dimension", f"VEC dimension {head.dimension}, manifest says {doc.dimension}",
                             f"{seg.path}.payload.dimension",
                             seg.payload_offset + locate(wasm_vec_head, head, "dimension")))
    return out


__all__ = ["export_bytes", "wasm_record_count", "wasm_findings"]
