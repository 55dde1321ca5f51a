"""AMEM spec-v1 layout: the documented format (seed 004 `docs/public/file-format.md`, AMEM.md Part 1).

Six contiguous sections, no padding (AMEM.md 1.6.2): header (64 B) | node records (64 B × node_count,
node N at 64 + 64·N) | edge records (13 B × edge_count, packed) | content block at `content_offset`
= 64 + 64·N + 13·M (`content_length` bytes: one LZ4 frame if flags bit 2, else raw) | feature vectors
at `vector_offset` = content_offset + content_length (N × dimension × f32) | indexes at
`index_offset` = vector_offset + 4·dimension·N up to EOF (present if flags bit 1).
"""

from __future__ import annotations

from construct import (
    Array,
    Bytes,
    Const,
    Enum,
    Float32l,
    GreedyBytes,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64sl,
    Int64ul,
    Struct,
    this,
)

from .agentic import EDGE_TYPES, EVENT_TYPES, MAGIC

NO_OFFSET = 0xFFFF_FFFF_FFFF_FFFF  # u64::MAX: no vector / no metadata
FLAG_VECTORS, FLAG_INDEXES, FLAG_COMPRESSED = 1, 2, 4

header = Struct(
    "magic" / Const(MAGIC) * "41 4D 45 4D ('AMEM')",
    "version" / Int16ul * "format version; readers reject > 1",
    "flags" / Int16ul * "bit 0 has vectors, bit 1 has indexes, bit 2 content compressed",
    "node_count" / Int32ul * "number of node records",
    "edge_count" / Int32ul * "number of edge records",
    "dimension" / Int16ul * "feature vector dimension (default 128)",
    "session_count" / Int16ul * "number of distinct sessions",
    "content_offset" / Int64ul * "start of the content block = 64 + 64·node_count + 13·edge_count",
    "content_length" / Int64ul * "stored (compressed) size of the content block",
    "vector_offset" / Int64ul * "start of the vector block = content_offset + content_length",
    "index_offset" / Int64ul * "start of the index block = vector_offset + 4·dimension·node_count",
    "content_uncompressed" / Int32ul * "decompressed size of the content block",
    "reserved" / Bytes(8) * "must be zero",
)

node_record = Struct(
    "event_type" / Enum(Int8ul, **EVENT_TYPES) * "0-5 fact..episode; >= 6 opaque",
    "padding" / Bytes(3) * "must be zero",
    "session" / Int32ul * "session id",
    "confidence" / Float32l * "confidence score",
    "timestamp" / Int64sl * "Unix seconds (UTC), signed",
    "content_offset" / Int64ul * "offset into the decompressed content block",
    "content_length" / Int32ul * "decompressed content length",
    "vector_offset" / Int64ul * "N·dimension·4 into the vector block; u64::MAX = no vector",
    "metadata_offset" / Int64ul * "offset of the JSON metadata in the decompressed block; u64::MAX = none",
    "metadata_length" / Int32ul * "metadata length; 0 = none",
    "reserved" / Bytes(12) * "must be zero",
)

edge_record = Struct(
    "source" / Int32ul * "source node id (record index), < node_count",
    "target" / Int32ul * "target node id, < node_count",
    "edge_type" / Enum(Int8ul, **EDGE_TYPES) * "0-6 caused_by..temporal_next; >= 7 opaque",
    "weight" / Float32l * "edge weight",
)

content_block = Struct(
    "data" / GreedyBytes * "one LZ4 frame (flags bit 2) or raw bytes: contents, then metadata JSON",
)

feature_vectors = Struct(
    "values" / Array(this._.count, Float32l) * "node_count × dimension f32; all-zero slot for absent vectors",
)

# --- indexes (no length field: each starts with u32 index_type) --------------------------------

type_index = Struct(
    "index_type" / Const(1, Int32ul) * "0x01",
    "num_types" / Int32ul * "number of event types (6)",
    "bitsets" / Array(this.num_types, Bytes(this._.bitset_size)) * "ceil(node_count/8) bytes per type, "
                                                                    "node N = bit N%8 of byte N//8",
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
    "assignments" / Array(this._.node_count, cluster_assignment) * "one per node, sorted by (cluster_id, "
                                                                     "node_id)",
)

index_kind = Struct(
    "index_type" / Int32ul * "1 type, 2 session, 3 time, 4 cluster map; unknown types cannot be skipped",
)

TYPE_INDEX, SESSION_INDEX, TIME_INDEX, CLUSTER_MAP = 1, 2, 3, 4
INDEX_BODIES = {TYPE_INDEX: type_index, SESSION_INDEX: session_index, TIME_INDEX: time_index,
                CLUSTER_MAP: cluster_map}
INDEX_NAMES = {TYPE_INDEX: "type_index", SESSION_INDEX: "session_index", TIME_INDEX: "time_index",
               CLUSTER_MAP: "cluster_map"}

HEADER_SIZE = header.sizeof()
NODE_SIZE = node_record.sizeof()
EDGE_SIZE = edge_record.sizeof()
