"""AMEM agentic-memory layout: what the `agentic-memory` crate 0.1-0.4 writes (AMEM.md Part 2).

File = header | node table (node_count records at `node_table_offset`) | edge table (edge_count
records at `edge_table_offset`) | content block (one size-prefixed LZ4 blob per node, at
`content_block_offset`, each placed by its node's content_offset/content_length) | feature vectors
(node_count × dimension f32 at `feature_vec_offset`) | index block (TLV entries until EOF; its start
is computed, no header field).  Little-endian, packed, nothing aligned.  `agentic_layout` states
this once; detection, loading, the writer, JSON and `explain` all derive from it.
"""

from __future__ import annotations

from construct import (
    Array,
    Bytes,
    Const,
    Default,
    Enum,
    Float32l,
    GreedyBytes,
    GreedyRange,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    Rebuild,
    Struct,
    len_,
    this,
)

from ...layout import EOF, Layout, Section, View

MAGIC = b"AMEM"

EVENT_TYPES = {"fact": 0, "decision": 1, "inference": 2, "correction": 3, "skill": 4, "episode": 5}
EDGE_TYPES = {"caused_by": 0, "supports": 1, "contradicts": 2, "supersedes": 3, "related_to": 4,
              "part_of": 5, "temporal_next": 6}

EventType = Enum(Int8ul, **EVENT_TYPES)
EdgeType = Enum(Int8ul, **EDGE_TYPES)

FORMAT_VERSION = 1           # what AmemWriter writes; readers reject > 1 and accept 0
FLAG_TERM_INDEX, FLAG_DOC_LENGTHS = 1, 2

header = Struct(
    "magic" / Const(MAGIC) * "41 4D 45 4D ('AMEM'), compared byte-wise",
    "version" / Default(Int32ul, FORMAT_VERSION) * "1; upstream rejects > 1 and accepts 0",
    "dimension" / Int32ul * "feature vector length (default 128); 0 accepted",
    "flags" / Int32ul * "bit 0 HAS_TERM_INDEX, bit 1 HAS_DOC_LENGTHS; 3 if node_count > 0; ignored on read",
    "node_count" / Int64ul * "number of node records",
    "edge_count" / Int64ul * "number of edge records",
    "node_table_offset" / Int64ul * "always 64 (the header's size)",
    "edge_table_offset" / Int64ul * "node_table_offset + node_count node records",
    "content_block_offset" / Int64ul * "edge_table_offset + edge_count edge records",
    "feature_vec_offset" / Int64ul * "content_block_offset + total size of the content blobs",
)

node_record = Struct(
    "id" / Int64ul * "explicit node id; not necessarily the record index (gaps after deletions)",
    "event_type" / EventType * "0-5 fact..episode; any other value makes upstream reject the file",
    "padding" / Default(Bytes(3), bytes(3)) * "written 0, not checked",
    "created_at" / Int64ul * "Unix epoch microseconds",
    "session_id" / Int32ul * "session id",
    "confidence" / Float32l * "clamped to [0,1] by the builder; not checked on read",
    "access_count" / Int32ul * "times the node was accessed",
    "last_accessed" / Int64ul * "microseconds; the builder sets it to created_at",
    "decay_score" / Float32l * "builder default 1.0",
    "content_offset" / Int64ul * "offset of this node's blob relative to content_block_offset",
    "content_length" / Int32ul * "stored blob size (4-byte prefix + LZ4 block); 0 = empty content",
    "edge_offset" / Int64ul * "byte offset into the edge table of the first outgoing edge (edge index × record size)",
    "edge_count" / Int16ul * "number of outgoing edges",
    "padding_tail" / Default(Bytes(6), bytes(6)) * "written 0, not checked",
)

edge_record = Struct(
    "source_id" / Int64ul * "source node id (not record index)",
    "target_id" / Int64ul * "target node id",
    "edge_type" / EdgeType * "0-6 caused_by..temporal_next; any other value makes upstream reject the file",
    "padding" / Default(Bytes(3), bytes(3)) * "written 0, not checked",
    "weight" / Float32l * "clamped to [0,1] when the edge is created",
    "created_at" / Int64ul * "microseconds",
)

content_blob = Struct(
    "uncompressed_size" / Int32ul * "u32 LE size of the decoded text (lz4_flex compress_prepend_size)",
    "block" / GreedyBytes * "raw LZ4 block (no frame), up to the node's content_length",
)

feature_vector = Array(this.header.dimension, Float32l) * \
    "one node's vector: dimension f32 in node-record order; all zero = no vector"

index_entry = Struct(
    "tag" / Int8ul * "1 type, 2 temporal, 3 session, 4 cluster map, 5 term index, 6 doc lengths; others skipped",
    "length" / Rebuild(Int64ul, len_(this.body)) * "body length in bytes",
    "body" / Bytes(this.length) * "tag-specific body",
)

