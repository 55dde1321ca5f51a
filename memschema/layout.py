"""Whole files, declared: where each section sits, how many records it holds, how big it is.

A `Layout` lists a file's `Section`s in file order, the way a Kaitai `.ksy` lists `seq` and
`instances`: each names its declaration (one record, or the element of a repeated section) and,
as data, its position (`at`: right after the previous section, or an expression such as
`this.header.node_table_offset`), its repeat (`count`: an expression, or `EOF` for "records until
the end") and its size.  A `View` places elements through the records of a table (an AMEM node's
`content_offset`/`content_length` inside the content block).

From that one statement the engine derives what formats used to write by hand: parsing with
numpy tables for fixed-size records (`parse`), the header-consistency rules detection needs
(`placement_problems`), the writer that fills offsets, counts and sizes (`build`), the whole file
as one construct Struct (`as_construct`), and field lookup by byte offset (`explain`, `hexdump`).
"""

from __future__ import annotations

import bisect
import weakref
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import construct as c
import numpy as np

from .errors import FormatError
from .lazy import LazySequence
from .parsing import RAW_ERRORS
from .records import as_dtype, serialize_elements, serialize_one, set_path
from .sized_records import follow, sized_record
from .walker import Leaf, Walker, Window, element_dtype, evaluate, frombuffer, root_context, this_path


class _Eof:
    def __repr__(self) -> str:
        return "EOF"


EOF = _Eof()   # count: records until the end; size: up to the end of the file
FILE_SIZE = "_file_size"   # context key holding the file's size, for expressions
FAR = np.iinfo(np.int64).max // 4   # a view start or length past the end of every file (sums of two stay in int64)


@dataclass(frozen=True)
class Section:
    """One on-disk section.  `count=None`: one value of `decl`; an int or expression: that many
    records; `EOF`: records until the end of the section (bytes that do not form a complete record
    are the section's tail).  `at=None`: right after the previous section (rounded up to `align`).
    `size`: the section's byte extent when `decl` does not determine it (`EOF` = to the end).
    `shown=False`: `dump --json` gives this section's data another way (decoded, per record), so
    the output schema does not require it by its declaration."""

    name: str
    decl: c.Construct
    doc: str
    at: Any = None
    count: Any = None
    size: Any = None
    align: int = 1
    shown: bool = True


@dataclass(frozen=True)
class View:
    """Elements placed by a table: element i is `decl` at `base + table[i].<offset>`, spanning
    `table[i].<length>` bytes, inside the section `region`."""

    name: str
    decl: c.Construct
    doc: str
    table: str
    offset: str
    length: str
    base: Any
    region: str


@dataclass
class Tail:
    """Bytes at the end of a repeated section that are not a complete record, and why."""

    offset: int
    length: int
    error: FormatError


@dataclass
class Placed:
    """A parsed section: where it is and what it holds."""

    section: Section
    start: int
    end: int
    value: Any
    itemsize: int | None = None                 # records of a fixed size (value is a numpy table)
    offsets: Sequence[int] | None = None        # start of each record of variable size
    tail: Tail | None = None

    @property
    def count(self) -> int | None:
        if self.section.count is None:
            return None
        return len(self.value)

    def record_at(self, offset: int) -> int | None:
        """Index of the record that contains `offset`, if any."""
        if self.section.count is None or not self.start <= offset < self.end:
            return None
        if self.itemsize:
            i = (offset - self.start) // self.itemsize
            return i if i < len(self.value) else None
        if self.offsets is None or not len(self.offsets):
            return None
        i = bisect.bisect_right(self.offsets, offset) - 1
        return i if i >= 0 else None

    def record_span(self, i: int) -> tuple[int, int]:
        if self.itemsize is not None:
            start = self.start + i * self.itemsize
            return start, start + self.itemsize
        starts = self.offsets
        stop = starts[i + 1] if i + 1 < len(starts) else self._records_end
        return starts[i], stop

    def record_spans(self) -> tuple[list[int], list[int]]:
        """(starts, stops) of every record of a section of variable-size records: `record_span`
        of each, at once."""
        starts = np.asarray(self.offsets, np.int64).tolist()
        return starts, (starts[1:] + [self._records_end]) if starts else []

    @property
    def _records_end(self) -> int:
        """Where the last record stops: at the tail, if any, else at the section's end."""
        return self.tail.offset if self.tail else self.end


