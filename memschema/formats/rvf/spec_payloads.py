"""The state of a spec-dialect store (RVF.md 4.2, 4.3, 4.7): Level-1 record values, and vectors
from spec VEC payloads (block directory, columnar blocks, delta-varint id maps, CRC32C per block),
with their findings.  Declarations: `spec.spec_vec_payload`, `spec.spec_manifest_payload`.

Live vectors = the blocks of the VEC segments the latest manifest's segment_dir record lists (every
VEC segment when it has none), in order, a later record of an id replacing an earlier one.  Blocks
of f32, f16 and bf16 decode to float32; quantised dtypes are reported, not decoded."""

from __future__ import annotations

import numpy as np

from ...errors import Finding, FormatError, Severity, error, warning
from ...parsing import build, locate, parse
from . import hashes
from .segment import SEG_TYPES
from .spec import (
    DATA_TYPES,
    LEVEL0_SIZE,
    LEVEL1_TAGS,
    LEVEL1_VALUES,
    VEC_ID_ENCODING_DELTA,
    level1_record,
    spec_manifest_payload,
    spec_vec_block_body,
    spec_vec_id_map,
    spec_vec_payload,
)
from .varint import delta_decode

_DTYPES = {name: value for value, name in DATA_TYPES.items()}
F32, F16, BF16 = _DTYPES["f32"], _DTYPES["f16"], _DTYPES["bf16"]
VEC = SEG_TYPES["vec"]
SEGMENT_DIR = next(tag for tag, name in LEVEL1_TAGS.items() if name == "segment_dir")


def decode_spec_manifest(doc, seg) -> tuple:
    """(Level0Root, its offset, [(offset, Level-1 record)]) of a spec MANIFEST payload, read with
    `spec_manifest_payload` (the Level0Root is its last 4096 bytes); FormatError when it does not
    decode or bytes before the root are no complete record (upstream rejects the manifest)."""
    path = f"{seg.path}.payload"
    if seg.payload_length < LEVEL0_SIZE:
        raise FormatError(f"spec manifest payload of {seg.payload_length} bytes has no {LEVEL0_SIZE}-byte "
                          "Level0Root", path, seg.payload_offset, "rvf.manifest_unparseable")
    value = parse(spec_manifest_payload, doc.data, seg.payload_offset, path, seg.payload_length)
    pos = seg.payload_offset                      # level1 is the payload's first field
    records = []
    for rec in value.level1.records:
        records.append((pos, rec))
        pos += len(build(level1_record, rec))
    if value.level1.rest:
        raise FormatError(f"{len(value.level1.rest)} bytes before the Level0Root are no complete Level-1 record",
                          f"{path}.level1.records[{len(records)}]", pos, "rvf.manifest_unparseable")
    return value.level0_root, pos, records        # the root follows the last record


def level1_values(manifest) -> list[dict]:
    """The manifest's Level-1 records with their decoded values (segment_dir, overlay_chain)."""
    out = []
    for pos, rec in manifest.records:
        item = {"offset": pos, "tag": rec.tag, "tag_name": LEVEL1_TAGS.get(rec.tag), "value": None}
        decl = LEVEL1_VALUES.get(rec.tag)
        if decl is not None:
            try:
                item["value"] = parse(decl, bytes(rec.value), 0, LEVEL1_TAGS[rec.tag])
            except FormatError as exc:
                item["error"] = exc
        out.append(item)
    return out


def spec_segment_dir(doc) -> list | None:
    """Entries of the latest manifest's segment_dir record, or None when it has none."""
    if doc.latest is None:
        return None
    for item in level1_values(doc.latest):
        if item["tag"] == SEGMENT_DIR and item["value"] is not None:
            return list(item["value"])
    return None


def listed_vec_segments(doc) -> list:
    entries = spec_segment_dir(doc)
    if entries is None:
        return [s for s in doc.segments if s.seg_type == VEC]
    return [doc.by_offset[e.file_offset] for e in entries
            if e.seg_type == VEC and e.file_offset in doc.by_offset and doc.by_offset[e.file_offset].seg_type == VEC]


def _payload(doc, seg):
    return parse(spec_vec_payload, doc.data, seg.payload_offset, f"{seg.path}.payload", seg.payload_length)


def _matrix(block, entry) -> np.ndarray | None:
    """(vector_count, dim) float32 from the columnar values, or None for a quantised dtype."""
    raw = bytes(block["values"])
    if entry.dtype == F32:
        cols = np.frombuffer(raw, "<f4")
    elif entry.dtype == F16:
        cols = np.frombuffer(raw, "<f2").astype(np.float32)
    elif entry.dtype == BF16:
        cols = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        return None
    return cols.reshape(entry.dim, entry.vector_count).T.astype(np.float32)


def block_ids(id_map) -> np.ndarray:
    """Absolute ids of a block's id map (rvf-wire `decode_delta`, or raw u64)."""
    if id_map.encoding == VEC_ID_ENCODING_DELTA:
        return delta_decode(np.array(list(id_map.ids), dtype=np.uint64), id_map.restart_interval)
    return np.array(list(id_map.ids), dtype=np.uint64)


