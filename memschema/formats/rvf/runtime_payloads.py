"""Payload declarations of the runtime dialect written by `rvf-runtime` RvfStore (RVF.md 3.3,
3.6-3.8, 3.12), and of the wasm_export dialect's VEC and MANIFEST (RVF.md 5).

Every payload is packed, unaligned, little-endian (except KernelHeader.api_port).  Sizes:
MANIFEST `22 + 25·seg_count + 4 + 8·del_count` (+ 4 + 68 with the `IDIF` identity); VEC
`6 + vector_count·(8 + 4·dimension)`; JOURNAL `16 + 12·entry_count`; WITNESS `45 + action_len`;
KERNEL 128 + image + cmdline; EBPF 64 + bytecode + BTF; COW_MAP 64 + observed framing;
MEMBERSHIP 96 + filter.  Bytes after the declared fields are kept in `trailing`.
"""

from __future__ import annotations

from functools import lru_cache

from construct import (
    Array,
    Bytes,
    Enum,
    Float32l,
    GreedyBytes,
    If,
    Int8ul,
    Int16ub,
    Int16ul,
    Int32ul,
    Int64ul,
    Optional,
    Struct,
    this,
)

from ...parsing import locate
from ...walker import parse_value
from .lineage import file_identity
from .segment import SegType

IDENTITY_MARKER = 0x46494449   # "FIDI", bytes 49 44 49 46 ("IDIF") on disk
METRICS = {"l2": 0, "inner_product": 1, "cosine": 2}
PROFILES = {0: "generic", 1: "core", 2: "hot", 3: "full"}
WITNESS_DATA_PROVENANCE = 0x00   # delete
WITNESS_COMPUTATION = 0x01       # ingest, compact, audited query
JOURNAL_DELETE_VECTOR = 0x01
KERNEL_MAGIC = 0x52564B4E
EBPF_MAGIC = 0x52564250
COW_MAP_MAGIC = 0x5256434D
MEMBERSHIP_MAGIC = 0x52564D42

Metric = Enum(Int8ul, **METRICS)

# --- MANIFEST (0x05) ------------------------------------------------------------------------

dir_entry = Struct(
    "seg_id" / Int64ul * "segment_id of the listed segment",
    "offset" / Int64ul * "absolute offset of the segment header",
    "payload_length" / Int64ul * "its payload_length",
    "seg_type" / SegType * "its seg_type",
)

_manifest_head = (
    "epoch" / Int32ul * "0 at create, +1 per ingest, delete, embed, compact",
    "dimension" / Int16ul * "vector dimension",
    "total_vectors" / Int64ul * "distinct ids loaded from listed VEC segments, soft-deleted included",
    "seg_count" / Int32ul * "directory entries",
    "profile_id" / Int8ul * "hardware ProfileId: 0 Generic, 1 Core, 2 Hot, 3 Full",
    "metric" / Metric * "0 L2, 1 InnerProduct, 2 Cosine (older writers: always 0)",
    "reserved" / Bytes(2) * "0",
)
manifest_head = Struct(*_manifest_head)

manifest_payload = Struct(
    *_manifest_head,
    "segment_dir" / Array(this.seg_count, dir_entry) * "segments written before this manifest",
    "del_count" / Int32ul * "number of deleted ids",
    "deleted_ids" / Array(this.del_count, Int64ul) * "soft-deleted ids, ascending",
    "identity_marker" / Optional(Int32ul) * "0x46494449 ('IDIF' on disk) when a FileIdentity follows",
    "file_identity" / If(this.identity_marker == IDENTITY_MARKER, Optional(file_identity))
    * "68-byte FileIdentity; None when absent or truncated",
    "trailing" / GreedyBytes * "bytes after the identity (ignored upstream; kept)",
)

manifest_payload_short = Struct(
    *_manifest_head,
    "segment_dir" / Array(this.seg_count, dir_entry) * "segments written before this manifest",
    "trailing" / GreedyBytes * "0-3 bytes where del_count would start (ignored upstream; kept)",
) * "a MANIFEST payload that ends after its directory: upstream reads it with no deletions, no identity"



def manifest_declaration(data, offset: int, length: int):
    """`manifest_payload`, or `manifest_payload_short` for a payload that ends before `del_count`
    (upstream reads it with no deletions and no identity).  Raises FormatError when not even the
    head is there."""
    head, _ = parse_value(manifest_head, data, offset, "manifest", offset + length)
    if length < locate(manifest_payload, head, "del_count") + manifest_payload.del_count.sizeof():
        return manifest_payload_short
    return manifest_payload


# --- VEC (0x01) -------------------------------------------------------------------------------


def _vec_record(dimension):
    return Struct(
        "id" / Int64ul * "vector id (any u64)",
        "data" / Array(dimension, Float32l) * "dimension f32 components",
    )


vec_record = _vec_record(this._.dimension)


@lru_cache(maxsize=64)
def vec_record_fixed(dimension: int):
    """The VEC record for one known dimension (fixed size: numpy dtypes derive from it)."""
    return _vec_record(dimension)


