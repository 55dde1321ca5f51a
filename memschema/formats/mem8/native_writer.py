"""Writing native pairs as `native_block.rs` does (MEM8.md 2.1-2.6): the wave quantised into the
MEM8 block, the payload cut into 4074-byte RAW8 chunks, every block filled by field name (the
declarations state the zero defaults) and CRC-sealed; an ST8 record is the envelope of one T8R
frame."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from construct import Container

from ...parsing import build
from .codecs import zlib_frame
from .codecs.crc_seal import seal_crc
from .codecs.location import location as key_location
from .native import (
    CHUNK_SIZE,
    CRC_AT,
    FLAG_HAS_CHAINED_RAW,
    FLAG_TOMBSTONED,
    LANES,
    LIVE_UNKNOWN_26,
    mem8_block,
    raw8_block,
    st8_envelope,
)
from .record_frame import frame_fields


def _round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


@dataclass(frozen=True)
class Wave:
    """`Wave{frequency, emotional_valence, arousal}` (`src/mem8_lite.rs`); the default is what
    records stored without a wave and tombstones carry."""

    frequency: float = 1.0
    emotional_valence: float = 0.0
    arousal: float = 0.5

    def quantised(self) -> dict:
        """The MEM8 lane fields (MEM8.md 2.2); ValueError for a wave upstream refuses to write."""
        f, v, a = self.frequency, self.emotional_valence, self.arousal
        if not (math.isfinite(f) and 0 <= f <= 65535 and 0 <= a <= 1 and -1 <= v <= 1):
            raise ValueError(f"wave out of range: {self}")
        denominator = min(max(math.floor(65535 / max(f, 1.0)), 1), 1000)
        return {"freq_numerator": _round_half_away(f * denominator), "freq_denominator": denominator,
                "arousal_q16": _round_half_away(a * 65535), "valence_q15": _round_half_away(v * 32767)}

    @staticmethod
    def decode(block) -> dict:
        """frequency, emotional_valence, arousal of a MEM8 block (frequency None if the
        denominator is 0)."""
        den = int(block["freq_denominator"])
        return {"frequency": int(block["freq_numerator"]) / den if den else None,
                "emotional_valence": int(block["valence_q15"]) / 32767,
                "arousal": int(block["arousal_q16"]) / 65535}


WAVE_FIELDS = ("freq_numerator", "freq_denominator", "arousal_q16", "valence_q15")


def wave_fields(block) -> dict:
    """The quantised wave of a MEM8 block, to write it again exactly (`Wave` values re-quantised
    from decoded floats may land on another denominator)."""
    return {name: int(block[name]) for name in WAVE_FIELDS}


def _lane_wave(wave) -> dict:
    if wave is None:
        return Wave().quantised()
    return wave.quantised() if isinstance(wave, Wave) else {name: int(wave[name]) for name in WAVE_FIELDS}


def _sealed(decl, fields: dict) -> bytes:
    """The block built from its filled fields, then sealed (`crc32` over the block with it zeroed)."""
    block = build(decl, Container(fields, crc32=0), "block")
    return build(decl, Container(fields, crc32=seal_crc(block, CRC_AT)), "block")


def payload_pairs(location: int, payload: bytes, wave: Wave | dict | None = None, tombstoned: bool = False) -> bytes:
    """The pairs `native_block.rs` writes for one application payload: 4074-byte chunks, every pair
    with the same location and wave, `FLAG_HAS_CHAINED_RAW` when more than one pair.  `wave`: a
    `Wave`, the quantised fields (`wave_fields`), or None for the default wave."""
    from ...records import fill
    payload = bytes(payload)
    if not payload:
        raise ValueError("a payload needs at least one byte")
    chunks = [payload[i:i + CHUNK_SIZE] for i in range(0, len(payload), CHUNK_SIZE)]
    flags = (FLAG_TOMBSTONED if tombstoned else 0) | (FLAG_HAS_CHAINED_RAW if len(chunks) > 1 else 0)
    mem8 = _sealed(mem8_block, fill(mem8_block, {
        **LANES["mem8"], "location": location, "crc32": 0, **_lane_wave(wave),
        "unknown_26": 0 if tombstoned else LIVE_UNKNOWN_26, "flags": flags}, "mem8"))
    out = bytearray()
    for chunk in chunks:
        out += mem8
        out += _sealed(raw8_block, fill(raw8_block, {
            **LANES["raw8"], "location": location, "crc32": 0, "payload_len": len(chunk),
            "payload": chunk.ljust(CHUNK_SIZE, b"\0")}, "raw8"))
    return bytes(out)


def record_payload(key: str, value: bytes, compress: Callable[[bytes], bytes] = zlib_frame.deflate) -> bytes:
    """ST8 envelope of `Record {key, value}` (value = bincode of the stored value); the magic and
    the version are the declaration's."""
    from ...records import fill
    header, compressed = frame_fields(key, value, compress)
    return build(st8_envelope, fill(st8_envelope, {"frame": header, "compressed": compressed}, "envelope"))


def record_pairs(key: str, value: bytes, wave: Wave | dict | None = None, tombstoned: bool = False,
                 compress: Callable[[bytes], bytes] = zlib_frame.deflate) -> bytes:
    return payload_pairs(key_location(key), record_payload(key, value, compress), wave, tombstoned)