# --- index bodies (the `body` of an index_entry, by tag) ----------------------------------------

type_group = Struct(
    "event_type" / EventType * "event type of this group",
    "n" / Int64ul * "number of node ids",
    "node_ids" / Array(this.n, Int64ul) * "ids of the nodes of this type, ascending",
)
type_index = Struct(
    "groups" / GreedyRange(type_group) * "non-empty types only, ascending; empty body for an empty brain",
)

temporal_entry = Struct(
    "created_at" / Int64ul * "the node's created_at (µs)",
    "node_id" / Int64ul * "node id",
)
temporal_index = Struct(
    "n" / Int64ul * "number of entries",
    "entries" / Array(this.n, temporal_entry) * "sorted by (created_at, node_id)",
)

session_group = Struct(
    "session_id" / Int32ul * "session id",
    "k" / Int64ul * "number of node ids",
    "node_ids" / Array(this.k, Int64ul) * "ids of the session's nodes, ascending",
)
session_index = Struct(
    "n" / Int32ul * "number of sessions",
    "sessions" / Array(this.n, session_group) * "sessions ascending by id",
)

cluster = Struct(
    "centroid" / Array(this._.dimension, Float32l) * "centroid vector (cluster map dimension floats)",
    "k" / Int64ul * "number of member ids",
    "node_ids" / Array(this.k, Int64ul) * "member node ids",
)
cluster_map = Struct(
    "cluster_count" / Int32ul * "number of clusters; 0 from the CLI/MCP server",
    "dimension" / Int32ul * "centroid dimension",
    "clusters" / Array(this.cluster_count, cluster) * "clusters in order",
)

posting = Struct(
    "node_id" / Int64ul * "node id",
    "tf" / Int32ul * "occurrences of the term in that node",
)
term_entry = Struct(
    "len" / Int16ul * "term length in UTF-8 bytes",
    "term" / Bytes(this.len) * "the term, UTF-8",
    "n" / Int32ul * "number of postings",
    "postings" / Array(this.n, posting) * "ascending by node_id",
)
term_index = Struct(
    "doc_count" / Int64ul * "node_count",
    "avg_doc_length" / Float32l * "f32(total tokens) / f32(node_count)",
    "term_count" / Int32ul * "number of terms",
    "terms" / Array(this.term_count, term_entry) * "terms sorted by UTF-8 bytes",
)

doc_lengths = Struct(
    "count" / Int64ul * "max node id + 1",
    "length" / Array(this.count, Int32ul) * "token count per node id (0 for missing ids)",
)

TAG_TYPE, TAG_TEMPORAL, TAG_SESSION, TAG_CLUSTER, TAG_TERMS, TAG_DOC_LENGTHS = 1, 2, 3, 4, 5, 6
INDEX_BODIES = {TAG_TYPE: type_index, TAG_TEMPORAL: temporal_index, TAG_SESSION: session_index,
                TAG_CLUSTER: cluster_map, TAG_TERMS: term_index, TAG_DOC_LENGTHS: doc_lengths}
INDEX_NAMES = {TAG_TYPE: "type_index", TAG_TEMPORAL: "temporal_index", TAG_SESSION: "session_index",
               TAG_CLUSTER: "cluster_map", TAG_TERMS: "term_index", TAG_DOC_LENGTHS: "doc_lengths"}

agentic_layout = Layout(
    "amem_agentic", "AgenticMemory brain, agentic-memory layout (what the crate writes)",
    "header, node table, edge table, content block (one size-prefixed LZ4 blob per node, placed by the node's "
    "content_offset/content_length), feature vectors, then TLV index entries until the end (AMEM.md Part 2)",
    Section("header", header, "64-byte header", at=0),
    Section("nodes", node_record, "node records", at=this.header.node_table_offset, count=this.header.node_count),
    Section("edges", edge_record, "edge records, sorted by (source_id, target_id)", at=this.header.edge_table_offset,
            count=this.header.edge_count),
    Section("content_block", GreedyBytes, "the nodes' stored blobs, concatenated", at=this.header.content_block_offset,
            size=this.header.feature_vec_offset - this.header.content_block_offset, shown=False),   # decoded per node
    Section("vectors", feature_vector, "node_count vectors of dimension f32, unaligned",
            at=this.header.feature_vec_offset, count=this.header.node_count, shown=False),   # in each node's JSON
    Section("index", index_entry, "index entries (tag, length, body) until the end of the file; bytes that do not "
            "form a complete entry are ignored upstream", count=EOF),
    View("content", content_blob, "one node's stored blob", table="nodes", offset="content_offset",
         length="content_length", base=this.header.content_block_offset, region="content_block"),
    extension="amem",
)

HEADER_SIZE = header.sizeof()
