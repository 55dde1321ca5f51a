"""MEM8 native block pairs (smart-tree `src/mem8/native_block.rs`, MEM8.md Part 2).

A file is a sequence of 8192-byte pairs with no file header: an even 4096-byte MEM8 block (the
wave) then an odd 4096-byte RAW8 block (the bytes).  Pair k starts at 8192·k.  A 0-byte file is an
empty store.  Both blocks start with the 20-byte `block_header`; each block is CRC-sealed on its
own (`codecs.crc_seal`).  A payload longer than 4074 bytes continues in the following pairs.

A record journal's payload (the concatenated chunks of one record) is the ST8 envelope: the
3-byte magic, the version byte, the 16-byte T8R frame header and `compressed_len` bytes of zlib
(MEM8.md 2.6).  The records span pairs, so they are decoded on top of the pair table
(`native_records`), not placed by the layout.
"""

from __future__ import annotations

from construct import Bytes, Const, Default, Int8ul, Int16sl, Int16ul, Int32ul, Int64ul, Struct, this

from ...layout import EOF, Layout, Section
from ...parsing import field_offset
from .codecs.crc_seal import SEAL

MEM8_MAGIC = 0x4D454D38   # bytes 38 4D 45 4D
RAW8_MAGIC = 0x52415738   # bytes 38 57 41 52
ST8_MAGIC = b"ST8"
ST8_VERSION = 1

block_header = Struct(
    "location" / Int64ul * "record location: SHA-256(key)[:8] as u64 LE; equal in both blocks of a pair",
    "magic" / Int32ul * "0x4D454D38 (MEM8 lane) or 0x52415738 (RAW8 lane)",
    "crc32" / SEAL * "CRC-32 of the whole 4096-byte block with these 4 bytes zeroed",
    "lane" / Int8ul * "0 = MEM8, 1 = RAW8",
    "version" / Default(Int8ul, 1) * "1 ('v1.1')",
    "kind" / Int8ul * "1 = one active WaveAtom (MEM8), 3 = binary application payload (RAW8)",
    "state" / Int8ul * "2 = sealed (MEM8), 0 (RAW8)",
)

mem8_lane = Struct(
    "freq_numerator" / Int16ul * "round(frequency * freq_denominator), half away from zero",
    "freq_denominator" / Int16ul * "clamp(floor(65535 / max(frequency, 1)), 1, 1000); never 0",
    "unknown_24" / Default(Int16ul, 0) * "always 0; meaning unknown",
    "unknown_26" / Int16ul * "0xFFFF on live records, 0 on tombstones; meaning unknown",
    "arousal_q16" / Int16ul * "round(arousal * 65535) (Q0.16)",
    "valence_q15" / Int16sl * "round(emotional_valence * 32767) (Q1.15)",
    "unknown_32" / Default(Bytes(11), bytes(11)) * "zero; meaning unknown",
    "flags" / Int8ul * "bit 0 FLAG_TOMBSTONED, bit 1 FLAG_HAS_CHAINED_RAW; other bits 0",
    "reserved" / Default(Bytes(4052), bytes(4052)) * "zero (the other WaveAtom slots)",
)

raw8_lane = Struct(
    "payload_len" / Int16ul * "used bytes of payload: 1 .. 4074",
    "payload" / Bytes(4074) * "first payload_len bytes used, rest zero",
)

# Whole blocks: the header's fields then the lane's, flat (field names as in MEM8.md 2.1-2.3).
mem8_block = Struct(*block_header.subcons, *mem8_lane.subcons)
raw8_block = Struct(*block_header.subcons, *raw8_lane.subcons)

native_pair = Struct(
    "mem8" / mem8_block * "even 4096-byte block: the wave (offset 8192*k)",
    "raw8" / raw8_block * "odd 4096-byte block: one payload chunk (offset 8192*k + 4096)",
)

t8r_frame_header = Struct(
    "compressed_len" / Int32ul * "length of the compressed bytes; 1 .. 64 MiB",
    "raw_len" / Int32ul * "length of the bincode record before tokenising; 1 .. 64 MiB",
    "payload_crc32" / Int32ul * "CRC-32 of the compressed bytes",
    "header_crc32" / Int32ul * "CRC-32 of the 12 preceding header bytes",
)

st8_envelope = Struct(
    "magic" / Const(ST8_MAGIC) * "53 54 38 ('ST8'): the application payload is a record",
    "version" / Default(Int8ul, ST8_VERSION) * "01; a record of another version is not decoded (unknown ST8 version)",
    "frame" / t8r_frame_header * "16-byte T8R frame header",
    "compressed" / Bytes(this.frame.compressed_len) * "zlib stream (level 1) of the token-coded record",
)

# The envelope up to its compressed bytes: what the first chunk of every record starts with.
st8_head = Struct(*(sc for sc in st8_envelope.subcons if sc.name != "compressed"))

native_layout = Layout(
    "mem8_native", "MEM8 native block pairs (smart-tree native_block.rs)",
    "complete 8192-byte MEM8/RAW8 pairs from offset 0 until the end of the file (pair k at 8192*k); "
    "bytes after the last complete pair are a torn append.  A record (ST8 envelope) spans the payload "
    "chunks of consecutive pairs and is decoded on top of the pair table",
    Section("pairs", native_pair, "complete 8192-byte pairs until the end of the file", count=EOF),
    extension="m8",
)

BLOCK_SIZE = mem8_block.sizeof()      # 4096
PAIR_SIZE = native_pair.sizeof()      # 8192
CHUNK_SIZE = raw8_lane.payload.sizeof()  # 4074
ENVELOPE_HEAD = st8_head.sizeof()     # 20: magic, version, frame header
CRC_AT = field_offset(mem8_block, "crc32")   # same place in both blocks
RAW8_AT = field_offset(native_pair, "raw8")
PAYLOAD_AT = field_offset(native_pair, "raw8.payload")

FLAG_TOMBSTONED = 0x01
FLAG_HAS_CHAINED_RAW = 0x02
LIVE_UNKNOWN_26 = 0xFFFF
LANES = {   # what each lane's header holds (MEM8.md 2.1)
    "mem8": {"magic": MEM8_MAGIC, "lane": 0, "kind": 1, "state": 2},
    "raw8": {"magic": RAW8_MAGIC, "lane": 1, "kind": 3, "state": 0},
}
