"""The spec dialect of the upstream codecs `rvf-wire`, `rvf-manifest`, `rvf-crypto` (RVF.md 4).

Segment = header (64 B) ‖ payload ‖ signature footer (only with flag SIGNED) ‖ `alignment_pad`
zero bytes up to the next 64-byte boundary.  A MANIFEST payload = Level-1 TLV records (each
padded to 8 bytes) ‖ Level0Root (the last 4096 bytes; FileIdentity at 0xF00, CRC32C of
0x000..0xFFB at 0xFFC).  Witness chains are 73-byte entries back to back.
"""

from __future__ import annotations

from construct import Array, Bytes, GreedyBytes, GreedyRange, If, Int8ul, Int16ul, Int32ul, Int64ul, Struct, this

from .lineage import file_identity
from .segment import FLAGS, segment_header

ROOT_MANIFEST_MAGIC = 0x52564D30   # "RVM0", bytes 30 4D 56 52
LEVEL0_SIZE = 4096
ALIGNMENT = 64
SIG_BUF_SIZE = 3684
WITNESS_ENTRY_SIZE = 73
SIG_ALGOS = {0: "ed25519", 1: "ml_dsa_65", 2: "slh_dsa_128s"}
LEVEL1_TAGS = {
    1: "segment_dir", 2: "temp_tier_map", 3: "index_layers", 4: "overlay_chain",
    5: "compaction_state", 6: "shard_refs", 7: "capability_manifest", 8: "profile_config",
    9: "access_sketch_ref", 10: "prefetch_table", 11: "id_restart_points", 12: "witness_chain",
    13: "key_directory",
}
DATA_TYPES = {0: "f32", 1: "f16", 2: "bf16", 3: "i8", 4: "u8", 5: "i4", 6: "binary", 7: "pq", 8: "custom"}

# --- segments (4.1, 4.6) ----------------------------------------------------------------------

signature_footer = Struct(
    "sig_algo" / Int16ul * "0 Ed25519, 1 ML-DSA-65, 2 SLH-DSA-128s",
    "sig_length" / Int16ul * "signature bytes",
    "signature" / Bytes(this.sig_length) * "signature (message: RVF.md 4.6)",
    "footer_length" / Int32ul * "8 + sig_length",
)

spec_segment = Struct(
    "header" / segment_header * "64-byte header",
    "payload" / Bytes(this.header.payload_length) * "payload_length bytes",
    "footer" / If(this.header.flags & FLAGS["SIGNED"], signature_footer) * "only with flag SIGNED",
    "padding" / Bytes(this.header.alignment_pad) * "zero bytes to the next 64-byte boundary (not hashed)",
)

# --- Level0Root (4.2) -------------------------------------------------------------------------


def _pointer(last: str):
    return Struct(
        "seg_offset" / Int64ul * "segment offset",
        "block_offset" / Int32ul * "block offset in the segment",
        last / Int32ul * "element count",
    )


