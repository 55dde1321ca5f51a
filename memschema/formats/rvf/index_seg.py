"""INDEX_SEG (segment type 0x02) as rvf-runtime writes it on `close()` after an indexed query
(RVF-INDEX-META.md Part A; `rvf-index/src/codec.rs`, `rvf-runtime/src/index_path.rs`).

Payload = codec part (header block | restart block | adjacency block, each zero-padded to a multiple
of 64, offsets from the payload start) ‖ trailer body (24 fixed bytes + id varints) ‖ `body_len` u32
‖ `RVIX`.  "varint" = unsigned LEB128.  The codec stores adjacency over dense ordinals `0..N`; the
trailer maps ordinal i to the i-th smallest indexed vector id.  Readers find the trailer from the end
of the payload (`index_trailer_end`), so `index_payload` (a forward parse, for `dump --as`) and the
decoder in `index_graph` apply the same sub-declarations.
"""

from __future__ import annotations

from construct import Array, Bytes, GreedyBytes, Int8ul, Int16ul, Int32ul, Int64ul, Struct, Tell, this

from .segment import pad_to
from .varint import U64VarInt as VarInt

INDEX_ALIGN = 64                 # every codec block is zero-padded to a multiple of 64 bytes
TRAILER_MAGIC = b"RVIX"
TRAILER_VERSION = 1
HNSW = 0                         # index_type; 1 IVF and 2 flat exist only as codec names
LAYER_C = 2                      # layer_level the runtime writes ("full adjacency")
DEFAULT_RESTART_INTERVAL = 64
NO_ENTRY = (1 << 64) - 1         # entry_ordinal u64::MAX = no entry point
INDEX_TYPES = {0: "hnsw", 1: "ivf", 2: "flat"}


_codec_head = (
    "index_type" / Int8ul * "0 HNSW (the runtime ignores an index of any other type); 1 IVF, 2 flat",
    "layer_level" / Int8ul * "2 = Layer C, full adjacency (not checked by readers)",
    "m" / Int16ul * "HNSW M of the graph (readers use max(m, 2)); runtime default 16",
    "ef_construction" / Int32ul * "ef_construction of the graph (readers use max(ef, 1)); runtime default 200",
    "node_count" / Int64ul * "indexed vectors N; must equal the trailer's id_count",
)
index_codec_head = Struct(*_codec_head)

index_codec_header = Struct(
    *_codec_head,
    "padding" / Bytes(INDEX_ALIGN - index_codec_head.sizeof()) * "zero bytes to 64",
) * "codec header block at payload offset 0"

_restart_fields = (
    "restart_interval" / Int32ul * "64: every restart_interval-th node stores absolute neighbour ordinals",
    "restart_count" / Int32ul * "ceil(N / restart_interval)",
    "restart_offsets" / Array(this.restart_count, Int32ul)
    * "byte offset of node k·restart_interval from the start of the adjacency block (first is 0)",
)
index_restart_head = Struct(*_restart_fields)

index_restart_block = Struct(
    *_restart_fields,
    "_pos" / Tell * "(position in the payload, for the padding)",
    "padding" / Bytes(pad_to(INDEX_ALIGN, index_restart_head)) * "zero bytes to the next multiple of 64",
) * "restart block at payload offset 64"

index_layer = Struct(
    "neighbor_count" / VarInt * "neighbours of the node in this layer",
    "neighbors" / Array(this.neighbor_count, VarInt)
    * "neighbour ordinals, ascending: absolute at restart nodes, else the first absolute and then deltas",
)

index_node = Struct(
    "layer_count" / VarInt * "HNSW layers the node is in (its level + 1), layer 0 first",
    "layers" / Array(this.layer_count, index_layer) * "one neighbour list per layer",
) * "one node's adjacency (node ordinals 0..N-1 in order)"

_trailer_head = (
    "trailer_version" / Int16ul * "1; other versions make the runtime ignore the index",
    "m0" / Int16ul * "layer-0 max degree (min(m0, 65535); 2·m when the runtime built it)",
    "max_layer" / Int32ul * "top layer index of the graph",
    "entry_ordinal" / Int64ul * "ordinal of the HNSW entry point; 0xFFFFFFFFFFFFFFFF = none",
    "id_count" / Int64ul * "N (= header node_count)",
)
index_trailer_head = Struct(*_trailer_head)

index_trailer = Struct(
    *_trailer_head,
    "id_deltas" / Array(this.id_count, VarInt) * "indexed ids ascending: the first absolute, then id[i] − id[i−1]",
) * "trailer body: the ordinal -> vector id map"

index_trailer_end = Struct(
    "body_len" / Int32ul * "bytes of the trailer body before this field",
    "magic" / Bytes(len(TRAILER_MAGIC)) * "52 56 49 58 ('RVIX')",
) * "last 8 bytes of the payload"

_codec_blocks = (
    "header" / index_codec_header * "codec header block",
    "restarts" / index_restart_block * "restart block",
    "nodes" / Array(this.header.node_count, index_node) * "adjacency block: node_count nodes",
)

index_payload = Struct(
    *_codec_blocks,
    "_pos" / Tell * "(position in the payload, for the padding)",
    "adjacency_padding" / Bytes(pad_to(INDEX_ALIGN, Struct(*_codec_blocks)))
    * "zero bytes to the next multiple of 64 (end of the codec part)",
    "trailer" / index_trailer * "trailer body",
    "trailer_end" / index_trailer_end * "body_len and RVIX",
    "trailing" / GreedyBytes * "bytes after RVIX (none in a well-formed payload; kept)",
) * "a whole INDEX_SEG payload read forward (readers locate the trailer from the end)"
