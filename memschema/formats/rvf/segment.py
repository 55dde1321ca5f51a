"""The 64-byte segment header every RVF dialect shares (RVF.md 2.1-2.3).

A segment is `[header 64 B][payload payload_length B]` (+ signature footer if SIGNED, + zero
padding of `alignment_pad` bytes in the spec dialect).  Little-endian; the magic u32 0x52564653
("RVFS") is stored as `53 46 56 52`.  `flags` stays a raw u16 so unknown bits 12-15 survive;
`flag_names()` names the known ones.
"""

from __future__ import annotations

from construct import (
    Bytes,
    Const,
    Default,
    Enum,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    SizeofError,
    Struct,
    stream_size,
)

from ...parsing import build
from ...records import fill

SEGMENT_MAGIC = 0x52564653
SEGMENT_VERSION = 1
RUNTIME_MAX_PAYLOAD = 256 << 20
MAX_SEGMENT_PAYLOAD = 4 << 30

SEG_TYPES = {
    "invalid": 0x00, "vec": 0x01, "index": 0x02, "overlay": 0x03, "journal": 0x04,
    "manifest": 0x05, "quant": 0x06, "meta": 0x07, "hot": 0x08, "sketch": 0x09,
    "witness": 0x0A, "profile": 0x0B, "crypto": 0x0C, "meta_idx": 0x0D, "kernel": 0x0E,
    "ebpf": 0x0F, "wasm": 0x10, "dashboard": 0x11, "cow_map": 0x20, "refcount": 0x21,
    "membership": 0x22, "delta": 0x23, "transfer_prior": 0x30, "policy_kernel": 0x31,
    "cost_curve": 0x32, "federated_manifest": 0x33, "diff_privacy_proof": 0x34,
    "redaction_log": 0x35, "aggregate_weights": 0x36,
}
SEG_TYPE_NAMES = {v: k for k, v in SEG_TYPES.items()}

FLAGS = {
    "COMPRESSED": 0x0001, "ENCRYPTED": 0x0002, "SIGNED": 0x0004, "SEALED": 0x0008,
    "PARTIAL": 0x0010, "TOMBSTONE": 0x0020, "HOT": 0x0040, "OVERLAY": 0x0080,
    "SNAPSHOT": 0x0100, "CHECKPOINT": 0x0200, "ATTESTED": 0x0400, "HAS_LINEAGE": 0x0800,
}
KNOWN_FLAGS_MASK = 0x0FFF

CHECKSUM_ALGOS = {0: "crc32c", 1: "xxh3_128", 2: "shake256", 3: "hmac_shake256"}
COMPRESSIONS = {0: "none", 1: "lz4", 2: "zstd", 3: "custom"}

SegType = Enum(Int8ul, **SEG_TYPES)

segment_header = Struct(
    "magic" / Const(SEGMENT_MAGIC, Int32ul) * "SEGMENT_MAGIC 0x52564653 ('RVFS', bytes 53 46 56 52); "
                                              "anything else ends the walk (rvf.bad_magic)",
    "version" / Const(SEGMENT_VERSION, Int8ul) * "SEGMENT_VERSION = 1; anything else is unsupported and ends "
                                                 "the walk (rvf.unsupported_version)",
    "seg_type" / SegType * "segment type (RVF.md 2.2); unknown values kept as integers",
    "flags" / Default(Int16ul, 0) * "raw flag bits (RVF.md 2.3); bits 12-15 reserved; runtime writes 0",
    "segment_id" / Int64ul * "runtime: 1, 2, 3... per open writer (not unique)",
    "payload_length" / Int64ul * "payload bytes only (no header, footer, padding)",
    "timestamp_ns" / Default(Int64ul, 0) * "runtime and spec writers: 0",
    "checksum_algo" / Default(Int8ul, 0) * "0 CRC32C (name only), 1 XXH3-128, 2 SHAKE-256, 3 HMAC-SHAKE-256",
    "compression" / Default(Int8ul, 0) * "0 none, 1 LZ4, 2 ZSTD, 3 custom; runtime: 0",
    "reserved_0" / Default(Int16ul, 0) * "0",
    "reserved_1" / Default(Int32ul, 0) * "0",
    "content_hash" / Default(Bytes(16), bytes(16)) * "hash of the payload only; algorithm depends on the "
                                                     "dialect; all zero = not set",
    "uncompressed_len" / Default(Int32ul, 0) * "0 when not compressed",
    "alignment_pad" / Default(Int32ul, 0) * "spec: zero bytes after payload (+footer); runtime: 0",
)
HEADER_SIZE = segment_header.sizeof()
MAGIC_BYTES = segment_header.magic.build(None)   # 53 46 56 52: what a segment starts with


def header_bytes(**fields) -> bytes:
    """A segment header filled by field name (`seg_type`, `segment_id`, `payload_length`, ...);
    every field not named takes the default its declaration states.  The one way every writer of
    this package (runtime, spec, wasm_export, repair, test strategies) makes a header."""
    return build(segment_header, fill(segment_header, fields, "segment_header"), "segment_header")


def flag_names(flags: int) -> list[str]:
    """Names of the known bits set in `flags`, plus `bit12`..`bit15` for reserved ones."""
    names = [name for name, mask in FLAGS.items() if flags & mask]
    names += [f"bit{b}" for b in range(12, 16) if flags & (1 << b)]
    return names


def seg_type_value(seg_type) -> int:
    """The integer of a parsed `seg_type` (construct gives a named int for known values)."""
    return int(seg_type)


def seg_type_name(seg_type) -> str:
    value = int(seg_type)
    return SEG_TYPE_NAMES.get(value, f"unknown_0x{value:02x}")


def _stream(ctx):
    """The stream a length lambda measures; sizeof() (no stream) gets construct's SizeofError."""
    io = getattr(ctx, "_io", None)
    if io is None:
        raise SizeofError("size depends on the position in the payload")
    return io


def pad_to(alignment: int, preceding=None):
    """Length of the zero padding from the position a `Tell` field `_pos` recorded just before it
    (positions count from the start of the payload) to the next multiple of `alignment`.  Without a
    recorded position (values drawn field by field, sizeof) the position is the length of the
    `preceding` fields built."""
    def length(ctx) -> int:
        pos = ctx.get("_pos")
        if isinstance(pos, int):
            return -pos % alignment
        if preceding is None:
            raise SizeofError("size depends on the position in the payload")
        parent = ctx.get("_") or {}
        outer = {k: v for k, v in parent.items() if not k.startswith("_") or k == "_index"}
        return -len(preceding.build(ctx, **outer)) % alignment
    return length


def bytes_left(ctx) -> int:
    """Bytes from the start of the payload being parsed to its end."""
    return stream_size(_stream(ctx))
