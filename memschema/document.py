"""The object `load` returns: the decoded file, its findings, and the way back to bytes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .budget import meter_for
from .errors import Finding
from .registry import Detection

if TYPE_CHECKING:  # pragma: no cover
    from .layout import Explanation, Layout, Parsed


class Document:
    """A decoded memory file.  Formats subclass it; the engine relies only on this interface.

    - `fields`: the parsed declaration tree (construct Containers / numpy tables),
    - `to_json()`: every field plus derived keys, by the JSON conventions of `jsonify`,
    - `build()`: the bytes of the document as it is now (untouched: the bytes it was loaded from),
    - `check(strict)`: the findings the Structs cannot express,
    - `summary()`: lines for `memschema inspect`,
    - `meter`: the decoding budget of the file (`memschema.budget`); lazy decoders charge it,
    - `parsed`: the whole file as its layout places it (sections, records, offsets), from which
      `explain`, `leaves` and `offset_of` answer "what is at this byte" and "where is this field".
    """

    layout: Layout | None = None

    def __init__(self, detection: Detection, data: Any = b"", source: str = ""):
        self.detection = detection
        self.data = data
        self.source = source
        self.fields: Any = None
        self.meter = meter_for(data)
        self.parsed: Parsed | None = None
        self.origin = None   # FileStamp of the file it was read from (set by `load`): save checks it

    def parse_layout(self, layout: Layout | None = None, *, partial: bool = False, lazy: bool = False) -> Parsed:
        """Parse `self.data` with the document's layout and keep the result in `self.parsed`
        (`lazy`: repeated records of variable size are parsed when asked, `Layout.parse`)."""
        self.layout = layout or self.layout
        self.parsed = self.layout.parse(self.data, partial=partial, lazy=lazy)
        return self.parsed

    def offset_of(self, path: str) -> int:
        """Absolute offset of the field at `path` (e.g. `edges[0].target_id`)."""
        if self.parsed is None:
            raise NotImplementedError(f"{type(self).__name__} has no parsed layout")
        return self.parsed.offset_of(path)

    def explain(self, offset: int) -> Explanation:
        from .layout import explain
        if self.parsed is None:
            raise NotImplementedError(f"{type(self).__name__} has no parsed layout")
        return explain(self.parsed, offset)

    def sections_json(self, *names: str) -> dict:
        """Every declared field of the named sections (all when none are named), by declaration."""
        from .jsonify import declared
        placed = self.parsed.placed
        return {n: declared(placed[n].section.decl if placed[n].section.count is None else
                            _repeated(placed[n].section.decl), placed[n].value)
                for n in (names or placed)}

    @property
    def format(self) -> str:
        return self.detection.format

    @property
    def variant(self) -> str | None:
        return self.detection.variant

    def to_json(self) -> dict:
        raise NotImplementedError

    def json_stream(self) -> dict:
        """`to_json()` for streaming output (`jsonify.write_json`): formats whose records can be
        large return `jsonify.Stream`s and `Hex`es here, produced one record at a time."""
        return self.to_json()

    def build(self) -> bytes:
        raise NotImplementedError

    def check(self, strict: bool = False) -> list[Finding]:
        return []

    def summary(self) -> list[str]:
        return [f"{self.detection}"]

    def save(self, path: str | os.PathLike, *, timeout: float | None = None) -> None:
        """`memschema.save(self, path)`: atomic, under the format's writer lock."""
        from .api import save
        save(self, path, timeout=timeout)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.detection.id} from {self.source or '<bytes>'}>"


class LayoutDocument(Document):
    """A document that is exactly its layout: `load` parses it, `to_json` shows every declared field
    of every section, `build` is the layout's writer.  A format with nothing to add beyond its
    declarations needs no document class of its own (`Format.load` falls back to this)."""

    @classmethod
    def from_bytes(cls, data, detection: Detection, layout: Layout, source: str = "") -> LayoutDocument:
        doc = cls(detection, data, source)
        doc.parse_layout(layout)
        doc.fields = doc.parsed
        return doc

    def to_json(self) -> dict:
        return {"format": self.format, "variant": self.variant, **self.sections_json(),
                "tails": {name: {"offset": p.tail.offset, "length": p.tail.length, "reason": p.tail.error.message}
                          for name, p in self.parsed.placed.items() if p.tail is not None}}

    def build(self) -> bytes:
        return self.parsed.build()

    def check(self, strict: bool = False) -> list[Finding]:
        from .errors import warning
        return [warning(f"{self.format}.torn_tail", p.tail.error.message, p.tail.error.path, p.tail.offset)
                for p in self.parsed.placed.values() if p.tail is not None]

    def summary(self) -> list[str]:
        lines = [f"{self.layout.title}"]
        for name, p in self.parsed.placed.items():
            count = "" if p.count is None else f", {p.count} records"
            lines.append(f"  {name}: bytes {p.start}..{p.end}{count}")
        return lines


def _repeated(decl):
    import construct
    return construct.GreedyRange(decl)
