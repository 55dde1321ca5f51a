"""Lineage types of `rvf-types/src/lineage.rs` (RVF.md 2.5, 4.4; seed 001).

FileIdentity (68 B) sits in the runtime manifest's `IDIF` trailer and at Level0Root 0xF00.
LineageRecord (128 B) is the spec's derivation log record; no shipping writer emits it.
"""

from __future__ import annotations

from construct import Bytes, Enum, Int8ul, Int32ul, Int64ul, Struct

DERIVATION_TYPES = {
    "clone": 0, "filter": 1, "merge": 2, "quantize": 3, "reindex": 4, "transform": 5,
    "snapshot": 6, "user_defined": 0xFF,
}

# witness_type values of lineage events (lineage.rs); opaque u8 elsewhere (RVF.md 2.4)
LINEAGE_WITNESS_TYPES = {"derivation": 0x09, "lineage_merge": 0x0A, "lineage_snapshot": 0x0B,
                         "lineage_transform": 0x0C, "lineage_verify": 0x0D}

DerivationType = Enum(Int8ul, **DERIVATION_TYPES)

file_identity = Struct(
    "file_id" / Bytes(16) * "this file's id (runtime: fold32(path || le64(now_ns))[0:16])",
    "parent_id" / Bytes(16) * "parent's file_id; zero for a root",
    "parent_hash" / Bytes(32) * "hash of the parent (runtime: fold32 of its last 64 KiB; spec: SHAKE-256 of its root)",
    "lineage_depth" / Int32ul * "0 for a root, parent's depth + 1",
)

lineage_record = Struct(
    "file_id" / Bytes(16) * "the derived file's id",
    "parent_id" / Bytes(16) * "the parent's file_id",
    "parent_hash" / Bytes(32) * "hash of the parent's Level0Root",
    "derivation_type" / DerivationType * "DerivationType; values outside the enum are invalid",
    "_pad" / Bytes(3) * "0",
    "mutation_count" / Int32ul * "mutations applied in the derivation",
    "timestamp_ns" / Int64ul * "when the derivation happened",
    "description_len" / Int8ul * "UTF-8 bytes used in `description` (<= 47)",
    "description" / Bytes(47) * "UTF-8 text, zero-filled after description_len",
)


def is_root(identity) -> bool:
    """No parent: `parent_id` all zero and depth 0."""
    return not any(bytes(identity.parent_id)) and identity.lineage_depth == 0
