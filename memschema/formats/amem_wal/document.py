"""A loaded `transport.wal`: header, entries, what upstream's readers recover, and appends that
follow the writer of AMEM-WAL.md §1.6.  Checks: `checks`; JSON: `json_out`; the lock-free write
guard: `writer`."""

from __future__ import annotations

import os
import time
import uuid
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from construct import Container, ListContainer

from ...document import LayoutDocument
from ...errors import Finding, FormatError
from ...records import fill, serialize_elements
from ...registry import Detection
from ...source import append_safely, atomic_write
from . import recovery
from .declarations import ENTRY_HEAD_SIZE, mwal_entry, mwal_layout
from .declarations import direction as direction_enum
from .writer import ensure_no_server

I64 = np.iinfo(np.int64)
DIRECTION_VALUES = direction_enum.encmapping      # name -> value


@dataclass(frozen=True)
class CapturedEntry:
    """An entry as upstream's `read_entries` returns it (a zero session reads as the header's)."""

    timestamp_ns: int
    sequence: int
    direction: str
    session_id: bytes
    data: bytes

    @property
    def session_uuid(self) -> str:
        return str(uuid.UUID(bytes=self.session_id))


def now_ns() -> int:
    """`now_unix_nanos`: ns since the epoch, saturated to i64, 0 before 1970."""
    return min(max(time.time_ns(), 0), int(I64.max))