_vec_head = (
    "dimension" / Int16ul * "vector dimension",
    "vector_count" / Int32ul * "records that follow",
)
vec_head = Struct(*_vec_head)
VEC_HEAD_SIZE = vec_head.sizeof()

vec_payload = Struct(
    *_vec_head,
    "records" / Array(this.vector_count, vec_record) * "packed {id, data} records",
    "trailing" / GreedyBytes * "bytes past 6 + n·(8 + 4·dim): invalid, kept",
)


def vec_payload_size(vector_count: int, dimension: int) -> int:
    """Bytes of a VEC payload holding `vector_count` records of `dimension` (6 + n·(8 + 4·dim) in the
    runtime and wasm_export heads alike), from the declarations."""
    return VEC_HEAD_SIZE + vector_count * _record_size(dimension)


@lru_cache(maxsize=64)
def _record_size(dimension: int) -> int:
    return vec_record_fixed(dimension).sizeof()

# --- JOURNAL (0x04) ---------------------------------------------------------------------------

journal_entry = Struct(
    "entry_type" / Int8ul * "0x01 DELETE_VECTOR",
    "reserved" / Int8ul * "0",
    "entry_length" / Int16ul * "8",
    "vector_id" / Int64ul * "deleted id (absent ids are journaled too)",
)

journal_payload = Struct(
    "entry_count" / Int32ul * "entries that follow",
    "epoch" / Int32ul * "epoch after the delete",
    "prev_journal_seg_id" / Int64ul * "always 0",
    "entries" / Array(this.entry_count, journal_entry) * "12-byte entries",
    "trailing" / GreedyBytes * "extra bytes (invalid, kept)",
)

# --- WITNESS (0x0A) ---------------------------------------------------------------------------

witness_payload = Struct(
    "witness_type" / Int8ul * "0x00 DATA_PROVENANCE (delete), 0x01 COMPUTATION (ingest, compact, query)",
    "timestamp_ns" / Int64ul * "wall clock",
    "action_len" / Int32ul * "bytes of action",
    "action" / Bytes(this.action_len) * "ASCII, e.g. ingest:count=3,epoch=1",
    "prev_hash" / Bytes(32) * "zero (genesis/restart) or fold32 of the previous WITNESS payload",
    "trailing" / GreedyBytes * "extra bytes (invalid, kept)",
)

# --- KERNEL (0x0E) ----------------------------------------------------------------------------

kernel_header = Struct(
    "kernel_magic" / Int32ul * "0x52564B4E (bytes 4E 4B 56 52)",
    "header_version" / Int16ul * "1",
    "arch" / Int8ul * "0 x86_64, 1 aarch64, 2 riscv64, 0xFE universal, 0xFF unknown",
    "kernel_type" / Int8ul * "0 Hermit, 1 MicroLinux, 2 Asterinas, 3 WasiPreview2, 4 Custom, 0xFE TestStub",
    "kernel_flags" / Int32ul * "KERNEL_FLAG_* bits 0-14",
    "min_memory_mb" / Int32ul * "minimum memory",
    "entry_point" / Int64ul * "entry point",
    "image_size" / Int64ul * "bytes of image after the header",
    "compressed_size" / Int64ul * "= image_size",
    "compression" / Int8ul * "0 none",
    "api_transport" / Int8ul * "0 TcpHttp, 1 TcpGrpc, 2 Vsock, 3 SharedMem, 0xFF None",
    "api_port" / Int16ub * "BIG-endian port",
    "api_version" / Int32ul * "1",
    "image_hash" / Bytes(32) * "fold32(image)",
    "build_id" / Bytes(16) * "build id",
    "build_timestamp" / Int64ul * "build time",
    "vcpu_count" / Int32ul * "vCPUs",
    "reserved_0" / Int32ul * "0",
    "cmdline_offset" / Int64ul * "says 128, yet the runtime puts the cmdline after the image",
    "cmdline_length" / Int32ul * "bytes of cmdline",
    "reserved_1" / Int32ul * "0",
)

kernel_payload = Struct(
    "header" / kernel_header * "128-byte KernelHeader",
    "image" / Bytes(this.header.image_size) * "kernel image",
    "cmdline" / Bytes(this.header.cmdline_length) * "command line, after the image",
    "trailing" / GreedyBytes * "extra bytes (kept)",
)

# --- EBPF (0x0F) ------------------------------------------------------------------------------

ebpf_header = Struct(
    "ebpf_magic" / Int32ul * "0x52564250 (bytes 50 42 56 52)",
    "header_version" / Int16ul * "1",
    "program_type" / Int8ul * "program type",
    "attach_type" / Int8ul * "attach type",
    "program_flags" / Int32ul * "flags",
    "insn_count" / Int16ul * "bytecode length / 8",
    "max_dimension" / Int16ul * "max vector dimension",
    "program_size" / Int64ul * "bytecode length",
    "map_count" / Int32ul * "maps",
    "btf_size" / Int32ul * "BTF bytes after the bytecode",
    "program_hash" / Bytes(32) * "fold32(bytecode)",
)

