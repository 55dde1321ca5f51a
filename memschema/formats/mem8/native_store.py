"""A loaded native MEM8/RAW8 pair file (MEM8.md Part 2): pairs, payload chains, the ST8 record
journal with tombstones and its live view, checks (2.9) and the append writer.

The pairs are a zero-copy numpy view derived from `native_pair`; a record is decoded from the
chunks of the pairs it spans.  Nothing is ever cut from the loaded bytes: a torn tail is reported
(and kept on rebuild); appending after one is refused until the caller drops it explicitly.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from construct import Container

from ...budget import Meter
from ...document import Document
from ...dtypes import struct_dtype
from ...errors import Finding, FormatError, error, warning
from ...jsonify import Hex, Stream, materialize
from ...parsing import build, field_offset, parse
from ...publish import FileStamp
from ...registry import Detection
from .appending import AppendOnly
from .codecs import CodecError, bincode, zlib_frame
from .codecs.crc_seal import seal_crc
from .codecs.location import location as key_location
from .native import (
    BLOCK_SIZE,
    CHUNK_SIZE,
    ENVELOPE_HEAD,
    FLAG_HAS_CHAINED_RAW,
    FLAG_TOMBSTONED,
    MEM8_MAGIC,
    PAIR_SIZE,
    RAW8_MAGIC,
    ST8_MAGIC,
    mem8_block,
    native_pair,
    raw8_block,
    t8r_frame_header,
)
from .record_frame import decode_compressed, encode_frame, header_problems, kept, live_units

P = "mem8.native."                           # finding code prefix
CRC_AT = field_offset(mem8_block, "crc32")   # same place in both blocks
RAW8_AT = field_offset(native_pair, "raw8")
MAGIC_AT = field_offset(native_pair, "mem8.magic")
MAGIC_END = MAGIC_AT + mem8_block.magic.sizeof()
MEM8_BYTES = mem8_block.magic.build(MEM8_MAGIC)
PAYLOAD_AT = field_offset(native_pair, "raw8.payload")
LIVE_UNKNOWN_26 = 0xFFFF
UNKNOWN_FLAGS = 0xFF ^ (FLAG_TOMBSTONED | FLAG_HAS_CHAINED_RAW)
LANES = {"mem8": (0, 1, MEM8_MAGIC), "raw8": (1, 3, RAW8_MAGIC)}   # lane, kind, magic
STATES = {"mem8": 2, "raw8": 0}


# -- the wave ----------------------------------------------------------------------------------

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


# -- writing pairs -----------------------------------------------------------------------------

def _sealed(decl, fields: dict) -> bytes:
    block = build(decl, Container(crc32=0, **fields), "block")
    return build(decl, Container(crc32=seal_crc(block, CRC_AT), **fields), "block")


def payload_pairs(location: int, payload: bytes, wave: Wave | dict | None = None, tombstoned: bool = False) -> bytes:
    """The pairs `native_block.rs` writes for one application payload: 4074-byte chunks, every pair
    with the same location and wave, `FLAG_HAS_CHAINED_RAW` when more than one pair.  `wave`: a
    `Wave`, the quantised fields (`wave_fields`), or None for the default wave."""
    payload = bytes(payload)
    if not payload:
        raise ValueError("a payload needs at least one byte")
    chunks = [payload[i:i + CHUNK_SIZE] for i in range(0, len(payload), CHUNK_SIZE)]
    flags = (FLAG_TOMBSTONED if tombstoned else 0) | (FLAG_HAS_CHAINED_RAW if len(chunks) > 1 else 0)
    common = {"location": location, "version": 1}
    mem8 = _sealed(mem8_block, {**common, "magic": MEM8_MAGIC, "lane": 0, "kind": 1, "state": 2,
                                **_lane_wave(wave), "unknown_24": 0,
                                "unknown_26": 0 if tombstoned else LIVE_UNKNOWN_26, "unknown_32": bytes(11),
                                "flags": flags, "reserved": bytes(mem8_block.reserved.sizeof())})
    out = bytearray()
    for chunk in chunks:
        out += mem8
        out += _sealed(raw8_block, {**common, "magic": RAW8_MAGIC, "lane": 1, "kind": 3, "state": 0,
                                    "payload_len": len(chunk), "payload": chunk.ljust(CHUNK_SIZE, b"\0")})
    return bytes(out)


def record_payload(key: str, value: bytes, compress: Callable[[bytes], bytes] = zlib_frame.deflate) -> bytes:
    """ST8 envelope of `Record {key, value}` (value = bincode of the stored value)."""
    return ST8_MAGIC + encode_frame(key, value, compress)


def record_pairs(key: str, value: bytes, wave: Wave | dict | None = None, tombstoned: bool = False,
                 compress: Callable[[bytes], bytes] = zlib_frame.deflate) -> bytes:
    return payload_pairs(key_location(key), record_payload(key, value, compress), wave, tombstoned)


# -- decoded units -----------------------------------------------------------------------------

@dataclass
class Record:
    """One journal record (superseded ones and tombstones included).  A value larger than
    `KEEP_VALUE` is not held: reading `value` decodes the record again (charged once)."""

    offset: int
    pair_index: int
    pairs: int
    location: int
    tombstoned: bool
    crc_ok: bool
    frame: Container | None = None
    key: str | None = None
    kept: bytes | None = None
    problem: Finding | None = None
    value_len: int | None = None
    reload: Callable[[], tuple[str, bytes]] | None = field(default=None, repr=False, compare=False)

    @property
    def value(self) -> bytes | None:
        if self.kept is None and self.reload is not None:
            return self.reload()[1]
        return self.kept

    def to_json(self) -> dict:
        return materialize(self.json_item())

    def json_item(self) -> dict:
        """`to_json` with the value as a `Hex` read when written (a large one is decoded again)."""
        out = {"offset": self.offset, "location": self.location, "key": self.key,
               "value": None if self.value_len is None else Hex(lambda: self.value), "tombstoned": self.tombstoned,
               "pairs": self.pairs, "crc_ok": self.crc_ok,
               "compressed_len": self.frame.compressed_len if self.frame else None,
               "raw_len": self.frame.raw_len if self.frame else None}
        if self.problem:
            out["error"] = self.problem.to_json()
        return out


@dataclass
class Payload:
    """One raw application payload (a chain of pairs) of a non-journal pair file."""

    offset: int
    pair_index: int
    pairs: int
    location: int
    tombstoned: bool
    crc_ok: bool
    data: bytes = b""

    def to_json(self) -> dict:
        return {"offset": self.offset, "location": self.location, "pairs": self.pairs,
                "tombstoned": self.tombstoned, "crc_ok": self.crc_ok, "data_hex": self.data.hex()}


@dataclass
class TornTail:
    offset: int
    length: int
    reason: str


@dataclass
class _Decoded:
    records: list[Record] = field(default_factory=list)
    payloads: list[Payload] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    torn: TornTail | None = None


class NativeDocument(AppendOnly, Document):
    """Native pair file.  `pairs` is a numpy record view (dtype from `native_pair`); `records`
    (ST8 journals) or `payloads` (raw pair files) are decoded from it.  `put`/`forget` queue new
    sealed pairs; `commit(path)` appends them safely."""

    def __init__(self, detection: Detection, data=b"", source: str = "", application: str | None = None):
        super().__init__(detection, data, source)
        self.pending = bytearray()
        self._application = application     # "st8" / "raw"; None: what the first pair holds
        self._decode()

    @classmethod
    def new(cls) -> NativeDocument:
        """An empty store (a 0-byte file, as `RecordStore::open_memory` creates it)."""
        return cls(Detection("mem8", "native", "new native store"))

    # -- decoding ------------------------------------------------------------------------------
    @property
    def buffer(self):
        return memoryview(self.data) if not self.pending else bytes(self.data) + bytes(self.pending)

    def _decode(self, start: int = 0, own: bool = False) -> None:
        """Decode from pair `start` on; records before it (complete, untouched) are kept.  `own`:
        the pairs from `start` on are this document's own queued writes (not charged to the budget)."""
        buf = self.buffer
        count = len(buf) // PAIR_SIZE
        self.pairs = np.frombuffer(buf, dtype=struct_dtype(native_pair), count=count)
        self.fields = self.pairs
        crc_ok = np.array([[seal_crc(buf[k * PAIR_SIZE + lane:k * PAIR_SIZE + lane + BLOCK_SIZE], CRC_AT)
                            == int(self.pairs[k][name]["crc32"]) for name, lane in (("mem8", 0), ("raw8", RAW8_AT))]
                           for k in range(start, count)], dtype=bool).reshape(count - start, 2)
        self.block_crc_ok = np.concatenate([self.block_crc_ok[:start], crc_ok]) if start else crc_ok
        first = self.chunk(0) if count else ST8_MAGIC
        self.application = self._application or ("st8" if bytes(first[:len(ST8_MAGIC)]) == ST8_MAGIC else "raw")
        if self.application == "raw":
            self._decoded = self._payloads(buf)
        else:
            self._decoded = self._records(buf, start, self._decoded if start else _Decoded(),
                                          None if own else self.meter)
        if len(buf) % PAIR_SIZE and self._decoded.torn is None:
            self._decoded.torn = TornTail(count * PAIR_SIZE, len(buf) % PAIR_SIZE, "incomplete final pair")

    def build(self) -> bytes:
        """Every pair from the record table (dtype derived from `native_pair`), then the bytes of a
        torn tail exactly as they were."""
        buf = self.buffer
        return self.pairs.tobytes() + bytes(buf[len(self.pairs) * PAIR_SIZE:])

    def _queue(self, pairs: bytes) -> None:
        self._refuse_after_torn_tail()
        start = len(self.pairs)
        self.pending += pairs
        self._decode(start, own=True)

    def chunk(self, k: int) -> bytes:
        """Payload bytes of pair k (`payload_len` capped at the 4074 that exist)."""
        raw8 = self.pairs[k]["raw8"]
        return raw8["payload"][:min(int(raw8["payload_len"]), CHUNK_SIZE)].tobytes()

    def _pair_crc_ok(self, first: int, count: int) -> bool:
        return bool(self.block_crc_ok[first:first + count].all())

    def _payloads(self, buf) -> _Decoded:
        """Raw pair file: a chain continues while FLAG_HAS_CHAINED_RAW is set, the location repeats
        and the previous chunk was full (MEM8.md 2.5)."""
        out = _Decoded()
        k, count = 0, len(self.pairs)
        while k < count:
            mem8 = self.pairs[k]["mem8"]
            loc, chunks, n = int(mem8["location"]), [self.chunk(k)], 1
            while (int(self.pairs[k + n - 1]["mem8"]["flags"]) & FLAG_HAS_CHAINED_RAW and k + n < count
                   and int(self.pairs[k + n]["mem8"]["location"]) == loc and len(chunks[-1]) == CHUNK_SIZE):
                chunks.append(self.chunk(k + n))
                n += 1
            out.payloads.append(Payload(k * PAIR_SIZE, k, n, loc, bool(int(mem8["flags"]) & FLAG_TOMBSTONED),
                                        self._pair_crc_ok(k, n), b"".join(chunks)))
            k += n
        return out

    def _records(self, buf, k: int, out: _Decoded, meter: Meter | None) -> _Decoded:
        """Replay from pair k as `RecordStore::open_memory` does (MEM8.md 2.7), reporting instead
        of failing."""
        count = len(self.pairs)
        while k < count:
            advance = self._record_at(buf, k, out, meter)
            if advance is None:
                break
            k += advance
        return out

    def _record_at(self, buf, k: int, out: _Decoded, meter: Meter | None) -> int | None:
        """Decode the record starting at pair k into `out`; pairs consumed, or None at a torn tail."""
        at = k * PAIR_SIZE
        payload_at = at + PAYLOAD_AT
        path = f"pairs[{k}].raw8.payload"
        mem8 = self.pairs[k]["mem8"]
        loc = int(mem8["location"])
        tomb = bool(int(mem8["flags"]) & FLAG_TOMBSTONED)
        first = self.chunk(k)
        if first[:len(ST8_MAGIC)] != ST8_MAGIC:
            out.findings.append(error(P + "not_st8", "record does not start with the ST8\\x01 magic", path, payload_at))
            return 1
        if len(first) < ENVELOPE_HEAD:
            out.findings.append(error(P + "frame_length", f"first chunk of {len(first)} bytes cannot hold the "
                                      f"{ENVELOPE_HEAD}-byte envelope head", path, payload_at))
            return 1
        frame_at = payload_at + len(ST8_MAGIC)
        frame = parse(t8r_frame_header, buf, frame_at, f"{path}.frame")
        problems = header_problems(frame)
        if problems:
            for code, message, name in problems:
                out.findings.append(error(P + code, message, f"{path}.frame.{name}",
                                          frame_at + field_offset(t8r_frame_header, name)))
            out.records.append(Record(at, k, 1, loc, tomb, False, frame, problem=out.findings[-1]))
            return 1
        total = ENVELOPE_HEAD + frame.compressed_len
        need = -(-total // CHUNK_SIZE)
        if k + need > len(self.pairs):
            out.torn = TornTail(at, len(buf) - at, f"record needs {need} pairs ({total} payload bytes), "
                                                  f"only {len(self.pairs) - k} complete pairs remain")
            return None
        chunks = [first]
        for j in range(1, need):
            other = int(self.pairs[k + j]["mem8"]["location"])
            if other != loc:
                out.findings.append(error(P + "chain_location", f"continuation pair {k + j} has location {other}, "
                                          f"the record's is {loc}", f"pairs[{k + j}].mem8.location",
                                          (k + j) * PAIR_SIZE))
                out.records.append(Record(at, k, j, loc, tomb, False, frame, problem=out.findings[-1]))
                return j
            chunks.append(self.chunk(k + j))
        for j, c in enumerate(chunks):
            expected = CHUNK_SIZE if j < need - 1 else total - CHUNK_SIZE * (need - 1)
            if len(c) != expected:
                out.findings.append(error(P + "short_chunk", f"chunk {j} of the record holds {len(c)} bytes, "
                                          f"{expected} expected", f"pairs[{k + j}].raw8.payload_len",
                                          (k + j) * PAIR_SIZE + field_offset(native_pair, "raw8.payload_len")))
                out.records.append(Record(at, k, need, loc, tomb, False, frame, problem=out.findings[-1]))
                return need
        record = Record(at, k, need, loc, tomb, self._pair_crc_ok(k, need), frame)
        try:
            record.key, value = decode_compressed(frame, b"".join(chunks)[ENVELOPE_HEAD:total], meter,
                                                  f"{path}.compressed", frame_at)
            record.kept, record.value_len = kept(value), len(value)
            if record.kept is None:
                record.reload = lambda: self._decode_again(k, need, total, frame, meter, f"{path}.compressed",
                                                           frame_at)
        except CodecError as exc:
            record.crc_ok = record.crc_ok and exc.code != "payload_crc_mismatch"
            record.problem = error(P + exc.code, exc.message, f"{path}.compressed",
                                   frame_at + t8r_frame_header.sizeof())
            out.findings.append(record.problem)
        if record.key is not None and key_location(record.key) != loc:
            record.problem = error(P + "key_location_mismatch", f"location {loc} is not SHA-256({record.key!r})[:8] "
                                   f"= {key_location(record.key)}", f"pairs[{k}].mem8.location", at)
            out.findings.append(record.problem)
        out.records.append(record)
        return need

    def _decode_again(self, k: int, need: int, total: int, frame, meter: Meter | None, path: str,
                      frame_at: int) -> tuple[str, bytes]:
        """A record whose value was not kept, decoded again from its pairs."""
        compressed = b"".join(self.chunk(k + j) for j in range(need))[ENVELOPE_HEAD:total]
        try:
            return decode_compressed(frame, compressed, meter, path, frame_at)
        except CodecError as exc:   # the bytes decoded when loaded: they changed since
            raise FormatError(exc.message, path, frame_at + t8r_frame_header.sizeof(), P + exc.code) from None

    # -- access --------------------------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        return self._decoded.records

    @property
    def payloads(self) -> list[Payload]:
        return self._decoded.payloads

    @property
    def torn_tail(self) -> TornTail | None:
        return self._decoded.torn

    def live(self) -> dict[str, bytes]:
        """The live view: last write wins, tombstones delete (key -> bincode of the stored value)."""
        return {key: r.value for key, r in self.live_records().items()}

    def live_records(self) -> dict[str, Record]:
        """The record holding each live key's value (nothing decoded)."""
        return live_units(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    # -- writing -------------------------------------------------------------------------------
    def _refuse_after_torn_tail(self) -> None:
        torn = self.torn_tail
        if torn is not None:
            raise FormatError(f"{torn.length} bytes of a torn tail ({torn.reason}) follow the last complete "
                              f"record; drop them explicitly (drop_torn_tail) before appending",
                              "tail", torn.offset, P + "torn_tail")

    def append_payload(self, location: int, payload: bytes, wave: Wave | dict | None = None,
                       tombstoned: bool = False) -> None:
        self._queue(payload_pairs(location, payload, wave, tombstoned))

    def put(self, key: str, value: bytes, wave: Wave | dict | None = None,
            compress: Callable[[bytes], bytes] = zlib_frame.deflate) -> None:
        """Append `Record {key, value}` (`value`: bincode of the stored value, see `codecs.bincode`)."""
        if self.application != "st8":
            raise FormatError("this pair file holds raw payloads, not an ST8 record journal", "", 0,
                              P + "not_st8")
        self._queue(record_pairs(key, value, wave, compress=compress))

    def forget(self, key: str) -> None:
        """Append a tombstone: value `None`, default wave, FLAG_TOMBSTONED."""
        self._queue(record_pairs(key, bincode.NONE, tombstoned=True))

    # -- AppendOnly hooks (commit under the RecordStore lock) -----------------------------
    def _complete_length(self, current: bytes) -> int:
        """MEM8.md 2.7 replay of the file as it is now: a file whose first block is not a MEM8
        block, or that holds raw payloads when this document holds records (or the reverse), is
        refused untouched."""
        if len(current) >= MAGIC_END and bytes(current[MAGIC_AT:MAGIC_END]) != MEM8_BYTES:
            raise FormatError("the file's first block is not a MEM8 block: not a native store", "pairs[0].mem8.magic",
                              MAGIC_AT, P + "bad_magic")
        fresh = NativeDocument(Detection("mem8", "native"), current)
        if len(fresh.pairs) and len(self.pairs) and fresh.application != self.application:
            raise FormatError(f"the file holds {fresh.application} payloads, this document {self.application} ones",
                              "pairs[0].raw8.payload", PAYLOAD_AT, P + "not_st8")
        return len(current) if fresh.torn_tail is None else fresh.torn_tail.offset

    def _reset(self, data: bytes) -> None:
        self.data, self.pending = data, bytearray()
        self._decode()

    def drop_torn_tail(self) -> bytes:
        """Explicitly cut the torn tail from this document (the file changes only on `save`)."""
        torn = self.torn_tail
        if torn is None:
            return b""
        data = bytes(self.buffer)
        self.data, self.pending = data[:torn.offset], bytearray()
        self._decode()
        return data[torn.offset:]

    # -- JSON / summary ------------------------------------------------------------------------
    def pair_json(self, k: int) -> dict:
        out = {"index": k, "offset": k * PAIR_SIZE}
        for lane, name in enumerate(("mem8", "raw8")):
            rec = self.pairs[k][name]
            block = {n: int(rec[n]) for n in rec.dtype.names if rec.dtype[n].shape == ()}
            block["crc_ok"] = bool(self.block_crc_ok[k, lane])
            if name == "mem8":
                block["wave"] = Wave.decode(rec)
            out[name] = block
        return out

    def to_json(self) -> dict:
        return materialize(self.json_stream())

    def json_stream(self) -> dict:
        """`to_json` with pairs, records and live values produced one at a time while written."""
        out = {"format": "mem8", "variant": "native", "application": self.application,
               "pair_count": len(self.pairs), "pairs": Stream(self.pair_json(k) for k in range(len(self.pairs)))}
        if self.application == "st8":
            out["records"] = Stream(r.json_item() for r in self.records)
            out["live"] = Stream(((k, Hex(lambda r=r: r.value)) for k, r in self.live_records().items()), pairs=True)
        else:
            out["payloads"] = [p.to_json() for p in self.payloads]
        torn = self.torn_tail
        out["torn_tail"] = None if torn is None else {"offset": torn.offset, "length": torn.length,
                                                      "reason": torn.reason}
        return out

    def summary(self) -> list[str]:
        lines = [f"MEM8 native pairs: {len(self.pairs)} pairs, application {self.application}, "
                 f"{int((~self.block_crc_ok).sum())} bad block seals"]
        if self.application == "st8":
            lines.append(f"{len(self.records)} records, {len(self.live_records())} live keys, "
                         f"{sum(r.tombstoned for r in self.records)} tombstones")
            for r in self.records[:5]:
                lines.append(f"  @{r.offset} {r.key!r} {r.value_len or 0} value bytes"
                             f"{' (tombstone)' if r.tombstoned else ''}")
        else:
            for p in self.payloads[:5]:
                lines.append(f"  @{p.offset} location {p.location}: {len(p.data)} bytes in {p.pairs} pairs")
        if self.torn_tail:
            t = self.torn_tail
            lines.append(f"torn tail: {t.length} bytes at {t.offset} ({t.reason})")
        return lines

    # -- checks (MEM8.md 2.9; lenient = strict) --------------------------------------------------
    def check(self, strict: bool = False) -> list[Finding]:
        out = self._pair_findings()
        out += self._decoded.findings
        units = self.records if self.application == "st8" else self.payloads
        for u in units:
            self._unit_findings(u, out)
        torn = self.torn_tail
        if torn is not None:
            units_before = [u for u in units if u.offset < torn.offset]
            out.append(warning(P + "torn_tail", f"torn tail: {torn.length} bytes at offset {torn.offset} "
                               f"({torn.reason}); recoverable: {len(units_before)} complete "
                               f"{'records' if self.application == 'st8' else 'payloads'} in the first "
                               f"{torn.offset} bytes; upstream open() truncates the file to {torn.offset}",
                               "tail", torn.offset))
        return out

    def _at(self, k: int, path: str) -> int:
        return k * PAIR_SIZE + field_offset(native_pair, path)

    def _pair_findings(self) -> list[Finding]:
        out: list[Finding] = []
        pairs = self.pairs
        if not len(pairs):
            return out

        def each(mask, code, severity, name, message):
            for k in np.flatnonzero(mask):
                out.append(severity(P + code, message(int(k)), f"pairs[{k}].{name}", self._at(int(k), name)))

        for lane, name in enumerate(("mem8", "raw8")):
            col = pairs[name]
            want_lane, want_kind, want_magic = LANES[name]
            each(~self.block_crc_ok[:, lane], "crc_mismatch", error, f"{name}.crc32",
                 lambda k, n=name: f"{n} block seal {int(pairs[k][n]['crc32']):#010x} does not match the "
                                   "block's CRC-32")
            each(col["magic"] != want_magic, "bad_magic", error, f"{name}.magic",
                 lambda k, n=name, m=want_magic: f"magic {int(pairs[k][n]['magic']):#010x}, expected {m:#010x}")
            each(col["lane"] != want_lane, "bad_lane", error, f"{name}.lane",
                 lambda k, n=name, v=want_lane: f"lane {int(pairs[k][n]['lane'])}, expected {v}")
            each(col["version"] != 1, "bad_version", error, f"{name}.version",
                 lambda k, n=name: f"version {int(pairs[k][n]['version'])}, expected 1")
            each(col["kind"] != want_kind, "bad_kind", error, f"{name}.kind",
                 lambda k, n=name, v=want_kind: f"kind {int(pairs[k][n]['kind'])}, expected {v}")
            each(col["state"] != STATES[name], "state", warning, f"{name}.state",
                 lambda k, n=name: f"state {int(pairs[k][n]['state'])}, expected {STATES[n]}")
        mem8, raw8 = pairs["mem8"], pairs["raw8"]
        each(mem8["location"] != raw8["location"], "location_mismatch", error, "raw8.location",
             lambda k: f"RAW8 location {int(raw8[k]['location'])} differs from the MEM8 block's "
                       f"{int(mem8[k]['location'])}")
        each(mem8["freq_denominator"] == 0, "zero_freq_denominator", error, "mem8.freq_denominator",
             lambda k: "freq_denominator is 0")
        each((raw8["payload_len"] == 0) | (raw8["payload_len"] > CHUNK_SIZE), "payload_len", error, "raw8.payload_len",
             lambda k: f"payload_len {int(raw8[k]['payload_len'])} is not in 1 .. {CHUNK_SIZE}")
        each(mem8["unknown_24"] != 0, "nonzero_reserved", warning, "mem8.unknown_24",
             lambda k: f"unknown_24 is {int(mem8[k]['unknown_24'])}, always 0 upstream")
        each(mem8["unknown_32"].any(axis=1), "nonzero_reserved", warning, "mem8.unknown_32",
             lambda k: "unknown_32 is not all zero")
        each(mem8["reserved"].any(axis=1), "nonzero_reserved", warning, "mem8.reserved",
             lambda k: "reserved WaveAtom slots are not all zero")
        each((mem8["flags"] & UNKNOWN_FLAGS) != 0, "unknown_flags", warning, "mem8.flags",
             lambda k: f"flags {int(mem8[k]['flags']):#04x} has bits other than TOMBSTONED and HAS_CHAINED_RAW")
        tomb = (mem8["flags"] & FLAG_TOMBSTONED) != 0
        expected_26 = np.where(tomb, 0, LIVE_UNKNOWN_26)
        each(mem8["unknown_26"] != expected_26, "unknown_26", warning, "mem8.unknown_26",
             lambda k: f"unknown_26 {int(mem8[k]['unknown_26']):#06x} does not match the tombstone flag "
                       f"(expected {int(expected_26[k]):#06x})")
        for k in range(len(pairs)):
            used = min(int(raw8[k]["payload_len"]), CHUNK_SIZE)
            padding = raw8[k]["payload"][used:]
            if padding.any():
                first = int(np.flatnonzero(padding)[0])
                out.append(warning(P + "nonzero_reserved", "RAW8 padding after the payload is not zero",
                                   f"pairs[{k}].raw8.payload", self._at(k, "raw8.payload") + used + first))
        return out

    def _unit_findings(self, unit, out: list[Finding]) -> None:
        flags = [int(self.pairs[unit.pair_index + j]["mem8"]["flags"]) for j in range(unit.pairs)]
        chained = [bool(f & FLAG_HAS_CHAINED_RAW) for f in flags]
        want = unit.pairs > 1
        if any(c != want for c in chained):
            j = next(j for j, c in enumerate(chained) if c != want)
            k = unit.pair_index + j
            out.append(warning(P + "chain_flag", f"FLAG_HAS_CHAINED_RAW is {'set' if chained[j] else 'clear'} on a "
                               f"{unit.pairs}-pair {'record' if isinstance(unit, Record) else 'payload'}",
                               f"pairs[{k}].mem8.flags", self._at(k, "mem8.flags")))
        tombs = {bool(f & FLAG_TOMBSTONED) for f in flags}
        if len(tombs) > 1:
            out.append(warning(P + "tombstone_flag", "FLAG_TOMBSTONED differs between the pairs of one unit",
                               f"pairs[{unit.pair_index}].mem8.flags", self._at(unit.pair_index, "mem8.flags")))


def load_native(data, detection: Detection, name: str = "") -> NativeDocument:
    """Any length decodes: complete pairs are checked, anything after them is a torn tail."""
    return NativeDocument(Detection("mem8", "native", detection.description), data, name)


def open_store(path: str | os.PathLike) -> NativeDocument:
    """The journal at `path` for appending (`put`/`forget` then `commit(path)`); an absent file is
    an empty store."""
    origin = FileStamp.maybe(path)
    if origin is None or origin.size == 0:
        doc = NativeDocument.new()
    else:
        with open(path, "rb") as fh:
            doc = NativeDocument(Detection("mem8", "native"), fh.read(), os.fspath(path))
    doc.source, doc.origin = os.fspath(path), origin
    return doc
