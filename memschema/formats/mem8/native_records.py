"""What a native pair file holds on top of its pair table (MEM8.md 2.5-2.7): the ST8 records of a
journal or the raw payload chains of any other pair file.

Replay runs in two steps so that a file of any size is walked at the cost of its headers: the
record index (`replay`) reads only the envelope head of each record's first pair (vectorised over
the table) and checks the chain of pairs it spans; the values (zlib, token LZW, bincode) are
decoded record by record on demand (`decode_record`), so validation streams and keeps no value.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from construct import Container

from ...batches import bounded_batches
from ...budget import Keys, Meter
from ...dtypes import struct_dtype
from ...errors import Finding, error
from ...journal import TornTail
from ...jsonify import Hex, materialize
from ...lazy import LazySequence
from ...parsing import field_offset
from .codecs import CodecError
from .codecs.crc_seal import crc_rows
from .codecs.location import location as key_location
from .native import (
    BLOCK_SIZE,
    CHUNK_SIZE,
    CRC_AT,
    ENVELOPE_HEAD,
    FLAG_HAS_CHAINED_RAW,
    FLAG_TOMBSTONED,
    PAIR_SIZE,
    PAYLOAD_AT,
    RAW8_AT,
    ST8_MAGIC,
    ST8_VERSION,
    native_pair,
    st8_head,
    t8r_frame_header,
)
from .record_frame import FRAME_HEADER_SIZE, FRAME_HEADERS, decode_compressed, decode_run, header_problems, trusted

P = "mem8.native."                               # finding code prefix
HEAD_DTYPE = struct_dtype(st8_head)
FRAME_AT = field_offset(st8_head, "frame")       # 4: after the magic and the version
VERSION_AT = field_offset(st8_head, "version")
PAYLOAD_LEN_AT = field_offset(native_pair, "raw8.payload_len")
_MAGIC = np.frombuffer(ST8_MAGIC, dtype=np.uint8)
MAX_BATCH_RECORDS = 1024             # records decoded per batch (`decode_records`)
MAX_BATCH_BYTES = 32 << 20           # compressed bytes a batch holds, and the values when it keeps them


@dataclass
class Unit:
    """What a record and a raw payload share: the pairs they span and what those pairs say."""

    offset: int
    pair_index: int
    pairs: int
    location: int
    tombstoned: bool
    crc_ok: bool


@dataclass
class Record(Unit):
    """One journal record (superseded ones and tombstones included).  `key`/`value` are filled by
    `decode_record`; `problem` is the first error that stopped decoding it."""

    frame: Container | None = None
    key: str | None = None
    value: bytes | None = None
    problem: Finding | None = None
    version: int = ST8_VERSION
    decodable: bool = True

    def to_json(self) -> dict:
        return materialize(self.json_item())

    def json_item(self) -> dict:
        """`to_json` with the value as a `Hex`, written a slice at a time."""
        out = {"offset": self.offset, "location": self.location, "key": self.key,
               "value": None if self.value is None else Hex(self.value), "tombstoned": self.tombstoned,
               "pairs": self.pairs, "crc_ok": self.crc_ok, "version": self.version,
               "compressed_len": self.frame.compressed_len if self.frame else None,
               "raw_len": self.frame.raw_len if self.frame else None}
        if self.problem:
            out["error"] = self.problem.to_json()
        return out


@dataclass
class Payload(Unit):
    """One raw application payload (a chain of pairs) of a non-journal pair file."""

    data: bytes = b""

    def to_json(self) -> dict:
        return {"offset": self.offset, "location": self.location, "pairs": self.pairs,
                "tombstoned": self.tombstoned, "crc_ok": self.crc_ok, "data_hex": self.data.hex()}


@dataclass
class Segment:
    """Pairs `start`.. of the file: their table (a plain structured array) over `data`."""

    start: int
    table: np.ndarray
    data: object
    payload_len: np.ndarray
    crc_ok: np.ndarray | None = None


class PairTable:
    """The pair table in segments: the loaded file, then one segment per append, so that an append
    never copies what came before.  Pair k of the whole file is in `segment(k)`."""

    def __init__(self, table: np.ndarray, data):
        self.segments: list[Segment] = []
        self.count = 0
        self.add(table, data)
        self._whole: np.ndarray | None = table

    def add(self, table: np.ndarray, data) -> int:
        start = self.count
        plain = table.view(np.ndarray)
        self.segments.append(Segment(start, plain, data, plain["raw8"]["payload_len"]))
        self.count += len(table)
        self._whole = None
        return start

    def whole(self) -> np.ndarray:
        """Every pair as one table (a copy once something was appended)."""
        if self._whole is None:
            self._whole = np.concatenate([seg.table for seg in self.segments]).view(np.recarray)
        return self._whole

    def segment(self, k: int) -> Segment:
        for seg in reversed(self.segments):
            if k >= seg.start:
                return seg
        raise IndexError(k)

    def chunk(self, k: int) -> bytes:
        """Payload bytes of pair k (`payload_len` capped at the 4074 that exist)."""
        seg = self.segment(k)
        local = k - seg.start
        used = min(int(seg.payload_len[local]), CHUNK_SIZE)
        at = local * PAIR_SIZE + PAYLOAD_AT
        return bytes(memoryview(seg.data)[at:at + used])

    def crc_ok(self) -> np.ndarray:
        """(pairs, 2) booleans: does each block's seal match (computed once per segment)."""
        for seg in self.segments:
            if seg.crc_ok is None:
                seg.crc_ok = block_seals_ok(seg.table, seg.data)
        parts = [seg.crc_ok for seg in self.segments]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def block_seals_ok(table: np.ndarray, data) -> np.ndarray:
    """(pairs, 2): the seal of each block against the CRC-32 of its bytes (seal zeroed)."""
    stored = np.stack([table["mem8"]["crc32"], table["raw8"]["crc32"]], axis=1) if len(table) else \
        np.zeros((0, 2), dtype=np.uint32)
    starts = (np.arange(len(table), dtype=np.int64)[:, None] * PAIR_SIZE + [0, RAW8_AT]).ravel()
    return crc_rows(data, starts, BLOCK_SIZE, CRC_AT).reshape(-1, 2) == stored