ebpf_payload = Struct(
    "header" / ebpf_header * "64-byte EbpfHeader",
    "bytecode" / Bytes(this.header.program_size) * "eBPF bytecode",
    "btf" / Bytes(this.header.btf_size) * "optional BTF",
    "trailing" / GreedyBytes * "extra bytes (kept)",
)

# --- COW_MAP (0x20) and MEMBERSHIP (0x22), branch children (npm >= 0.2.2) ---------------------

cow_map_header = Struct(
    "magic" / Int32ul * "0x5256434D (bytes 4D 43 56 52)",
    "version" / Int16ul * "1",
    "map_format" / Int8ul * "0 FlatArray, 1 ArtTree, 2 ExtentList",
    "compression_policy" / Int8ul * "compression policy",
    "cluster_size_bytes" / Int32ul * "4096",
    "vectors_per_cluster" / Int32ul * "4096 / (4·dim)",
    "base_file_id" / Bytes(16) * "parent file_id",
    "base_file_hash" / Bytes(32) * "= the child's parent_hash",
)

COW_ENTRY_TAGS = {0: "unallocated", 1: "parent_ref", 2: "local_offset"}

cow_map_entry = Struct(
    "tag" / Int8ul * "0 Unallocated, 1 ParentRef, 2 LocalOffset",
    "offset" / Int64ul * "cluster offset (0 for a parent reference)",
)

cow_map_map = Struct(
    "format" / Int8ul * "map format (observed 0, as map_format)",
    "cluster_count" / Int32ul * "clusters mapped",
    "entries" / Array(this.cluster_count, cow_map_entry) * "one 9-byte entry per cluster",
)

cow_map_body = Struct(
    "bytes_per_vector" / Int64ul * "4·dim",
    "reserved" / Int8ul * "one u8, observed 0",
    "parent_path_len" / Int32ul * "bytes of parent_path",
    "map_len" / Int32ul * "bytes of map",
    "parent_path" / Bytes(this.parent_path_len) * "UTF-8 path of the parent, relative to the child's directory",
    "map" / cow_map_map * "cluster map (map_len bytes; checked, rvf.cow_map_length)",
) * "COW_MAP body after the header (RVF.md 3.12, observed framing of npm >= 0.2.2 branch children)"

cow_map_payload = Struct(
    "header" / cow_map_header * "64-byte CowMapHeader",
    "body" / cow_map_body * "bytes_per_vector, parent path, cluster map",
    "trailing" / GreedyBytes * "extra bytes (kept)",
)

membership_header = Struct(
    "magic" / Int32ul * "0x52564D42 (bytes 42 4D 56 52)",
    "version" / Int16ul * "1",
    "filter_type" / Int8ul * "0 Bitmap, 1 RoaringBitmap",
    "filter_mode" / Int8ul * "0 Include, 1 Exclude",
    "vector_count" / Int64ul * "observed: max parent id + 1",
    "member_count" / Int64ul * "members",
    "filter_offset" / Int64ul * "96",
    "filter_size" / Int32ul * "bytes of filter",
    "generation_id" / Int32ul * "generation",
    "filter_hash" / Bytes(32) * "fold32(filter bytes)",
    "bloom_offset" / Int64ul * "bloom filter offset",
    "bloom_size" / Int32ul * "bloom filter size",
    "_reserved" / Int32ul * "0",
    "_reserved2" / Bytes(8) * "0",
)

membership_payload = Struct(
    "header" / membership_header * "96-byte MembershipHeader",
    "filter" / Bytes(this.header.filter_size) * "bitmap: u64 LE words, bit id set = parent id visible",
    "trailing" / GreedyBytes * "extra bytes (kept)",
)

# --- wasm_export dialect (RVF.md 5) -----------------------------------------------------------

_wasm_vec_head = (
    "vector_count" / Int16ul * "u16 count (swapped against the runtime layout)",
    "dimension" / Int32ul * "u32 dimension",
)
wasm_vec_head = Struct(*_wasm_vec_head)

wasm_vec_payload = Struct(
    *_wasm_vec_head,
    "records" / Array(this.vector_count, vec_record) * "packed {id, data} records",
    "trailing" / GreedyBytes * "extra bytes (kept)",
)

wasm_manifest_payload = Struct(
    "epoch" / Int32ul * "1",
    "dimension" / Int16ul * "vector dimension",
    "total_vectors" / Int64ul * "vectors",
    "profile_id" / Int8ul * "profile",
    "seg_count" / Int32ul * "directory entries",
    "segment_dir" / Array(this.seg_count, dir_entry) * "25-byte entries",
    "trailing" / GreedyBytes * "extra bytes (kept)",
)

PAYLOADS = {
    "manifest": manifest_payload, "vec": vec_payload, "journal": journal_payload,
    "witness": witness_payload, "kernel": kernel_payload, "ebpf": ebpf_payload,
    "cow_map": cow_map_payload, "membership": membership_payload,
}