class AmemWalDocument(LayoutDocument):
    """`header` (Container), `entries` (every entry the layout parses, then appended ones),
    `heads` (numpy table of the parsed entries' fixed fields), `recovery` (upstream's scan)."""

    layout = mwal_layout

    def __init__(self, detection: Detection, data=b"", source: str = ""):
        super().__init__(detection, data, source)
        self._pending: list[Container] = []
        self._dropped = False

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> AmemWalDocument:
        doc = cls(detection, data, source)
        doc.parse_layout()
        doc.fields = doc.parsed
        return doc

    @classmethod
    def new(cls, session_id: bytes | None = None, created_unix_secs: int | None = None) -> AmemWalDocument:
        """What a server writes into an empty file: the header (a fresh UUID v4 session), no entries."""
        header = {"session_id": uuid.uuid4().bytes if session_id is None else bytes(session_id),
                  "created_unix_secs": max(int(time.time()), 0) if created_unix_secs is None else created_unix_secs}
        data = mwal_layout.build({"header": header, "entries": []})
        return cls.parse(data, Detection("amem_wal", None, "written by memschema"))

    # -- access ----------------------------------------------------------------------------
    @property
    def header(self) -> Container:
        return self.parsed.header

    @property
    def entries(self) -> ListContainer:
        loaded = self.parsed.entries if not self._dropped else self.parsed.entries[:self.recovery.accepted]
        return ListContainer([*loaded, *self._pending])

    @cached_property
    def heads(self) -> np.recarray:
        return recovery.heads(self.parsed)

    @cached_property
    def crc_ok(self) -> np.ndarray:
        return recovery.crc_ok(self.parsed, self.heads)

    @cached_property
    def problems(self) -> np.ndarray:
        """Per parsed entry, the §1.7 step it fails ("" = accepted by upstream's readers)."""
        return recovery.entry_problems(self.heads, self.crc_ok)

    @cached_property
    def recovery(self) -> recovery.Recovery:
        return recovery.scan(self.parsed, self.heads, self.problems)

    def recovered(self, limit: int | None = None) -> list[CapturedEntry]:
        """`read_entries(path, limit)`: the accepted entries in file order (the last `limit`)."""
        header_session = bytes(self.header.session_id)
        out = []
        for e in self.parsed.entries[:self.recovery.accepted]:
            session = bytes(e.session_id)
            out.append(CapturedEntry(e.timestamp_ns, e.sequence, str(e.direction),
                                     header_session if not any(session) else session, bytes(e.data)))
        if limit is not None:
            return out[len(out) - limit:] if 0 < limit < len(out) else ([] if limit == 0 else out)
        return out

    @property
    def unrecovered_bytes(self) -> int:
        """Bytes after the last accepted entry: what the next server start cuts off."""
        return 0 if self._dropped else len(self.data) - self.recovery.truncate_to

    # -- writing ---------------------------------------------------------------------------
    def next_sequence(self) -> int:
        """Upstream continues at the last accepted sequence + 1.  After several processes wrote
        (sequences repeat, AMEM-WAL.md §1.9) the largest sequence + 1 is used instead, so that the
        daemon, which skips sequence <= its checkpoint, still reads the new entry."""
        if self._pending:
            return min(int(self._pending[-1].sequence) + 1, recovery.U64_MAX)
        seen = self.heads.sequence[:self.recovery.accepted]
        top = int(seen.max()) + 1 if len(seen) else 0
        return min(max(self.recovery.next_sequence, top), recovery.U64_MAX)

    def append(self, data: bytes, direction: str = "inbound", timestamp_ns: int | None = None) -> Container:
        """Capture one message as `EnabledCapture::capture` does (whole entry, CRC of data, the
        header's session).  Refuses an empty message (upstream never captures one) and a file whose
        tail upstream would cut off (`drop_unrecovered` first)."""
        data = bytes(data)
        if not data:
            raise FormatError("empty messages are never captured", "entries", None, "amem_wal.empty_message")
        if self.unrecovered_bytes:
            stop = self.recovery.stop
            raise FormatError(f"{self.unrecovered_bytes} bytes after the last entry upstream recovers "
                              f"({stop.message}); an entry appended after them would be cut off with them: "
                              "drop_unrecovered() first", stop.path, stop.offset, "amem_wal.not_appendable")
        if direction not in DIRECTION_VALUES:
            raise FormatError(f"direction {direction!r}: one of {', '.join(DIRECTION_VALUES)}", "entries", None,
                              "amem_wal.direction")
        entry = fill(mwal_entry, {
            "total_len": ENTRY_HEAD_SIZE + len(data), "crc32": zlib.crc32(data),
            "timestamp_ns": now_ns() if timestamp_ns is None else timestamp_ns, "sequence": self.next_sequence(),
            "direction": direction, "session_id": bytes(self.header.session_id), "data_len": len(data),
            "data": data, "slack": b""}, "entries")
        self._pending.append(entry)
        return entry

    def drop_unrecovered(self) -> int:
        """Cut what the next server start cuts (everything after the last accepted entry); returns
        the number of bytes dropped.  Saving then rewrites the file (`save`), it cannot append."""
        cut = self.unrecovered_bytes
        self._dropped = self._dropped or bool(cut)
        return cut

    def build(self) -> bytes:
        placed = self.parsed.placed["entries"]
        tails = {"entries": bytes(self.data[placed.tail.offset:placed.end])} \
            if placed.tail is not None and not self._dropped else {}
        return mwal_layout.build({"header": self.header, "entries": self.entries}, tails)

    def pending_bytes(self) -> bytes:
        """The appended entries, as they go after the loaded bytes."""
        return serialize_elements(mwal_entry, self._pending, "entries")

    def append_to(self, path: str | os.PathLike, *, assume_no_server: bool = False) -> None:
        """Append the new entries to the file this document was loaded from: only while no other
        process has it open (`writer`), only if it is still the loaded length (`append_safely`),
        one write + fsync."""
        if self._dropped:
            raise FormatError("the document dropped bytes upstream would cut off: save() rewrites the file",
                              "entries", None, "amem_wal.not_appendable")
        ensure_no_server(path, assume_no_server)
        append_safely(path, self.pending_bytes(), len(self.data))
        self._reload(self.build())

    def save(self, path: str | os.PathLike, *, assume_no_server: bool = False) -> None:
        """Rewrite atomically (temp file, fsync, rename) — never while a server has the file open:
        it would keep appending to the replaced inode and its entries would be lost."""
        ensure_no_server(path, assume_no_server)
        data = self.build()
        atomic_write(path, data)
        self._reload(data)

    def _reload(self, data: bytes) -> None:
        fresh = AmemWalDocument.parse(data, self.detection, self.source)
        self.__dict__.clear()
        self.__dict__.update(fresh.__dict__)

    # -- JSON, summary, checks -------------------------------------------------------------
    def to_json(self) -> dict:
        from .json_out import wal_json
        return wal_json(self)

    def summary(self) -> list[str]:
        from .json_out import wal_summary
        return wal_summary(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .checks import check_wal
        return check_wal(self, strict)