def _is_field_ref(expr) -> bool:
    """A plain `this.a.b` path (what a writer can fill), not a computed expression."""
    return isinstance(expr, c.expr.Path) and _ref_path(expr) is not None


def _ref_path(expr) -> list[str] | None:
    """The names of a `this.a.b` path; None for `this` alone or anything else."""
    return this_path(expr) or None


def describe_expr(expr) -> str:
    """`header.node_count` for `this.header.node_count`; repr for anything else."""
    if expr is None:
        return ""
    if expr is EOF:
        return "EOF"
    path = _ref_path(expr) if isinstance(expr, c.expr.Path) else None
    if path:
        return ".".join(path)
    return str(expr).replace("this.", "")


class Layout:
    """A file's sections and views, in file order."""

    def __init__(self, name: str, title: str, doc: str, *items: Section | View, extension: str = ""):
        self.name, self.title, self.doc, self.extension = name, title, doc, extension
        self.sections: tuple[Section, ...] = tuple(i for i in items if isinstance(i, Section))
        self.views: tuple[View, ...] = tuple(i for i in items if isinstance(i, View))
        names = [i.name for i in items]
        if len(set(names)) != len(names):
            raise ValueError(f"layout {name}: section names repeat: {names}")
        by_name = {s.name: s for s in self.sections}
        for v in self.views:
            if v.table not in by_name or v.region not in by_name:
                raise ValueError(f"layout {name}: view {v.name} names a missing table or region")

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(name)

    def view(self, name: str) -> View:
        for v in self.views:
            if v.name == name:
                return v
        raise KeyError(name)

    def __repr__(self) -> str:
        return f"<Layout {self.name}: {', '.join(s.name for s in self.sections)}>"

    # -- reading ---------------------------------------------------------------------------------
    def parse(self, data, *, partial: bool = False, only: Sequence[str] | None = None,
              lazy: bool = False) -> Parsed:
        """Every section in order.  A section that does not parse raises `FormatError` (path and
        offset of the failing field), or with `partial=True` ends the walk: `Parsed.error` says
        where, and the sections before it stay available (what `explain` shows on damaged files).
        `only`: stop after the last of these sections (e.g. the header, for detection).
        `lazy`: records of variable size are walked to find where each starts, but not kept: the
        section's value is a `LazyRecords` sequence that parses a record when asked (memory is
        8 bytes per record, for files larger than RAM)."""
        parsed = Parsed(self, data)
        parsed.lazy = lazy
        last = max((i for i, s in enumerate(self.sections) if s.name in only), default=-1) if only else None
        for k, section in enumerate(self.sections):
            if last is not None and k > last:
                break
            try:
                parsed._place(section)
            except FormatError as exc:
                if not partial:
                    raise
                parsed.error = exc
                parsed.failed = section
                break
        return parsed

    # -- consistency of the header with the file (detection) ------------------------------------
    def placement_problems(self, data, *, header: str | None = None, whole: bool = True) -> list[str]:
        """Where the sections' declared positions disagree with the order the layout gives them:
        a section placed by a header field must start where the previous one ends (when that end
        follows from counts and sizes), and no section may end past the end of the file (unless
        `whole` is false: `data` may be a truncated file).  Only sections of fixed size are parsed
        (the headers); extents come from counts × record size."""
        ctx = root_context(**{FILE_SIZE: len(data)})
        out: list[str] = []
        prev_end: int | None = 0
        prev_name = "start of file"
        for section in self.sections:
            try:
                start = prev_end if section.at is None else evaluate(section.at, ctx)
            except RAW_ERRORS:
                return out
            if start is None:
                return out
            if section.at is not None and prev_end is not None and start != prev_end:
                out.append(f"{describe_expr(section.at)} {start} != end of {prev_name} {prev_end}")
            elif section.at is not None and prev_end is None and start < 0:
                out.append(f"{describe_expr(section.at)} {start} is negative")
            extent = self._extent(section, ctx, data, start)
            if extent is not None and extent < 0:
                out.append(f"{section.name} has a negative size {extent} ({describe_expr(section.size)})")
                return out
            if whole and extent is not None and start + extent > len(data):
                out.append(f"{section.name} ends at {start + extent}, after the end of the {len(data)}-byte file")
                return out
            if whole and extent is None and start > len(data):
                out.append(f"{section.name} starts at {start}, after the end of the {len(data)}-byte file")
                return out
            prev_end = None if extent is None else start + extent
            prev_name = section.name
            if section.count is None and extent is not None and section.size is None:
                try:
                    ctx[section.name] = Walker(data).walk(section.decl, start, len(data), section.name, ctx)[0]
                except FormatError as exc:
                    out.append(str(exc))
                    return out
        return out

    def _extent(self, section: Section, ctx, data, start: int) -> int | None:
        try:
            if section.size is not None and section.size is not EOF:
                return evaluate(section.size, ctx)
            if section.size is EOF or section.count is EOF:
                return None
            if section.count is None:
                return section.decl.sizeof(**ctx)
            dtype = element_dtype(section.decl, ctx)
            return None if dtype is None else evaluate(section.count, ctx) * dtype.itemsize
        except (c.SizeofError, *RAW_ERRORS):
            return None

    # -- writing ---------------------------------------------------------------------------------
    def filled_fields(self, section: str) -> set[str]:
        """Fields of `section` (its records, or the record itself) that `build` fills in: offsets,
        counts and sizes other sections are placed by, and the fields a view places its elements by."""
        out = {v.offset for v in self.views if v.table == section} | \
              {v.length for v in self.views if v.table == section}
        for s in self.sections:
            for ref in self._refs(s):
                if ref[0] == section and len(ref) == 2:
                    out.add(ref[1])
        return out

    def table(self, section: str, rows) -> np.ndarray:
        """A numpy table of `section`'s records filled by field name; fields the layout fills in
        (`filled_fields`) may be left out."""
        from .records import table
        placeholders = dict.fromkeys(self.filled_fields(section), 0)
        if isinstance(rows, Mapping):
            n = len(next(iter(rows.values()))) if rows else 0
            rows = {**{k: [0] * n for k in placeholders}, **rows}
        else:
            rows = [{**placeholders, **r} for r in rows]
        return table(self.section(section).decl, rows, section)

    def build(self, values: Mapping[str, Any], tails: Mapping[str, bytes] | None = None) -> bytes:
        """The file from its sections' values (Containers, numpy tables, lists of records, bytes).
        Offsets, counts and sizes that the layout states as plain field references
        (`this.header.node_count`) are filled in; every other expression is checked against what
        was placed.  A view's elements, when given instead of its region, make the region and fill
        the table fields that place them.  `tails`: bytes kept after a repeated section's records
        (a torn record), so that an untouched file builds back byte for byte."""
        values = dict(values)
        tails = tails or {}
        for view in self.views:
            if view.name in values and view.region not in values:
                self._build_view(view, values)
        blobs: dict[str, bytes] = {}
        targets = {ref[0] for s in self.sections for ref in self._refs(s)}
        for section in self.sections:
            if section.name not in targets:
                blobs[section.name] = self._serialize(section, values[section.name], values)
        pos = 0
        starts: dict[str, int] = {}
        for section in self.sections:
            if section.align > 1:
                pos = -(-pos // section.align) * section.align
            if section.at is not None and not _is_field_ref(section.at):
                try:
                    want = evaluate(section.at, c.Container(values))
                except RAW_ERRORS:
                    want = None
                if isinstance(want, int) and want >= pos:
                    pos = want
            starts[section.name] = pos
            if section.name in blobs:
                size = len(blobs[section.name])
            else:
                size = self._fixed_size(section, values)
            self._fill(section, values, pos, size)
            pos += size + len(tails.get(section.name, b""))
        for section in self.sections:
            if section.name not in blobs:
                blobs[section.name] = self._serialize(section, values[section.name], values)
        out = bytearray()
        for section in self.sections:
            start = starts[section.name]
            if start > len(out):
                out += bytes(start - len(out))
            out += blobs[section.name]
            out += tails.get(section.name, b"")
        self._verify(bytes(out))
        return bytes(out)

    def _refs(self, section: Section) -> list[list[str]]:
        refs = []
        for expr in (section.at, section.count, section.size):
            if expr is not None and expr is not EOF and _is_field_ref(expr):
                refs.append(_ref_path(expr))
        return refs

    def _fill(self, section: Section, values: dict, pos: int, size: int) -> None:
        value = values[section.name]
        for expr, what in ((section.at, pos), (section.size, size),
                           (section.count, None if section.count is None or section.count is EOF else len(value))):
            if expr is None or expr is EOF or not _is_field_ref(expr) or what is None:
                continue
            set_path(values, _ref_path(expr), what)

    def _fixed_size(self, section: Section, values) -> int:
        try:
            return section.decl.sizeof(**values)
        except (c.SizeofError, *RAW_ERRORS):
            raise FormatError(f"{section.name} is referenced by other sections' offsets or counts, so "
                              "it must have a fixed size", section.name, None, "build") from None

    def _serialize(self, section: Section, value, values) -> bytes:
        ctx = c.Container(values)
        if section.count is None:
            return serialize_one(section.decl, value, section.name, ctx)
        return serialize_elements(section.decl, value, section.name, ctx)

    def _build_view(self, view: View, values: dict) -> None:
        elements = values[view.name]
        table = values[view.table]
        if len(elements) != len(table):
            raise FormatError(f"{len(elements)} {view.name} for {len(table)} {view.table}", view.name, None, "build")
        blobs = [element if isinstance(element, (bytes, bytearray, memoryview)) else
                 serialize_one(view.decl, element, f"{view.name}[{i}]", c.Container(values))
                 for i, element in enumerate(elements)]
        lengths = np.fromiter(map(len, blobs), np.int64, len(blobs))
        offsets = np.cumsum(lengths) - lengths
        if isinstance(table, np.ndarray) and table.dtype.names:   # whole columns, range-checked
            for name, column in ((view.offset, offsets), (view.length, lengths)):
                table[name] = as_dtype(column, table.dtype.fields[name][0], f"{view.table}[].{name}")
        else:
            for i, (offset, length) in enumerate(zip(offsets.tolist(), lengths.tolist())):
                set_path(table, [i, view.offset], offset)
                set_path(table, [i, view.length], length)
        values[view.region] = b"".join(blobs)

    def _verify(self, data: bytes) -> None:
        """The built header must place the sections where they were put (writer/layout mismatch)."""
        problems = self.placement_problems(data)
        if problems:
            raise FormatError(f"the built file does not follow the layout: {'; '.join(problems)}", "", None,
                              "build")

    # -- the whole file as one construct ---------------------------------------------------------
    def as_construct(self) -> c.Construct:
        """The layout as a plain construct Struct (Seek to placed sections, Array/GreedyRange for
        repeats): the baseline the benchmarks compare with, and `dump --as FORMAT.file_<layout>`."""
        fields = []
        for s in self.sections:
            if s.count is None:
                body = s.decl
            elif s.count is EOF:
                body = c.GreedyRange(s.decl)
            else:
                body = c.Array(s.count, s.decl)
            if s.size is not None and s.size is not EOF:
                body = c.FixedSized(s.size, body)
            if s.at is not None and not (s.at == 0 and isinstance(s.at, int) and not fields):
                fields.append(c.Seek(s.at))
            fields.append(s.name / body * s.doc)
        fields.append("trailing" / c.GreedyBytes * "bytes after the last section")
        return c.Struct(*fields) * self.doc


class Parsed(Mapping):
    """A parsed file: section name -> value, plus where every section sits (`placed`)."""

    def __init__(self, layout: Layout, data):
        self.layout = layout
        self.data = data
        self.placed: dict[str, Placed] = {}
        self.error: FormatError | None = None
        self.failed: Section | None = None      # the section where parsing stopped
        self.lazy = False
        self.context = root_context(**{FILE_SIZE: len(data)})
        self._cursor = 0

    # Mapping over section values
    def __getitem__(self, name: str):
        return self.placed[name].value

    def __iter__(self):
        return iter(self.placed)

    def __len__(self) -> int:
        return len(self.placed)

    def __getattr__(self, name: str):
        placed = self.__dict__.get("placed")
        if placed is not None and name in placed:
            return placed[name].value
        raise AttributeError(name)

    @property
    def end(self) -> int:
        return self._cursor

    def values(self) -> dict:
        return {name: p.value for name, p in self.placed.items()}

    def tails(self) -> dict[str, bytes]:
        """Bytes of each section's tail (what `Layout.build` needs to give the file back)."""
        return {name: bytes(self.data[p.tail.offset:p.tail.offset + p.tail.length])
                for name, p in self.placed.items() if p.tail is not None}

    def build(self) -> bytes:
        """The file from the parsed values (an untouched parse gives back the same bytes)."""
        return self.layout.build(self.values(), self.tails())

    def offset_of(self, path: str) -> int:
        """Absolute offset of the field at `path` (`blocks[3].content_len`, `header.flags`)."""
        from .parsing import _tokens, field_offset, locate
        tokens = _tokens(path)
        placed = self.placed[tokens[0]]
        rest = tokens[1:]
        if placed.section.count is not None and rest and isinstance(rest[0], int):
            start, _ = placed.record_span(rest[0])
            tail = "".join(f".{t}" if isinstance(t, str) else f"[{t}]" for t in rest[1:]).lstrip(".")
            if not tail:
                return start
            if placed.itemsize:
                return start + field_offset(placed.section.decl, tail)
            return start + locate(placed.section.decl, placed.value[rest[0]], tail)
        tail = "".join(f".{t}" if isinstance(t, str) else f"[{t}]" for t in rest).lstrip(".")
        return placed.start + (locate(placed.section.decl, placed.value, tail) if tail else 0)

    def _position(self, section: Section) -> int:
        if section.at is None:
            pos = self._cursor
        else:
            try:
                pos = evaluate(section.at, self.context)
            except RAW_ERRORS as exc:
                raise FormatError(f"position: {exc}", section.name, None, "parse") from None
        if section.align > 1:
            pos = -(-pos // section.align) * section.align
        if not isinstance(pos, int) or not 0 <= pos <= len(self.data):
            raise FormatError(f"{describe_expr(section.at) or 'position'} {pos} is outside the "
                              f"{len(self.data)}-byte file", section.name, self.ref_offset(section.at), "bad_offset")
        return pos

    def ref_offset(self, expr) -> int | None:
        """Absolute offset of the field an expression names (`this.header.node_count`), if parsed."""
        if expr is None or expr is EOF or not _is_field_ref(expr):
            return None
        path = _ref_path(expr)
        placed = self.placed.get(path[0])
        if placed is None:
            return None
        from .parsing import locate
        try:
            return placed.start + locate(placed.section.decl, placed.value, ".".join(path[1:]))
        except (KeyError, ValueError, *RAW_ERRORS):
            return None

    def _limit(self, section: Section, pos: int) -> int:
        size = section.size
        if size is None or size is EOF:
            return len(self.data)
        try:
            n = evaluate(size, self.context)
        except RAW_ERRORS as exc:
            raise FormatError(f"size: {exc}", section.name, pos, "parse") from None
        if not isinstance(n, int) or n < 0 or pos + n > len(self.data):
            raise FormatError(f"{describe_expr(size)} {n} bytes at {pos} run past the end of the "
                              f"{len(self.data)}-byte file", section.name, self.ref_offset(size), "truncated")
        return pos + n

    def _place(self, section: Section) -> None:
        pos = self._position(section)
        end = self._limit(section, pos)
        walker = Walker(self.data)
        ctx = self.context
        if section.count is None:
            value, after = walker.walk(section.decl, pos, end, section.name, ctx)
            placed = Placed(section, pos, after, value)
            if section.size is not None and after < end:
                placed.tail = Tail(after, end - after, FormatError(
                    f"{end - after} bytes after the declared fields", section.name, after, "slack"))
                placed.end = end
        elif section.count is EOF:
            placed = self._repeat(section, walker, pos, end, None)
        else:
            try:
                count = evaluate(section.count, ctx)
            except RAW_ERRORS as exc:
                raise FormatError(f"count: {exc}", section.name, pos, "parse") from None
            if not isinstance(count, int) or count < 0:
                raise FormatError(f"invalid count {count!r}", section.name, self.ref_offset(section.count),
                                  "bad_count")
            placed = self._repeat(section, walker, pos, end, count)
        self.placed[section.name] = placed
        # the context refers to lazy records weakly (they refer to the context)
        ctx[section.name] = weakref.proxy(placed.value) if isinstance(placed.value, LazyRecords) else placed.value
        self._cursor = placed.end if section.size is None else end

    def _repeat(self, section: Section, walker: Walker, pos: int, end: int, count: int | None) -> Placed:
        ctx = self.context
        dtype = element_dtype(section.decl, ctx)
        if dtype is not None and (dtype.itemsize or count is not None):
            n = (end - pos) // dtype.itemsize if count is None else count
            need = n * dtype.itemsize
            if pos + need > end:
                raise FormatError(f"{n} records of {dtype.itemsize} bytes need {need} bytes, "
                                  f"{max(end - pos, 0)} remain", section.name, pos, "truncated")
            table = frombuffer(self.data, dtype, n, pos)
            if dtype.names:
                table = table.view(np.recarray)
            placed = Placed(section, pos, pos + need, table, itemsize=dtype.itemsize)
            if count is None and pos + need < end:
                placed.tail = Tail(pos + need, end - pos - need, FormatError(
                    f"{end - pos - need} bytes do not form a complete {dtype.itemsize}-byte record",
                    f"{section.name}[{n}]", pos + need, "torn_record"))
                placed.end = end
            return placed
        values: list = []
        offsets, at = array("q"), pos
        plan = sized_record(section.decl) if self.lazy else None
        if plan is not None:   # only the starts are kept: follow the lengths, walk where the chain stops
            offsets, at = follow(plan, self.data, pos, end, count)
        while (count is None and at < end) or (count is not None and len(offsets) < count):
            ctx._index = len(offsets)
            try:
                value, after = walker.walk(section.decl, at, end, f"{section.name}[{len(offsets)}]", ctx)
            except FormatError as exc:
                if count is not None:
                    raise
                placed = Placed(section, pos, end, self._records(section, values, offsets, at), offsets=offsets,
                                tail=Tail(at, end - at, exc))
                return placed
            if after <= at:
                raise FormatError("a record of no bytes cannot repeat", f"{section.name}[{len(offsets)}]", at,
                                  "bad_count")
            if not self.lazy:
                values.append(value)
            offsets.append(at)
            at = after
        return Placed(section, pos, at, self._records(section, values, offsets, at), offsets=offsets)

    def _records(self, section: Section, values: list, offsets, end: int):
        if self.lazy:
            return LazyRecords(self, section, offsets, end)
        return c.ListContainer(values)

    # -- views -------------------------------------------------------------------------------------
    def view_span(self, name: str, i: int) -> tuple[int, int]:
        """(absolute start, length) of element `i` of a view."""
        view = self.layout.view(name)
        row = self[view.table][i]
        base = evaluate(view.base, self.context)
        return base + int(row[view.offset]), int(row[view.length])

    def view_spans(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(absolute starts, lengths) of every element of a view, as int64 arrays.  A start or length
        that reaches past the end of the file is `FAR` (past every file), so `start + length` never
        wraps: a hostile u64 offset must not come back as a small one (exact values: `view_span`)."""
        view = self.layout.view(name)
        table = self[view.table]
        base = evaluate(view.base, self.context)
        limit = len(self.data)
        offsets, lengths = np.asarray(table[view.offset]), np.asarray(table[view.length])
        starts = np.where((offsets < 0) | (offsets > limit - base), FAR, offsets.astype(np.int64, copy=False) + base)
        lengths = np.where((lengths < 0) | (lengths > limit), FAR, lengths.astype(np.int64, copy=False))
        return starts.astype(np.int64, copy=False), lengths.astype(np.int64, copy=False)

    def view_element(self, name: str, i: int):
        """Element `i` of a view, parsed within its span (FormatError when the span leaves the file)."""
        view = self.layout.view(name)
        start, length = self.view_span(name, i)
        path = f"{name}[{i}]"
        if start < 0 or start + length > len(self.data):
            raise FormatError(f"{length} bytes at {start} run past the end of the {len(self.data)}-byte file",
                              path, None, "bad_extent")
        return Walker(self.data).walk(view.decl, start, start + length, path, self.context)[0]

    # -- byte offset -> field -----------------------------------------------------------------------
    def leaves(self, lo: int = 0, hi: int | None = None) -> list[Leaf | Gap]:
        """Every field overlapping [lo, hi) in file order, with the bytes no field explains as `Gap`s."""
        hi = len(self.data) if hi is None else min(hi, len(self.data))
        out: list[Leaf | Gap] = []
        regions = {v.region for v in self.layout.views}
        for placed in self.placed.values():
            if placed.end <= lo or placed.start >= hi:
                if not (placed.start == placed.end == lo):
                    continue
            if placed.section.name in regions:
                out.extend(self._view_leaves(placed, lo, hi))
                continue
            out.extend(self._section_leaves(placed, lo, hi))
        out.extend(self._failed_leaves(lo, hi))
        out.sort(key=lambda x: (x.offset, x.size != 0, -x.size))   # an empty field before what starts there
        return _with_gaps(out, lo, hi, self)

    def _section_leaves(self, placed: Placed, lo: int, hi: int) -> list:
        window = Window(lo, hi)
        walker = Walker(self.data, numpy=False, sink=window)
        section = placed.section
        ctx = self.context
        if placed.itemsize == 0:
            return []   # records of no bytes (a zero-dimension vector table) have no fields to show
        if section.count is None:
            _safe_walk(walker, section.decl, placed.start, placed.end, section.name, ctx)
        else:
            first = placed.record_at(max(lo, placed.start))
            i = 0 if first is None else first
            n = len(placed.value)
            while i < n:
                start, stop = placed.record_span(i)
                if start >= hi:
                    break
                ctx._index = i
                _safe_walk(walker, section.decl, start, stop, f"{section.name}[{i}]", ctx)
                i += 1
        out: list = list(window.leaves)
        if placed.tail and placed.tail.offset < hi and placed.tail.offset + placed.tail.length > lo:
            out.append(Gap(placed.tail.offset, placed.tail.length, f"{section.name}.tail", "tail",
                           placed.tail.error.message))
        return out

    def _failed_leaves(self, lo: int, hi: int) -> list:
        """The fields of the section where parsing stopped, up to the failing one."""
        section = self.failed
        if section is None:
            return []
        try:
            start = self._position(section)
        except FormatError:
            return []
        window = Window(lo, hi)
        walker = Walker(self.data, numpy=False, sink=window)
        decl = section.decl
        if section.count is not None:
            decl = c.GreedyRange(decl) if section.count is EOF else c.Array(section.count, decl)
        _safe_walk(walker, decl, start, len(self.data), section.name, self.context)
        return [leaf for leaf in window.leaves if not isinstance(leaf, Gap)]

    def _view_leaves(self, placed: Placed, lo: int, hi: int) -> list:
        out: list = []
        covered = np.zeros(0, dtype=np.int64)
        for view in (v for v in self.layout.views if v.region == placed.section.name):
            try:
                starts, lengths = self.view_spans(view.name)
            except (FormatError, *RAW_ERRORS):
                continue
            hit = np.nonzero((starts < hi) & (starts + lengths > lo) & (lengths > 0))[0]
            for i in hit.tolist():
                start, length = int(starts[i]), int(lengths[i])
                if start + length > len(self.data) or start < placed.start:
                    continue
                window = Window(lo, hi)
                _safe_walk(Walker(self.data, numpy=False, sink=window), view.decl, start, start + length,
                           f"{view.name}[{i}]", self.context)
                out.extend(window.leaves)
            covered = np.concatenate([covered, starts[hit]]) if len(hit) else covered
        return out


class LazyRecords(LazySequence):
    """The records of a variable-size repeated section, parsed when asked (see `Layout.parse(lazy=)`)."""

    def __init__(self, parsed: Parsed, section: Section, offsets, end: int):
        # the bytes and the context, not the Parsed that holds this sequence: no reference cycle,
        # so a dropped document frees its buffer (or mmap) at once instead of at the next collection
        self.data, self.context = parsed.data, parsed.context
        self.section, self.offsets, self.end = section, offsets, end

    def __len__(self) -> int:
        return len(self.offsets)

    def span(self, i: int) -> tuple[int, int]:
        return self.offsets[i], self.offsets[i + 1] if i + 1 < len(self.offsets) else self.end

    def _item(self, i: int):
        start, stop = self.span(i)
        ctx = self.context
        ctx._index = i
        return Walker(self.data).walk(self.section.decl, start, stop, f"{self.section.name}[{i}]", ctx)[0]


def _safe_walk(walker: Walker, decl, start: int, end: int, path: str, ctx) -> None:
    try:
        walker.walk(decl, start, end, path, ctx)
    except FormatError as exc:
        walker.sink.leaves.append(Gap(exc.offset if exc.offset is not None else start, 0, exc.path or path,
                                      "error", exc.message))


@dataclass(frozen=True)
class Gap:
    """Bytes that no field explains: between sections (`gap`), a torn tail (`tail`), past a field
    that failed to parse (`error`)."""

    offset: int
    size: int
    path: str
    kind: str
    message: str = ""
    value: Any = None
    doc: str = ""

    @property
    def end(self) -> int:
        return self.offset + self.size


def _with_gaps(items: list, lo: int, hi: int, parsed: Parsed) -> list:
    out: list = []
    pos = lo
    for item in items:
        if item.offset > pos and item.size:
            out.append(Gap(pos, item.offset - pos, "", "gap", "bytes no section declares"))
        out.append(item)
        pos = max(pos, item.end)
    if pos < hi:
        kind = "error" if parsed.error is not None and pos >= (parsed.error.offset or 0) else "gap"
        msg = f"parsing stopped: {parsed.error}" if kind == "error" else "bytes no section declares"
        out.append(Gap(pos, hi - pos, "", kind, msg))
    return out


MAX_VALUE_BYTES = 64   # longer byte values are shown by their first bytes


@dataclass
class Explanation:
    """What is at one byte offset."""

    offset: int
    leaf: Leaf | Gap | None
    sections: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        from .jsonify import to_jsonable
        leaf = self.leaf
        if leaf is None:
            return {"offset": self.offset, "kind": "past_end"}
        out = {"offset": self.offset, "kind": "field" if isinstance(leaf, Leaf) else leaf.kind,
               "path": leaf.path, "start": leaf.offset, "size": leaf.size, "sections": self.sections}
        if isinstance(leaf, Leaf):
            if leaf.size > MAX_VALUE_BYTES and isinstance(leaf.value, (bytes, bytearray, memoryview)):
                out["value"] = bytes(leaf.value[:MAX_VALUE_BYTES]).hex()
                out["value_truncated"] = True
            else:
                out["value"] = to_jsonable(leaf.value)
            out["doc"] = leaf.doc
        else:
            out["message"] = leaf.message
        return out


def explain(parsed: Parsed, offset: int) -> Explanation:
    """The innermost field at `offset` (or the gap, tail or failure that holds it)."""
    if not 0 <= offset < len(parsed.data):
        return Explanation(offset, None)
    items = [x for x in parsed.leaves(offset, offset + 1) if x.offset <= offset < x.end or
             (x.size == 0 and x.offset == offset)]
    sections = [p.section.name for p in parsed.placed.values() if p.start <= offset < p.end]
    # the field that holds the byte, not an empty field at the same offset
    best = min(items, key=lambda x: (isinstance(x, Gap), x.size == 0, x.size)) if items else None
    return Explanation(offset, best, sections)


def iter_hexdump(parsed: Parsed, lo: int = 0, hi: int | None = None) -> Iterator[Leaf | Gap]:
    """Fields and gaps of [lo, hi) in file order (the rows of `memschema hexdump`)."""
    yield from parsed.leaves(lo, hi)