level0_root = Struct(
    "magic" / Int32ul * "ROOT_MANIFEST_MAGIC 0x52564D30 (bytes 30 4D 56 52)",
    "version" / Int16ul * "1 (zeroed() gives 0)",
    "flags" / Int16ul * "root flags",
    "l1_manifest_offset" / Int64ul * "offset of the Level-1 records",
    "l1_manifest_length" / Int64ul * "their length",
    "total_vector_count" / Int64ul * "vectors in the file",
    "dimension" / Int16ul * "vector dimension",
    "base_dtype" / Int8ul * "DataType: 0 F32, 1 F16, 2 BF16, 3 I8, 4 U8, 5 I4, 6 Binary, 7 PQ, 8 Custom",
    "profile_id" / Int8ul * "hardware ProfileId",
    "epoch" / Int32ul * "manifest epoch",
    "created_ns" / Int64ul * "creation time",
    "modified_ns" / Int64ul * "modification time",
    "entrypoint" / _pointer("count") * "HNSW entry point",
    "toplayer" / _pointer("node_count") * "top layer",
    "centroid" / _pointer("count") * "centroids",
    "quantdict" / _pointer("size") * "quantisation dictionary",
    "hot_cache" / _pointer("vector_count") * "hot cache",
    "prefetch_map" / Struct(
        "offset" / Int64ul * "prefetch map offset",
        "entries" / Int32ul * "entries",
        "_pad" / Int32ul * "0",
    ) * "prefetch map",
    "sig_algo" / Int16ul * "signature algorithm",
    "sig_length" / Int16ul * "bytes of signature_buf used (<= 3684)",
    "signature_buf" / Bytes(SIG_BUF_SIZE) * "signature, then zero bytes",
    "file_identity" / file_identity * "FileIdentity at 0xF00",
    "cow_map_offset" / Int64ul * "COW map segment offset (0 = none)",
    "cow_map_generation" / Int32ul * "COW map generation",
    "membership_offset" / Int64ul * "membership segment offset",
    "membership_generation" / Int32ul * "membership generation",
    "snapshot_epoch" / Int32ul * "snapshot epoch",
    "double_root_generation" / Int32ul * "double-root generation",
    "double_root_hash" / Bytes(32) * "double-root hash",
    "reserved" / Bytes(120) * "zero",
    "root_checksum" / Int32ul * "CRC32C of bytes 0x000..0xFFB",
)

# --- Level-1 records (4.3) --------------------------------------------------------------------

level1_record = Struct(
    "tag" / Int16ul * "1 segment_dir ... 13 key_directory; others rejected upstream",
    "length" / Int32ul * "value bytes",
    "pad" / Int16ul * "0",
    "value" / Bytes(this.length) * "record value",
    "align" / Bytes(lambda ctx: -(8 + ctx.length) % 8) * "zero bytes to the next 8-byte boundary",
)

spec_dir_entry = Struct(
    "segment_id" / Int64ul * "segment id",
    "seg_type" / Int8ul * "segment type",
    "tier" / Int8ul * "temperature tier",
    "flags" / Int16ul * "segment flags",
    "reserved" / Int32ul * "0",
    "file_offset" / Int64ul * "segment header offset",
    "payload_length" / Int64ul * "payload bytes",
    "compressed_length" / Int64ul * "compressed bytes",
    "shard_id" / Int16ul * "shard",
    "compression" / Int16ul * "compression",
    "block_count" / Int32ul * "blocks",
    "content_hash" / Bytes(16) * "payload hash",
)

overlay_chain = Struct(
    "epoch" / Int32ul * "epoch",
    "pad" / Int32ul * "0",
    "prev_manifest_offset" / Int64ul * "previous manifest offset",
    "prev_manifest_id" / Int64ul * "previous manifest id",
    "checkpoint_hash" / Bytes(16) * "checkpoint hash",
)

# --- witness entries (4.5) and LineageRecord witness ------------------------------------------

witness_entry = Struct(
    "prev_hash" / Bytes(32) * "zero for entry 0, else SHAKE-256-256 of the previous 73 bytes",
    "action_hash" / Bytes(32) * "SHAKE-256-256 of the logged action (e.g. a LineageRecord)",
    "timestamp_ns" / Int64ul * "time",
    "witness_type" / Int8ul * "opaque u8 (0x09 WITNESS_DERIVATION, ...)",
)

witness_chain = GreedyRange(witness_entry)

# --- spec VEC payload directory (4.7, codec only) ---------------------------------------------

spec_vec_block_entry = Struct(
    "block_offset" / Int32ul * "offset of the block in the payload",
    "vector_count" / Int32ul * "vectors in the block",
    "dim" / Int16ul * "dimension",
    "dtype" / Int8ul * "DataType",
    "tier" / Int8ul * "tier",
)

spec_vec_directory = Struct(
    "block_count" / Int32ul * "blocks",
    "entries" / Array(this.block_count, spec_vec_block_entry) * "12-byte entries",
    "blocks" / GreedyBytes * "directory padding and columnar blocks (not decoded)",
)