def application(pairs: PairTable) -> str:
    """`st8` when the first payload starts with the ST8 magic (any version), else `raw`."""
    if not pairs.count:
        return "st8"
    return "st8" if pairs.chunk(0)[:len(ST8_MAGIC)] == ST8_MAGIC else "raw"


class RecordIndex(LazySequence):
    """The records of a journal in file order: runs of sound records kept as columns (a `Record`
    is made when asked, as `Frames` does for T8R), and records the replay loop made one by one."""

    def __init__(self):
        self._items: list[Record | None] = []
        self._runs: list[tuple[int, dict]] = []    # (index of the run's first record, its columns)

    def __len__(self) -> int:
        return len(self._items)

    def _item(self, i: int) -> Record:
        item = self._items[i]
        if item is None:
            start, cols = self._runs[bisect_right(self._runs, i, key=lambda run: run[0]) - 1]
            j = i - start
            frame = Container(zip(cols["names"], (column[j] for column in cols["frame"])))
            item = self._items[i] = Record(cols["offset"][j], cols["pair_index"][j], cols["pairs"][j],
                                           cols["location"][j], cols["tombstoned"][j], True, frame)
        return item

    def pieces(self) -> Iterator[tuple[int, int, dict | None]]:
        """(first, end, columns) of each run, and (first, end, None) of the records made one by one
        between them, in file order."""
        at = 0
        for start, cols in self._runs:
            if at < start:
                yield at, start, None
            at = start + len(cols["offset"])
            yield start, at, cols
        if at < len(self._items):
            yield at, len(self._items), None

    def column(self, name: str) -> np.ndarray:
        """One integer attribute of every record (offset, pair_index, pairs), without making them."""
        parts = [np.asarray(cols[name] if cols is not None else [getattr(r, name) for r in self._items[lo:hi]],
                            np.int64) for lo, hi, cols in self.pieces()]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def append(self, record: Record) -> None:
        self._items.append(record)

    def add_run(self, columns: dict) -> None:
        self._runs.append((len(self._items), columns))
        self._items.extend([None] * len(columns["offset"]))