def spec_vectors(doc) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ids, matrix, loaded ids, loaded matrix) of a spec store (no deletions in this dialect's state)."""
    dim = doc.dimension or 0
    id_parts, rows = [], []
    for seg in listed_vec_segments(doc):
        try:
            value = _payload(doc, seg)
        except FormatError:
            continue
        for entry, block in zip(value.entries, value.blocks):
            matrix = _matrix(block, entry)
            ids = block.id_map
            if matrix is None or entry.dim != dim or ids.id_count != entry.vector_count or \
                    (ids.encoding == VEC_ID_ENCODING_DELTA and not ids.restart_interval):
                continue
            id_parts.append(block_ids(ids))
            rows.append(matrix)
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, np.uint64)
    matrix = np.concatenate(rows) if rows else np.zeros((0, dim), np.float32)
    if len(ids) > 1:
        _, first_in_reversed = np.unique(ids[::-1], return_index=True)
        keep = np.sort(len(ids) - 1 - first_in_reversed)       # later records win
        ids, matrix = ids[keep], matrix[keep]
    return ids, matrix, ids, matrix


def spec_findings(doc) -> list[Finding]:
    out: list[Finding] = []
    for seg in doc.segments:
        if seg.seg_type != VEC:
            continue
        try:
            value = _payload(doc, seg)
        except FormatError as exc:
            out.append(error("rvf.payload_unparseable", f"spec VEC payload does not decode: {exc.message}",
                             exc.path, exc.offset))
            continue
        for i, (entry, block) in enumerate(zip(value.entries, value.blocks)):
            out += _block_findings(doc, seg, i, entry, block)
    out += _dir_findings(doc)
    root = doc.latest.root if doc.latest is not None else None
    if root is not None and doc.records_loaded != root.total_vector_count:
        out.append(warning("rvf.total_vectors_mismatch", f"total_vector_count {root.total_vector_count} but the "
                           f"listed VEC blocks hold {doc.records_loaded} distinct ids",
                           f"{doc.latest.segment.path}.level0_root.total_vector_count", None))
    return out


def _block_findings(doc, seg, i: int, entry, block) -> list[Finding]:
    out = []
    at = seg.payload_offset + entry.block_offset
    path = f"{seg.path}.payload.blocks[{i}]"
    ids = block.id_map
    map_at = at + len(block["values"])   # (Container.values is the dict method)
    body_len = len(build(spec_vec_block_body, block, path, entries=[entry], _index=0))
    crc = hashes.crc32c(doc.data[at:at + body_len])
    if crc != block.crc32c:
        out.append(error("rvf.spec_block_crc", f"crc32c 0x{block.crc32c:08x}, CRC32C of the block is 0x{crc:08x}",
                         f"{path}.crc32c", at + body_len))
    if ids.id_count != entry.vector_count:
        out.append(error("rvf.spec_block_ids", f"id_count {ids.id_count} for vector_count {entry.vector_count}",
                         f"{path}.id_map.id_count", map_at + locate(spec_vec_id_map, ids, "id_count")))
    if ids.encoding == VEC_ID_ENCODING_DELTA and not ids.restart_interval:
        out.append(error("rvf.spec_block_ids", "restart_interval 0: the delta id map cannot be decoded "
                         "(upstream panics)", f"{path}.id_map.restart_interval",
                         map_at + locate(spec_vec_id_map, ids, "restart_interval")))
    if doc.dimension is not None and entry.dim != doc.dimension:
        out.append(error("rvf.vec_dimension", f"block dimension {entry.dim}, Level0Root says {doc.dimension}",
                         f"{seg.path}.payload.entries[{i}].dim", None))
    if entry.dtype not in (F32, F16, BF16):
        out.append(Finding(Severity.INFO, "rvf.spec_dtype_not_decoded", f"dtype {entry.dtype} is quantised: the "
                           "block is kept, its vectors are not decoded to floats", f"{seg.path}.payload.entries[{i}]",
                           None))
    if any(bytes(block.padding)):
        out.append(warning("rvf.nonzero_padding", "block padding is not zero", f"{path}.padding", None))
    return out


def _dir_findings(doc) -> list[Finding]:
    """segment_dir entries must name a segment header at file_offset with the same id, type, length."""
    entries = spec_segment_dir(doc)
    out = []
    for i, e in enumerate(entries or []):
        path = f"{doc.latest.segment.path}.level1_records.segment_dir[{i}]"
        target = doc.by_offset.get(e.file_offset)
        if target is None:
            out.append(error("rvf.dir_entry_mismatch", f"no segment header at file_offset {e.file_offset}",
                             f"{path}.file_offset", None))
            continue
        for name, have in (("segment_id", target.header.segment_id), ("seg_type", target.seg_type),
                           ("payload_length", target.payload_length)):
            if int(e[name]) != have:
                out.append(error("rvf.dir_entry_mismatch", f"{name} {int(e[name])} but the segment at "
                                 f"{e.file_offset} has {have}", f"{path}.{name}", None))
    return out
