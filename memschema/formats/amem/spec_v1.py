"""AMEM spec-v1 layout: the documented format (seed 004 `docs/public/file-format.md`, AMEM.md Part 1).

Six contiguous sections, no padding (AMEM.md 1.6.2): header | node records (node_count, right after
the header) | edge records (edge_count, packed) | content block at `content_offset`
(`content_length` bytes: one LZ4 frame if flags bit 2, else raw) | feature vectors at
`vector_offset` (node_count × dimension f32) | indexes at `index_offset` up to EOF (present if
flags bit 1; no length field: each starts with its u32 index_type).  `spec_layout` states this once.
"""

from __future__ import annotations

from construct import (
    Array,
    Bytes,
    Check,
    Const,
    Default,
    Enum,
    Float32l,
    GreedyBytes,
    GreedyRange,
    If,
    IfThenElse,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64sl,
    Int64ul,
    Select,
    Struct,
    this,
)

from ...layout import EOF, Layout, Section
from .agentic import EDGE_TYPES, EVENT_TYPES, FORMAT_VERSION, MAGIC, feature_vector

NO_OFFSET = 0xFFFF_FFFF_FFFF_FFFF  # u64::MAX: no vector / no metadata
FLAG_VECTORS, FLAG_INDEXES, FLAG_COMPRESSED = 1, 2, 4

header = Struct(
    "magic" / Const(MAGIC) * "41 4D 45 4D ('AMEM')",
    "version" / Default(Int16ul, FORMAT_VERSION) * "format version; readers reject > 1",
    "flags" / Int16ul * "bit 0 has vectors, bit 1 has indexes, bit 2 content compressed",
    "node_count" / Int32ul * "number of node records",
    "edge_count" / Int32ul * "number of edge records",
    "dimension" / Int16ul * "feature vector dimension (default 128)",
    "session_count" / Int16ul * "number of distinct sessions",
    "content_offset" / Int64ul * "start of the content block, right after the edge records",
    "content_length" / Int64ul * "stored (compressed) size of the content block",
    "vector_offset" / Int64ul * "start of the vector block = content_offset + content_length",
    "index_offset" / Int64ul * "start of the index block, right after the vectors",
    "content_uncompressed" / Int32ul * "decompressed size of the content block",
    "reserved" / Default(Bytes(8), bytes(8)) * "must be zero",
)

node_record = Struct(
    "event_type" / Enum(Int8ul, **EVENT_TYPES) * "0-5 fact..episode; >= 6 opaque",
    "padding" / Default(Bytes(3), bytes(3)) * "must be zero",
    "session" / Int32ul * "session id",
    "confidence" / Float32l * "confidence score",
    "timestamp" / Int64sl * "Unix seconds (UTC), signed",
    "content_offset" / Int64ul * "offset into the decompressed content block",
    "content_length" / Int32ul * "decompressed content length",
    "vector_offset" / Int64ul * "N·dimension·4 into the vector block; u64::MAX = no vector",
    "metadata_offset" / Int64ul * "offset of the JSON metadata in the decompressed block; u64::MAX = none",
    "metadata_length" / Int32ul * "metadata length; 0 = none",
    "reserved" / Default(Bytes(12), bytes(12)) * "must be zero",
)

edge_record = Struct(
    "source" / Int32ul * "source node id (record index), < node_count",
    "target" / Int32ul * "target node id, < node_count",
    "edge_type" / Enum(Int8ul, **EDGE_TYPES) * "0-6 caused_by..temporal_next; >= 7 opaque",
    "weight" / Float32l * "edge weight",
)

# --- the content block: an LZ4 frame (flags bit 2) of contents then metadata, or the raw bytes ------

LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"
FLG_DICT_ID, FLG_CONTENT_CHECKSUM, FLG_CONTENT_SIZE, FLG_BLOCK_CHECKSUM = 0x01, 0x04, 0x08, 0x10
BLOCK_UNCOMPRESSED = 0x8000_0000    # block_size bit 31: the block's data is stored as is

lz4_data_block = Struct(
    "block_size" / Int32ul * "data size in the low 31 bits, bit 31 = stored uncompressed; 0 is the EndMark",
    Check(this.block_size != 0),        # the EndMark is no block: the blocks end before it
    "data" / Bytes(this.block_size & (BLOCK_UNCOMPRESSED - 1)) * "the block (LZ4 sequences, or raw bytes when "
                                                                   "bit 31 is set)",
    "block_checksum" / If(this._.flg & FLG_BLOCK_CHECKSUM, Int32ul) * "xxHash32 of the data (flg bit 4)",
)

