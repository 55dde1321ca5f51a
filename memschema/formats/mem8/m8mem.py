"""M8MEM (`~/.st/memories.m8`, smart-tree `src/memory_manager.rs`, MEM8.md Part 3).

A 22-byte header, `mem_count` memories back to back, then one `checksum` byte = XOR of every
preceding byte (the XOR of the whole file is 0).  Written whole by `st --memory-anchor`.  Lengths
are written with wrapping casts (`as u8`, `as u16`), so an over-long field misaligns the file.
Strings are kept as raw bytes (decoded lossily, invalid UTF-8 is a finding, not a failure).
"""

from __future__ import annotations

from construct import (
    Bytes,
    Default,
    Float64l,
    GreedyBytes,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64sl,
    Optional,
    Prefixed,
    PrefixedArray,
    Struct,
    this,
)

from ...layout import Layout, Section

MAGIC = b"M8MEM"
VERSION = 1

m8mem_header = Struct(
    "magic" / Default(Bytes(5), MAGIC) * "'M8MEM'",
    "version" / Default(Int8ul, VERSION) * "1 (upstream rejects any other value: 'Unsupported .m8 version')",
    "mem_count" / Int32ul * "number of memories that follow",
    "total_recalls" / Int32ul * "recall counter (--memory-find increments it in memory only)",
    "last_accessed" / Int64sl * "Unix seconds",
)

m8mem_keyword = Prefixed(Int8ul, GreedyBytes)   # one keyword: u8 length + UTF-8
KEYWORD_COUNT = Int8ul

m8mem_memory = Struct(
    "anchor_type" / Prefixed(Int8ul, GreedyBytes) * "u8 length + UTF-8 (e.g. 'insight', 'gotcha')",
    "keywords" / PrefixedArray(KEYWORD_COUNT, m8mem_keyword) * "u8 count, then each u8 length + UTF-8",
    "context" / Prefixed(Int16ul, GreedyBytes) * "u16 length + UTF-8",
    "origin" / Prefixed(Int8ul, GreedyBytes) * "u8 length + UTF-8 (e.g. 'human', 'ai:claude')",
    "frequency" / Float64l * "20 + (sum of the context's bytes mod 200)",
    "timestamp" / Int64sl * "Unix seconds",
)

m8mem_checksum = Struct(
    "checksum" / Int8ul * "XOR of every preceding byte of the file",
)

m8mem_layout = Layout(
    "m8mem", "M8MEM memories file (smart-tree memory_manager.rs)",
    "22-byte header, mem_count memories back to back, the checksum byte; upstream ignores anything after it",
    Section("header", m8mem_header, "22 bytes at offset 0"),
    Section("memories", m8mem_memory, "mem_count memories back to back", count=this.header.mem_count,
            shown=False),     # dump --json decodes their strings (UTF-8, lossy as upstream)
    Section("trailer", Optional(m8mem_checksum), "the checksum byte (absent when the file ends after the memories)"),
    Section("trailing", GreedyBytes, "bytes after the checksum (upstream ignores them)", shown=False),   # trailing_hex
    extension="m8",
)

HEADER_SIZE = m8mem_header.sizeof()
MIN_MEMORY_SIZE = len(m8mem_memory.build(dict(anchor_type=b"", keywords=[], context=b"", origin=b"",
                                              frequency=0.0, timestamp=0)))
