"""MEM8 native block pairs (smart-tree `src/mem8/native_block.rs`, MEM8.md Part 2).

A file is a sequence of 8192-byte pairs with no file header: an even 4096-byte MEM8 block (the
wave) then an odd 4096-byte RAW8 block (the bytes).  Pair k starts at 8192·k.  A 0-byte file is an
empty store.
"""

from __future__ import annotations

from construct import Int8ul, Int32ul, Int64ul, Struct

MEM8_MAGIC = 0x4D454D38   # bytes 38 4D 45 4D
RAW8_MAGIC = 0x52415738   # bytes 38 57 41 52

block_header = Struct(
    "location" / Int64ul * "record location: SHA-256(key)[:8] as u64 LE; equal in both blocks of a pair",
    "magic" / Int32ul * "0x4D454D38 (MEM8 lane) or 0x52415738 (RAW8 lane)",
    "crc32" / Int32ul * "CRC-32 of the whole 4096-byte block with these 4 bytes zeroed",
    "lane" / Int8ul * "0 = MEM8, 1 = RAW8",
    "version" / Int8ul * "1 ('v1.1')",
    "kind" / Int8ul * "1 = one active WaveAtom (MEM8), 3 = binary application payload (RAW8)",
    "state" / Int8ul * "2 = sealed (MEM8), 0 (RAW8)",
)
