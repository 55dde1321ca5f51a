"""The spec dialect of the upstream codecs `rvf-wire`, `rvf-manifest`, `rvf-crypto` (RVF.md 4).

Segment = header (64 B) ‖ payload ‖ signature footer (only with flag SIGNED) ‖ `alignment_pad`
zero bytes up to the next 64-byte boundary.  A MANIFEST payload = Level-1 TLV records (each
padded to 8 bytes) ‖ Level0Root (the last 4096 bytes; FileIdentity at 0xF00, CRC32C of
0x000..0xFFB at 0xFFC).  Witness chains are 73-byte entries back to back.
"""

from __future__ import annotations

from construct import (
    Array,
    Bytes,
    FixedSized,
    GreedyBytes,
    GreedyRange,
    If,
    IfThenElse,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    Pointer,
    Struct,
    Tell,
    this,
)

from ...parsing import field_offset
from .lineage import file_identity
from .segment import FLAGS, bytes_left, pad_to, segment_header
from .varint import U64VarInt as VarInt

ROOT_MANIFEST_MAGIC = 0x52564D30   # "RVM0", bytes 30 4D 56 52
ALIGNMENT = 64                     # segments (and VEC blocks) end on a multiple of 64 bytes
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
    "footer" / If((this.header.flags & FLAGS["SIGNED"]) != 0, signature_footer) * "only with flag SIGNED",
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
    "signature_buf" / Bytes(3684) * "signature, then zero bytes",
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
LEVEL0_SIZE = level0_root.sizeof()                          # 4096
ROOT_CHECKSUM_AT = field_offset(level0_root, "root_checksum")   # 0xFFC: the CRC covers what precedes it

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
WITNESS_ENTRY_SIZE = witness_entry.sizeof()                 # 73

# --- spec VEC payload (4.7; rvf-wire vec_seg_codec.rs) -----------------------------------------

VEC_ID_ENCODING_DELTA = 1      # id map encoding 1 = delta-varint with restarts; anything else raw u64
VEC_ID_RESTART_INTERVAL = 128
# element bytes per DataType in a columnar block (vec_seg_codec `dtype_element_size`: others fall back to 1)
DTYPE_SIZES = {0: 4, 1: 2, 2: 2, 3: 1, 4: 1}


def _block_entry(ctx):
    """The directory entry of the block being parsed (blocks are an Array of Pointers)."""
    return ctx._.entries[ctx._._index]


def _values_length(ctx) -> int:
    e = _block_entry(ctx)
    return e.vector_count * e.dim * DTYPE_SIZES.get(e.dtype, 1)


spec_vec_block_entry = Struct(
    "block_offset" / Int32ul * "offset of the block in the payload",
    "vector_count" / Int32ul * "vectors in the block",
    "dim" / Int16ul * "dimension",
    "dtype" / Int8ul * "DataType: 0 F32, 1 F16, 2 BF16, 3 I8, 4 U8, ... (others: 1 byte per element)",
    "tier" / Int8ul * "temperature tier",
)

spec_vec_id_map = Struct(
    "encoding" / Int8ul * "id map encoding: 1 delta-varint, else raw u64 ids",
    "restart_interval" / Int16ul * "128: every restart_interval-th id is stored absolute",
    "id_count" / Int32ul * "ids in the map (= vector_count)",
    "ids" / IfThenElse(this.encoding == VEC_ID_ENCODING_DELTA, Array(this.id_count, VarInt),
                       Array(this.id_count, Int64ul)) * "LEB128 deltas (absolute at each restart), or u64 ids",
)

_vec_block_body = (
    "values" / Bytes(_values_length) * "columnar: every vector's component 0, then component 1, ...",
    "id_map" / spec_vec_id_map * "the block's vector ids",
)
spec_vec_block_body = Struct(*_vec_block_body)     # the bytes the block CRC covers

_vec_block_fields = (
    *_vec_block_body,
    "crc32c" / Int32ul * "CRC32C of the block bytes before this field (values, id map header, ids)",
)

spec_vec_block = Struct(
    *_vec_block_fields,
    "_pos" / Tell * "(position in the payload, for the padding)",
    "padding" / Bytes(pad_to(ALIGNMENT, Struct(*_vec_block_fields))) * "zero bytes to the next multiple of 64",
) * "one columnar VEC block, at its directory entry's block_offset"

_vec_directory = (
    "block_count" / Int32ul * "blocks",
    "entries" / Array(this.block_count, spec_vec_block_entry) * "12-byte block directory entries",
)
spec_vec_directory = Struct(*_vec_directory)

spec_vec_payload = Struct(
    *_vec_directory,
    "_pos" / Tell * "(position in the payload, for the padding)",
    "directory_padding" / Bytes(pad_to(ALIGNMENT, spec_vec_directory)) * "zero bytes to the next multiple of 64",
    "blocks" / Array(this.block_count, Pointer(lambda ctx: ctx.entries[ctx._index].block_offset, spec_vec_block))
    * "the blocks, each at its entry's block_offset",
) * "spec VEC payload: block directory + columnar blocks with delta-varint id maps and CRC32C"

# --- spec MANIFEST payload (4.2, 4.3) -----------------------------------------------------------

spec_manifest_payload = Struct(
    "level1" / FixedSized(lambda ctx: bytes_left(ctx) - LEVEL0_SIZE, Struct(
        "records" / GreedyRange(level1_record) * "Level-1 TLV records, each padded to 8 bytes",
        "rest" / GreedyBytes * "bytes that are no complete record (upstream rejects them)",
    )) * "everything before the Level0Root",
    "level0_root" / level0_root * "the last 4096 bytes",
) * "spec MANIFEST payload: Level-1 records then the 4096-byte Level0Root"

# values of the Level-1 records this package decodes (others stay bytes)
LEVEL1_VALUES = {1: GreedyRange(spec_dir_entry), 4: overlay_chain}
