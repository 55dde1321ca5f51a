"""Append-only journals: records in file order, a live view (the latest record of a key wins, a
tombstone deletes it), the torn tail a crash leaves after the last complete record, and the rule
that nothing is appended after a torn tail until the caller drops it explicitly.

The loaded bytes are never rewritten or cut: appends are kept as separate pieces (`appended`), so
an append costs the record, not the file, and `build()` gives back the loaded bytes followed by
the appended ones.  A format's journal document subclasses `Journal`, decodes its records into
objects with `key`, `value` and `tombstoned`, sets `torn_tail`, and appends with `_append`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from .document import Document
from .errors import FormatError


@dataclass(frozen=True)
class TornTail:
    """Bytes after the last complete record that do not form a record (a crash during an append)."""

    offset: int
    length: int
    reason: str

    def to_json(self) -> dict:
        return {"offset": self.offset, "length": self.length, "reason": self.reason}


class Entry(Protocol):
    key: str | None          # None: the record did not decode
    value: Any
    tombstoned: bool


def live_view(entries: Iterable[Entry]) -> dict[str, Any]:
    """Last write wins; a tombstone deletes the key; records that did not decode are skipped."""
    view: dict[str, Any] = {}
    for e in entries:
        if e.key is None:
            continue
        if e.tombstoned:
            view.pop(e.key, None)
        else:
            view[e.key] = e.value
    return view


class Journal(Document):
    """An append-only journal document: `data` (the loaded bytes, untouched), `appended` (one piece
    per append since loading; the first `committed` of them are on disk), `torn_tail`."""

    torn_code: ClassVar[str] = "torn_tail"   # the FormatError code of an append after a torn tail

    def __init__(self, detection, data=b"", source: str = ""):
        super().__init__(detection, data, source)
        self.appended: list[bytes] = []
        self.committed = 0
        self._appended_size = 0
        self.torn_tail: TornTail | None = None

    # -- the records -------------------------------------------------------------------------------
    def entries(self) -> Iterator[Entry]:
        """Every record in file order (superseded ones and tombstones included)."""
        raise NotImplementedError

    def live(self) -> dict[str, Any]:
        return live_view(self.entries())

    # -- the bytes ---------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Length of the journal with every append (committed or not)."""
        return len(self.data) + self._appended_size

    @property
    def pending(self) -> bytes:
        """Bytes appended but not yet on disk."""
        return b"".join(self.appended[self.committed:])

    @property
    def size_on_disk(self) -> int:
        """What the file holds as far as this document knows: the loaded bytes and the committed appends."""
        return len(self.data) + sum(len(p) for p in self.appended[:self.committed])

    def mark_committed(self) -> None:
        self.committed = len(self.appended)

    def build(self) -> bytes:
        return bytes(self.data) + b"".join(self.appended)

    # -- appending ---------------------------------------------------------------------------------
    def refuse_after_torn_tail(self) -> None:
        torn = self.torn_tail
        if torn is not None:
            raise FormatError(f"{torn.length} bytes of a torn tail ({torn.reason}) follow the last complete "
                              "record; drop them explicitly (drop_torn_tail) before appending",
                              "tail", torn.offset, self.torn_code)

    def _append(self, piece: bytes) -> int:
        """Queue `piece` after everything else; returns its offset.  Refused after a torn tail."""
        self.refuse_after_torn_tail()
        at = self.size
        self.appended.append(bytes(piece))
        self._appended_size += len(piece)
        return at

    def drop_torn_tail(self) -> bytes:
        """Cut the torn tail from this document (the file changes only on `save`); returns it."""
        torn = self.torn_tail
        if torn is None:
            return b""
        whole = self.build()
        self.appended, self.committed, self._appended_size = [], 0, 0
        self.torn_tail = None
        self.data = whole[:torn.offset]
        self.reload()
        return whole[torn.offset:]

    def reload(self) -> None:
        """Decode `self.data` again (after the journal was cut)."""
        raise NotImplementedError