@dataclass
class Replay:
    """The record index of a journal (no values decoded) and what stopped or broke it."""

    records: RecordIndex = field(default_factory=RecordIndex)
    findings: list[Finding] = field(default_factory=list)
    torn: TornTail | None = None


def _sound_run(table: np.ndarray, heads: np.ndarray, sound: np.ndarray, used: np.ndarray, first: int) -> dict | None:
    """The columns of every record of `table` when each one is sound (what the loop of `replay`
    accepts without a finding: ST8, this version, a trusted frame header, a complete chain of
    pairs of its location and full chunks), found with numpy; None when one is not."""
    n = len(table)
    totals = ENVELOPE_HEAD + heads["frame"]["compressed_len"].astype(np.int64)   # payload bytes if a record starts here
    need = -(-totals // CHUNK_SIZE)
    if (need == 1).all():
        starts = np.arange(n)
    else:   # records follow each other by their pair counts (continuation pairs hold no head)
        steps, at, found = need.tolist(), 0, []
        while at < n:
            found.append(at)
            at += steps[at]
        if at != n:
            return None          # the last record needs pairs the file does not hold: a torn tail
        starts = np.array(found, np.int64)
    spans = need[starts]
    owner = np.repeat(np.arange(len(starts)), spans)          # the record each pair belongs to
    last = np.arange(n) - starts[owner] == spans[owner] - 1
    expected = np.where(last, (totals[starts] - CHUNK_SIZE * (spans - 1))[owner], CHUNK_SIZE)
    locations = table["mem8"]["location"]
    if not ((heads["magic"][starts] == _MAGIC).all() and (heads["version"][starts] == ST8_VERSION).all()
            and (used[starts] >= ENVELOPE_HEAD).all() and sound[starts].all()
            and (locations == locations[starts][owner]).all() and (used == expected).all()):
        return None
    frames = heads["frame"][starts]
    return {"offset": ((first + starts) * PAIR_SIZE).tolist(), "pair_index": (first + starts).tolist(),
            "pairs": spans.tolist(), "location": locations[starts].tolist(),
            "tombstoned": (table["mem8"]["flags"][starts] & FLAG_TOMBSTONED).astype(bool).tolist(),
            "names": frames.dtype.names, "frame": [frames[name].tolist() for name in frames.dtype.names]}


def replay(table: np.ndarray, data, first: int, end_offset: int, out: Replay) -> Replay:
    """Index the records of `table` (pairs `first`.. of the file) as `RecordStore::open_memory`
    replays them (MEM8.md 2.7), reporting instead of failing; `end_offset`: where the bytes end.
    A table whose records are all sound is indexed with numpy; otherwise the loop below walks it
    record by record and says what is wrong where."""
    n = len(table)
    if not n:
        return out
    table = table.view(np.ndarray)
    heads = np.ascontiguousarray(table["raw8"]["payload"][:, :ENVELOPE_HEAD]).view(HEAD_DTYPE).reshape(n)
    frames = heads["frame"]
    sound = trusted(frames)    # header_problems is asked only where this finds one
    used = np.minimum(table["raw8"]["payload_len"], CHUNK_SIZE)
    run = _sound_run(table, heads, sound, used, first)
    if run is not None:
        out.records.add_run(run)
        return out
    is_st8 = (heads["magic"] == _MAGIC).all(axis=1).tolist()
    # the loop reads Python lists: a numpy scalar per field and record costs more than the record
    versions = heads["version"].tolist()
    names = frames.dtype.names
    frame_rows = list(zip(*(frames[name].tolist() for name in names)))
    sound = sound.tolist()
    stored_heads = heads.tobytes()
    locations = table["mem8"]["location"]
    location_list = locations.tolist()
    tombstoned = (table["mem8"]["flags"] & FLAG_TOMBSTONED).astype(bool).tolist()
    used_list = used.tolist()
    k = 0
    while k < n:
        at = (first + k) * PAIR_SIZE
        path = f"pairs[{first + k}].raw8.payload"
        loc, tomb = location_list[k], tombstoned[k]
        payload_at = at + PAYLOAD_AT
        if not is_st8[k]:
            out.findings.append(error(P + "not_st8", "record does not start with the ST8 magic", path, payload_at))
            k += 1
            continue
        version = versions[k]
        if version != ST8_VERSION:
            pairs = _chain_length(table, k, used)
            out.findings.append(error(P + "st8_version", f"unknown ST8 version {version} (this reader decodes "
                                      f"version {ST8_VERSION}); the record's {pairs} pairs are not decoded",
                                      f"{path}.version", payload_at + VERSION_AT))
            out.records.append(Record(at, first + k, pairs, loc, tomb, False, version=version,
                                      problem=out.findings[-1], decodable=False))
            k += pairs
            continue
        first_used = used_list[k]
        if first_used < ENVELOPE_HEAD:
            out.findings.append(error(P + "frame_length", f"first chunk of {first_used} bytes cannot hold the "
                                      f"{ENVELOPE_HEAD}-byte envelope head", path, payload_at))
            k += 1
            continue
        frame = Container(zip(names, frame_rows[k]))
        frame_at = payload_at + FRAME_AT
        head_at = k * ENVELOPE_HEAD + FRAME_AT
        if not sound[k]:
            problems = header_problems(frame, stored_heads[head_at:head_at + FRAME_HEADER_SIZE])
            for code, message, name in problems:
                out.findings.append(error(P + code, message, f"{path}.frame.{name}",
                                          frame_at + field_offset(t8r_frame_header, name)))
            out.records.append(Record(at, first + k, 1, loc, tomb, False, frame, problem=out.findings[-1],
                                      decodable=False))
            k += 1
            continue
        total = ENVELOPE_HEAD + frame.compressed_len
        need = -(-total // CHUNK_SIZE)
        if k + need > n:
            out.torn = TornTail(at, end_offset - at, f"record needs {need} pairs ({total} payload bytes), "
                                                     f"only {n - k} complete pairs remain")
            return out
        if need > 1:
            others = np.flatnonzero(locations[k + 1:k + need] != locations[k])
            if len(others):
                j = int(others[0]) + 1
                out.findings.append(error(P + "chain_location", f"continuation pair {first + k + j} has location "
                                          f"{int(locations[k + j])}, the record's is {loc}",
                                          f"pairs[{first + k + j}].mem8.location", (first + k + j) * PAIR_SIZE))
                out.records.append(Record(at, first + k, j, loc, tomb, False, frame, problem=out.findings[-1],
                                          decodable=False))
                k += j
                continue
        short = _short_chunk(used, used_list, k, need, total)
        if short is not None:
            j, expected = short
            out.findings.append(error(P + "short_chunk", f"chunk {j} of the record holds {int(used[k + j])} bytes, "
                                      f"{expected} expected", f"pairs[{first + k + j}].raw8.payload_len",
                                      (first + k + j) * PAIR_SIZE + PAYLOAD_LEN_AT))
            out.records.append(Record(at, first + k, need, loc, tomb, False, frame, problem=out.findings[-1],
                                      decodable=False))
            k += need
            continue
        out.records.append(Record(at, first + k, need, loc, tomb, True, frame))
        k += need
    return out


def _short_chunk(used: np.ndarray, used_list: list, k: int, need: int, total: int) -> tuple[int, int] | None:
    """(chunk index, expected length) of the first chunk that is not full (all but the last) or
    not exactly the rest (the last)."""
    last = total - CHUNK_SIZE * (need - 1)
    if need > 1:
        short = np.flatnonzero(used[k:k + need - 1] != CHUNK_SIZE)
        if len(short):
            return int(short[0]), CHUNK_SIZE
    return (need - 1, last) if used_list[k + need - 1] != last else None


def _chain_length(table: np.ndarray, k: int, used: np.ndarray) -> int:
    """Pairs of the payload starting at pair k: the chain continues while FLAG_HAS_CHAINED_RAW is
    set, the location repeats and the previous chunk was full (MEM8.md 2.5)."""
    n, loc = 1, table["mem8"]["location"][k]
    while (k + n < len(table) and table["mem8"]["flags"][k + n - 1] & FLAG_HAS_CHAINED_RAW
           and table["mem8"]["location"][k + n] == loc and used[k + n - 1] == CHUNK_SIZE):
        n += 1
    return n


def decode_record(pairs: PairTable, record: Record, crc_ok: np.ndarray, meter: Meter | None = None) -> Record:
    """A copy of `record` with its key and value (or the codec error that stopped them); the
    value's `raw_len` is charged to `meter` first (a document's own appends are not charged)."""
    out = _copy(record, crc_ok)
    if not record.decodable or record.key is not None:
        return out
    path = f"pairs[{record.pair_index}].raw8.payload"
    try:
        key, value = decode_compressed(record.frame, _compressed(pairs, record), meter, f"{path}.compressed",
                                       _compressed_at(record))
    except CodecError as exc:
        out.crc_ok = out.crc_ok and exc.code != "payload_crc_mismatch"
        out.problem = error(P + exc.code, exc.message, f"{path}.compressed", _compressed_at(record))
        return out
    return _decoded(out, key, value)


def decode_records(pairs: PairTable, records: Sequence[Record], crc_ok: np.ndarray, meter: Meter | None,
                   charged_below: int, values: bool = True) -> Iterator[Record]:
    """`decode_record` of each record in turn (`meter` charged for those before `charged_below`, the
    loaded file), decoded in batches (`record_frame.decode_run`).  A record a batch refuses is
    decoded again alone, which names its problem; without `values`, only keys are decoded."""
    lo = 0
    while lo < len(records):
        batch, held = [], 0
        hi = lo
        while hi < len(records) and hi - lo < MAX_BATCH_RECORDS and held < MAX_BATCH_BYTES:
            r = records[hi]
            if r.decodable and r.key is None and r.offset < charged_below:
                batch.append(r)
                held += r.frame.compressed_len + (r.frame.raw_len if values else 0)
            hi += 1
        done = _decode_batch(pairs, batch, meter, values)
        for r in records[lo:hi]:
            key_value = done.get(r.offset)
            if key_value is None:
                yield decode_record(pairs, r, crc_ok, meter if r.offset < charged_below else None)
            else:
                yield _decoded(_copy(r, crc_ok), *key_value)
        lo = hi


def _decode_batch(pairs: PairTable, batch: list[Record], meter: Meter | None, values: bool) -> dict[int, tuple]:
    """{record offset: (key, value or None)} of the records of `batch` that `decode_run` decoded."""
    if not batch:
        return {}
    first = np.fromiter((r.pair_index for r in batch), np.int64, len(batch))
    count = np.fromiter((r.pairs for r in batch), np.int64, len(batch))
    heads = np.array([tuple(r.frame[name] for name in FRAME_HEADERS.names) for r in batch], FRAME_HEADERS)
    keys, got, failed = _decode_columns(pairs, first, count, heads, [_compressed_at(r) for r in batch], meter,
                                        values)
    refused = set(failed)
    return {r.offset: (keys[j], got[j] if values else None) for j, r in enumerate(batch) if j not in refused}


def _decode_columns(pairs: PairTable, first: np.ndarray, count: np.ndarray, heads: np.ndarray, at: list[int],
                    meter: Meter | None, values: bool) -> tuple[list, list | None, list[int]]:
    """`decode_run` of the records of the loaded file whose first pairs are `first`, spanning
    `count` pairs, with frame headers `heads` and compressed bytes at offsets `at`."""
    # Every chunk of the records, back to back, in one copy: a decodable record's chunks are full
    # but the last, so its compressed bytes run on from chunk to chunk.
    seg = pairs.segments[0]
    grid = np.frombuffer(seg.data, np.uint8, count=len(seg.table) * PAIR_SIZE).reshape(-1, PAIR_SIZE)
    before = np.cumsum(count) - count
    rows = np.repeat(first - before, count) + np.arange(int(count.sum()))
    chunks = grid[rows, PAYLOAD_AT:PAYLOAD_AT + CHUNK_SIZE]
    return decode_run(chunks, before * CHUNK_SIZE + ENVELOPE_HEAD, heads, values, meter, Keys(("frame", at)))


def codec_problems(pairs: PairTable, index: RecordIndex, crc_ok: np.ndarray, meter: Meter | None,
                   charged_below: int) -> Iterator[Finding]:
    """The codec problem of each decodable record, in file order, as `decode_records(values=False)`
    leaves it in `problem`.  The sound runs of the loaded file are decoded from the index's columns
    a batch at a time, without making their records; only a record a batch refuses, or whose key
    is not its location's, is made, which names its problem."""
    for lo, hi, cols in index.pieces():
        if hi == lo:
            continue
        if cols is None or cols["offset"][-1] >= charged_below:
            yield from (r.problem for r in decode_records(pairs, index[lo:hi], crc_ok, meter, charged_below, False)
                        if r.decodable and r.problem is not None)
            continue
        heads = np.empty(hi - lo, FRAME_HEADERS)
        for name, column in zip(cols["names"], cols["frame"]):
            heads[name] = column
        first, count = np.asarray(cols["pair_index"], np.int64), np.asarray(cols["pairs"], np.int64)
        at = (np.asarray(cols["offset"], np.int64) + PAYLOAD_AT + ENVELOPE_HEAD).tolist()   # `_compressed_at`
        for a, b in bounded_batches(heads["compressed_len"], MAX_BATCH_RECORDS, MAX_BATCH_BYTES):
            keys, _, failed = _decode_columns(pairs, first[a:b], count[a:b], heads[a:b], at[a:b], meter, False)
            refused = set(failed)
            for j, key in enumerate(keys):
                if j in refused:
                    problem = decode_record(pairs, index[lo + a + j], crc_ok, meter).problem
                elif key_location(key) != cols["location"][a + j]:
                    problem = _decoded(_copy(index[lo + a + j], crc_ok), key, None).problem
                else:
                    continue
                if problem is not None:
                    yield problem


def _copy(record: Record, crc_ok: np.ndarray) -> Record:
    """A copy of `record` (the index keeps no values) with the seals of its pairs."""
    out = object.__new__(Record)
    out.__dict__ = dict(record.__dict__)
    out.crc_ok = record.crc_ok and bool(crc_ok[record.pair_index:record.pair_index + record.pairs].all())
    return out


def _compressed(pairs: PairTable, record: Record) -> bytes:
    """The compressed bytes of a record: its chunks joined, past the envelope head."""
    whole = b"".join(pairs.chunk(record.pair_index + j) for j in range(record.pairs))
    return whole[ENVELOPE_HEAD:ENVELOPE_HEAD + record.frame.compressed_len]


def _compressed_at(record: Record) -> int:
    return record.offset + PAYLOAD_AT + ENVELOPE_HEAD


def _decoded(out: Record, key: str, value: bytes | None) -> Record:
    """`out` with its key and value, and the error of a location that is not its key's."""
    out.key, out.value = key, value
    if key_location(key) != out.location:
        out.problem = error(P + "key_location_mismatch", f"location {out.location} is not "
                            f"SHA-256({key!r})[:8] = {key_location(key)}", f"pairs[{out.pair_index}].mem8.location",
                            out.offset)
    return out


def payload_chains(pairs: PairTable, crc_ok: np.ndarray) -> Iterator[Payload]:
    """The raw payloads of a non-journal pair file, chain by chain."""
    table = pairs.whole().view(np.ndarray)
    used = np.minimum(table["raw8"]["payload_len"], CHUNK_SIZE)
    k = 0
    while k < len(table):
        n = _chain_length(table, k, used)
        yield Payload(k * PAIR_SIZE, k, n, int(table["mem8"]["location"][k]),
                      bool(table["mem8"]["flags"][k] & FLAG_TOMBSTONED), bool(crc_ok[k:k + n].all()),
                      b"".join(pairs.chunk(k + j) for j in range(n)))
        k += n
