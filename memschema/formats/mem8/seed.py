"""MEM8 seed format (`src/mem8_binary.rs`, MEM8.md Part 1).

File = 30-byte header + N blocks of exactly 4096 bytes: `file_len = 30 + 4096·N`.  Block i starts
at `30 + 4096·i`.  Little-endian, packed, no padding anywhere.  A block's content is
`content_area[:min(content_len, 4024)]`; `content_len` is the length passed to append and may
exceed the 4024 bytes that were stored.
"""

from __future__ import annotations

from construct import Bytes, Const, Default, Float64l, Int8ul, Int16ul, Int32ul, Int64ul, Struct

from ...layout import EOF, Layout, Section

MAGIC = b"MEM8"

seed_header = Struct(
    "magic" / Const(MAGIC) * "4D 45 4D 38 ('MEM8'); upstream refuses anything else",
    "version" / Default(Int8ul, 1) * "1; never checked by upstream",
    "flags" / Default(Int8ul, 0) * "0; ignored",
    "block_count" / Int32ul * "blocks appended so far; source of the next block's index",
    "identity_freq" / Default(Float64l, 440.0) * "440.0 by default; salts every wave_signature",
    "temporal_phase" / Default(Float64l, 0.0) * "0.0; ignored",
    "crc32" / Default(Int32ul, 0) * "0; never computed",
)

seed_block = Struct(
    "index" / Int64ul * "header.block_count at append time (0, 1, 2, ...)",
    "wave_signature" / Bytes(16) * "SHA-256(content || identity_freq f64 LE)[:16] over the full content",
    "timestamp" / Int64ul * "wall clock at append, microseconds since the Unix epoch",
    "importance" / Int16ul * "(importance_f32 * 65535.0) as u16, computed in f32, saturating",
    "token_id" / Default(Int16ul, 0) * "always 0 (tokenisation never implemented)",
    "prev_hash" / Default(Bytes(32), bytes(32)) * "always zero (chaining never implemented)",
    "content_len" / Int32ul * "length of the content passed to append, not of what was stored",
    "content_area" / Bytes(4024) * "first min(content_len, 4024) bytes of content, then zero padding",
)

seed_layout = Layout(
    "mem8_seed", "MEM8 seed file (smart-tree mem8_binary.rs)",
    "30-byte header, then complete 4096-byte blocks until the end of the file (block i at 30 + 4096·i); "
    "bytes after the last complete block are a torn append",
    Section("header", seed_header, "30 bytes at offset 0", at=0),
    Section("blocks", seed_block, "complete 4096-byte blocks until the end of the file", count=EOF),
    extension="m8",
)

HEADER_SIZE = seed_header.sizeof()
BLOCK_SIZE = seed_block.sizeof()
CONTENT_AREA = seed_block.content_area.sizeof()
