"""A loaded native MEM8/RAW8 pair file (MEM8.md Part 2): the pair table its layout places, the ST8
record journal on top of it (tombstones, live view) or the raw payload chains, and the append
writer (`put`, `forget`, `append_payload`, `commit`).

Nothing is ever cut from the loaded bytes: a torn tail is reported (and kept on rebuild);
appending after one is refused until the caller drops it explicitly.  An append costs its record:
the new pairs are a table of their own (`PairTable`), indexed and decoded alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np

from ...dtypes import struct_dtype
from ...errors import Finding, FormatError
from ...journal import Journal, TornTail
from ...parsing import field_offset
from ...publish import FileStamp
from ...registry import Detection
from .appending import AppendOnly
from .codecs import bincode, zlib_frame
from .native import MEM8_MAGIC, native_layout, native_pair
from .native_records import (
    P,
    PairTable,
    Payload,
    Record,
    Replay,
    application,
    codec_problems,
    decode_record,
    decode_records,
    payload_chains,
    replay,
)
from .native_writer import Wave, payload_pairs, record_pairs, record_payload, wave_fields

__all__ = ["NativeDocument", "Wave", "Record", "Payload", "TornTail", "load_native", "open_store", "payload_pairs",
           "record_pairs", "record_payload", "wave_fields"]

PAIR_DTYPE = struct_dtype(native_pair)


class NativeDocument(AppendOnly, Journal):
    """Native pair file.  `pairs` is a numpy record table (dtype from `native_pair`); `records`
    (ST8 journals) or `payloads` (raw pair files) are decoded from it.  `put`/`forget` queue new
    sealed pairs; `commit(path)` appends them safely."""

    layout = native_layout
    torn_code = P + "torn_tail"

    def __init__(self, detection: Detection, data=b"", source: str = "", application: str | None = None):
        super().__init__(detection, data, source)
        self._held_application = application     # "st8" / "raw"; None: what the first pair holds (repair)
        self.reload()

    @classmethod
    def new(cls) -> NativeDocument:
        """An empty store (a 0-byte file, as `RecordStore::open_memory` creates it)."""
        return cls(Detection("mem8", "native", "new native store"))

    def reload(self) -> None:
        self.parse_layout()
        self.fields = self.parsed
        self.table = PairTable(self.parsed.pairs, self.data)
        self._records: list[Record] | None = None
        self._payloads: list[Payload] | None = None
        self._application: str | None = self._held_application
        self._index = Replay()
        if self.application == "st8":
            replay(self.parsed.pairs, self.data, 0, len(self.data), self._index)
        tail = self.parsed.placed["pairs"].tail
        self.torn_tail = self._index.torn or (None if tail is None else
                                              TornTail(tail.offset, tail.length, "incomplete final pair"))

    # -- access ----------------------------------------------------------------------------------
    @property
    def pairs(self) -> np.recarray:
        return self.table.whole()

    @property
    def buffer(self) -> bytes:
        """The journal's bytes with every append."""
        return self.build()

    @property
    def block_crc_ok(self) -> np.ndarray:
        """(pairs, 2): whether the MEM8 and the RAW8 block of each pair match their seals."""
        return self.table.crc_ok()

    @property
    def application(self) -> str:
        if self._application is None:
            self._application = application(self.table)
        return self._application

    def chunk(self, k: int) -> bytes:
        """Payload bytes of pair k (`payload_len` capped at the 4074 that exist)."""
        return self.table.chunk(k)

    @property
    def index(self) -> list[Record]:
        """The records without their values (kept for the file's life: the record index)."""
        return self._index.records

    @property
    def replay_findings(self) -> list[Finding]:
        return self._index.findings

    def iter_records(self, values: bool = True) -> Iterator[Record]:
        """Every record with its key and value (only its key without `values`), decoded a batch at
        a time (nothing kept)."""
        if self._records is not None:
            yield from self._records
            return
        yield from decode_records(self.table, self._index.records, self.block_crc_ok, self.meter, len(self.data),
                                  values)

    def codec_problems(self) -> Iterator[Finding]:
        """The problem of each decodable record that does not decode (`iter_records`'s `problem`),
        without making the records that decode."""
        if self._records is not None:
            yield from (r.problem for r in self._records if r.decodable and r.problem is not None)
            return
        yield from codec_problems(self.table, self._index.records, self.block_crc_ok, self.meter, len(self.data))

    @property
    def records(self) -> list[Record]:
        """Every record with its key and value (decoded once, then kept)."""
        if self._records is None:
            self._records = list(self.iter_records())
        return self._records

    def entries(self) -> Iterator[Record]:
        return self.iter_records()

    @property
    def payloads(self) -> list[Payload]:
        if self._payloads is None:
            self._payloads = list(payload_chains(self.table, self.block_crc_ok)) if self.application == "raw" else []
        return self._payloads

    def __iter__(self) -> Iterator[Record]:
        return self.iter_records()

    # -- writing -----------------------------------------------------------------------------------
    def _check_kind(self, fresh: NativeDocument) -> None:
        """A file whose first block is not a MEM8 block, or that holds raw payloads when this
        document holds records (or the reverse), is refused untouched."""
        if len(fresh.pairs) and int(fresh.pairs[0]["mem8"]["magic"]) != MEM8_MAGIC:
            raise FormatError("the file's first block is not a MEM8 block: not a native store", "pairs[0].mem8.magic",
                              field_offset(native_pair, "mem8.magic"), P + "bad_magic")
        if len(fresh.pairs) and len(self.pairs) and fresh.application != self.application:
            raise FormatError(f"the file holds {fresh.application} payloads, this document {self.application} ones",
                              "pairs[0].raw8.payload", 0, P + "not_st8")

    def _queue(self, piece: bytes) -> None:
        self._append(piece)
        table = np.frombuffer(piece, dtype=PAIR_DTYPE).view(np.recarray)
        first = self.table.add(table, piece)
        self._application, self._payloads = self._held_application, None
        if self.application != "st8":
            return
        known = len(self._index.records)
        replay(table, piece, first, self.size, self._index)
        if self._records is not None:
            crc_ok = self.block_crc_ok
            self._records += [decode_record(self.table, r, crc_ok) for r in self._index.records[known:]]

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

    # -- JSON, summary, checks ---------------------------------------------------------------------
    def to_json(self) -> dict:
        from .native_json import native_json
        return native_json(self)

    def json_stream(self) -> dict:
        from .native_json import native_json
        return native_json(self, stream=True)

    def summary(self) -> list[str]:
        from .native_json import native_summary
        return native_summary(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .native_checks import check_native
        return check_native(self)


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