lz4_frame = Struct(
    "magic" / Const(LZ4_FRAME_MAGIC) * "04 22 4D 18",
    "flg" / Int8ul * "bits 6-7 version (01), 5 block independence, 4 block checksums, 3 content size, "
                     "2 content checksum, 0 dictionary id",
    "bd" / Int8ul * "bits 4-6: block maximum size (4 = 64 KB ... 7 = 4 MB)",
    "content_size" / If(this.flg & FLG_CONTENT_SIZE, Int64ul) * "decompressed size (flg bit 3)",
    "dict_id" / If(this.flg & FLG_DICT_ID, Int32ul) * "dictionary id (flg bit 0)",
    "header_checksum" / Int8ul * "second byte of xxHash32 of the frame descriptor",
    "blocks" / GreedyRange(lz4_data_block) * "data blocks up to the EndMark",
    "end_mark" / Const(0, Int32ul) * "u32 0: end of the blocks",
    "content_checksum" / If(this.flg & FLG_CONTENT_CHECKSUM, Int32ul) * "xxHash32 of the decompressed block "
                                                                         "(flg bit 2)",
)

# A frame that does not parse stays raw bytes here: decoding it is the document's job and its
# failure a finding (amem.bad_lz4), not a file that cannot be loaded.
content_block = IfThenElse(this.header.flags & FLAG_COMPRESSED, Select(lz4_frame, GreedyBytes), GreedyBytes) * \
    "content_length bytes: contents, then metadata JSON; an LZ4 frame when flags bit 2 is set"

# --- indexes (no length field: each starts with u32 index_type) --------------------------------

type_index = Struct(
    "index_type" / Const(1, Int32ul) * "0x01",
    "num_types" / Int32ul * "number of event types (6)",
    "bitsets" / Array(this.num_types, Bytes((this._.header.node_count + 7) // 8)) * \
        "ceil(node_count/8) bytes per type, node N = bit N%8 of byte N//8",
)

session_range = Struct(
    "session_id" / Int32ul * "session id",
    "start_node" / Int32ul * "first node id of the session",
    "end_node" / Int32ul * "last node id of the session (inclusive)",
)
session_index = Struct(
    "index_type" / Const(2, Int32ul) * "0x02",
    "num_sessions" / Int32ul * "number of sessions",
    "sessions" / Array(this.num_sessions, session_range) * "ascending by session id",
)

time_entry = Struct(
    "timestamp" / Int64sl * "node timestamp (seconds)",
    "node_id" / Int32ul * "node id",
)
time_index = Struct(
    "index_type" / Const(3, Int32ul) * "0x03",
    "num_entries" / Int32ul * "number of entries",
    "entries" / Array(this.num_entries, time_entry) * "sorted by (timestamp, node_id)",
)

cluster_assignment = Struct(
    "cluster_id" / Int32ul * "cluster id",
    "node_id" / Int32ul * "node id",
)
cluster_map = Struct(
    "index_type" / Const(4, Int32ul) * "0x04",
    "num_clusters" / Int32ul * "number of clusters (may be 0)",
    "dimension" / Int32ul * "centroid dimension",
    "centroids" / Array(this.num_clusters, Array(this.dimension, Float32l)) * "centroid vectors",
    "assignments" / Array(this._.header.node_count, cluster_assignment) * \
        "one per node, sorted by (cluster_id, node_id)",
)

index_kind = Struct(
    "index_type" / Int32ul * "1 type, 2 session, 3 time, 4 cluster map; unknown types cannot be skipped",
)

TYPE_INDEX, SESSION_INDEX, TIME_INDEX, CLUSTER_MAP = 1, 2, 3, 4
INDEX_BODIES = {TYPE_INDEX: type_index, SESSION_INDEX: session_index, TIME_INDEX: time_index,
                CLUSTER_MAP: cluster_map}
INDEX_NAMES = {TYPE_INDEX: "type_index", SESSION_INDEX: "session_index", TIME_INDEX: "time_index",
               CLUSTER_MAP: "cluster_map"}

# An index has no length field: the first declaration whose index_type matches reads it; an
# unknown index_type ends the section (the rest is its tail, which cannot be skipped).
spec_index = Select(*INDEX_BODIES.values()) * "one index, by its index_type"

spec_layout = Layout(
    "amem_spec_v1", "AgenticMemory brain, documented spec-v1 layout",
    "header, node records, edge records, content block, feature vectors, indexes until the end, each section "
    "right after the previous one (AMEM.md Part 1)",
    Section("header", header, "64-byte header", at=0),
    Section("nodes", node_record, "node records; node id = record index", count=this.header.node_count),
    Section("edges", edge_record, "packed edge records, sorted by source", count=this.header.edge_count),
    Section("content", content_block, "content block", at=this.header.content_offset, size=this.header.content_length),
    Section("vectors", feature_vector, "node_count vectors of dimension f32 (all zero when absent)",
            at=this.header.vector_offset, count=this.header.node_count, shown=False),   # in each node's JSON
    Section("indexes", spec_index, "indexes until the end of the file (flags bit 1)", at=this.header.index_offset,
            count=EOF),
    extension="amem",
)

HEADER_SIZE = header.sizeof()


def vector_slot(dimension: int) -> int:
    """Bytes of one node's vector: node N's vector_offset is N times this (AMEM.md 1.6.7)."""
    return feature_vector.sizeof(header={"dimension": dimension})
