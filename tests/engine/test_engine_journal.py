"""Engine: the journal base (memschema.journal) with a toy line journal: live view, torn tail,
appends that cost the record, refusal after a torn tail, dropping it explicitly."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import memschema
from memschema.journal import Journal, TornTail, live_view


@dataclass
class Line:
    key: str | None
    value: str | None
    tombstoned: bool


class LineJournal(Journal):
    """`key=value\\n` appends, `key\\n` deletes; a last line without its newline is a torn tail."""

    torn_code = "lines.torn_tail"

    def __init__(self, data=b""):
        super().__init__(memschema.Detection("lines"), data)
        self.reload()

    def reload(self):
        whole = self.build()
        complete = whole[:whole.rfind(b"\n") + 1]
        self.lines = [self._line(raw) for raw in complete.splitlines()]
        rest = len(whole) - len(complete)
        self.torn_tail = TornTail(len(complete), rest, "no newline") if rest else None

    @staticmethod
    def _line(raw: bytes) -> Line:
        key, _, value = raw.decode().partition("=")
        return Line(key, value or None, not value)

    def entries(self):
        return iter(self.lines)

    def put(self, key: str, value: str = ""):
        piece = f"{key}={value}\n".encode() if value else f"{key}\n".encode()
        self._append(piece)
        self.lines.append(self._line(piece.rstrip(b"\n")))


def test_live_view_last_write_wins_and_tombstones_delete():
    doc = LineJournal(b"a=1\nb=2\na=3\nb\n")
    assert doc.live() == {"a": "3"} and doc.torn_tail is None
    assert live_view([Line(None, "x", False), Line("k", "v", False)]) == {"k": "v"}


def test_appends_are_pieces_and_build_gives_everything_back():
    original = b"a=1\n"
    doc = LineJournal(original)
    doc.put("b", "2")
    doc.put("a")
    assert doc.build() == original + b"b=2\na\n" and doc.size == len(doc.build())
    assert doc.pending == b"b=2\na\n" and doc.size_on_disk == len(original)
    doc.mark_committed()
    assert doc.pending == b"" and doc.size_on_disk == doc.size
    assert doc.data is original and doc.live() == {"b": "2"}   # the loaded bytes are never rewritten


def test_a_torn_tail_refuses_appends_until_dropped():
    doc = LineJournal(b"a=1\nb=")
    assert doc.torn_tail == TornTail(4, 2, "no newline")
    with pytest.raises(memschema.FormatError) as info:
        doc.put("c", "3")
    assert (info.value.code, info.value.offset, info.value.path) == ("lines.torn_tail", 4, "tail")
    assert doc.drop_torn_tail() == b"b=" and doc.build() == b"a=1\n" and doc.torn_tail is None
    doc.put("c", "3")
    assert doc.live() == {"a": "1", "c": "3"} and doc.torn_tail is None
    assert doc.torn_tail is None and LineJournal(b"x=1\n").drop_torn_tail() == b""
