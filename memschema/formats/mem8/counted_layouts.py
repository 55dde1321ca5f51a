"""What the M8MEM, sectioned and m8-tool documents share: a layout whose records are counted by a
header field, parsed with that count checked against the bytes first (a count of 2^32 is refused
before a single record is walked), and the layout of a document as its writer has changed it."""

from __future__ import annotations

from construct import Container

from ...errors import FormatError
from ...layout import Layout, Parsed


def parse_counted(layout: Layout, data, prefix: str, count_field: str, min_record: int) -> Parsed:
    """`layout.parse(data)` with the format's codes: `truncated` (no whole header), `count_past_end`
    (`header.<count_field>` records of at least `min_record` bytes cannot fit), `length_past_end`
    (a record runs past the end; the path and offset are the failing field's)."""
    size = layout.section("header").decl.sizeof()
    if len(data) < size:
        raise FormatError(f"file is {len(data)} bytes, the header needs {size}", "header", 0, prefix + "truncated")
    head = layout.parse(data, only=("header",))
    count, room = head.header[count_field], len(data) - size
    if count * min_record > room:
        raise FormatError(f"{count_field} {count}: that many records need at least {count * min_record} bytes, "
                          f"{room} follow the header", f"header.{count_field}",
                          head.offset_of(f"header.{count_field}"), prefix + "count_past_end")
    try:
        return layout.parse(data)
    except FormatError as exc:
        raise FormatError(exc.message, exc.path, exc.offset, prefix + "length_past_end") from None


def counted_fields(parsed: Parsed, records: str, sealed: str) -> Container:
    """A counted layout's values as a document holds them: `header`, the records, the trailer's one
    field (`sealed`; None when the file ends before the trailer) and the bytes after it."""
    values = parsed.values()
    trailer = values["trailer"]
    return Container({"header": values["header"], records: values[records],
                      sealed: None if trailer is None else trailer[sealed], "trailing": bytes(values["trailing"])})


class Rebuilt:
    """Mixin for a document with a `layout`, `parsed` (the layout of the loaded bytes) and a writer
    that sets `_changed`: `layout_now()` is the layout of what `build()` gives now."""

    def layout_now(self) -> Parsed:
        if self._changed or self.parsed is None:
            self.parsed, self._changed = self.layout.parse(self.build()), False
        return self.parsed
