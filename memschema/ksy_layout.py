"""The root type of a generated `.ksy`: a `Layout`'s sections placed as Kaitai places things.

Sections follow each other in `seq` until one is placed by an offset (`at=`); from there on every
section is an instance with `pos:` (the offset expression, or where the previous section ends).
Records until the end of the file (`count=EOF`) of a fixed size repeat `(_io.size - pos) /
sizeof<record>` times, followed by a `<section>_tail` of the bytes no complete record holds (the
torn append memschema reports).  A section given a `size` and a repeat is a region type of its own.
A `View` is an instance of the table's record type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import construct as c

from .ksy_expr import Scope, Unsupported
from .ksy_names import kaitai_id, struct_of
from .layout import EOF, Section

if TYPE_CHECKING:  # pragma: no cover
    from .ksy import _Generator


def _fixed_size(decl) -> int | None:
    try:
        return decl.sizeof()
    except (c.SizeofError, KeyError, AttributeError, TypeError, ValueError):
        return None


def _element_size(gen: _Generator, decl) -> str | None:
    """Kaitai text of one record's size: `sizeof<type>` for a record type, else the number."""
    size = _fixed_size(decl)
    if size is None:
        return None
    struct = struct_of(decl)
    name = gen.ksy.type_names.get(id(struct)) if struct is not None else None
    return f"sizeof<{name}>" if name else str(size)


def _size_text(gen: _Generator, decl, scope: Scope) -> str | None:
    """Kaitai text of a declaration's size when the context decides it (`header.dimension * 4`)."""
    fixed = _element_size(gen, decl)
    if fixed is not None:
        return fixed
    inner = decl
    while isinstance(inner, c.Renamed):
        inner = inner.subcon
    if isinstance(inner, c.Array) and not isinstance(inner.count, int):
        sub = _size_text(gen, inner.subcon, scope)
        return None if sub is None else f"({gen.expr(inner.count, scope)} * {sub})"
    if isinstance(inner, c.Bytes):
        return str(gen.expr(inner.length, scope))
    return None


def _place(pos: str, align: int) -> str:
    return pos if align <= 1 else f"(({pos} + {align - 1}) / {align} * {align})"


class _Root:
    def __init__(self, gen: _Generator):
        self.gen = gen
        self.scope = Scope(enum_of=gen._enum_of)
        self.seq: list[dict] = []
        self.instances: dict[str, dict] = {}

    def expr(self, value, scope: Scope | None = None) -> str:
        text = self.gen.expr(value, scope or self.scope)
        return str(text)

    def build(self) -> dict:
        placed = False
        end: str | None = "0"            # where the previous section ends, as an expression
        for section in self.gen.layout.sections:
            first_at_zero = isinstance(section.at, int) and section.at == 0 and not self.seq
            if section.at is not None and not first_at_zero:
                placed = True
            if not placed:
                self._in_seq(section)
                end = None
            else:
                if section.at is not None:
                    pos = self.expr(section.at)
                elif end is not None:
                    pos = end
                else:
                    raise Unsupported(f"{section.name}: follows a section whose end Kaitai cannot compute")
                pos = _place(pos, section.align)
                end = self._instance(section, pos)
            kid = self.gen.ksy.section_ids[section.name]
            self.scope.fields[section.name] = (kid, section.decl)
        for view in self.gen.layout.views:
            self._view(view)
        from .ksy import _ordered
        out: dict = {"seq": [_ordered(e) for e in self.seq]}
        self.instances = {k: _ordered(v) for k, v in self.instances.items()}
        if self.instances:
            out["instances"] = self.instances
        return out

    # -- one section -------------------------------------------------------------------------
    def _entry(self, section: Section, scope: Scope) -> tuple[dict, list[dict], str | None]:
        """(entry, entries before it, element size text) of a section, placement left out."""
        gen = self.gen
        kid = gen.ksy.section_ids[section.name]
        where = f"{gen.ksy.id}.{kid}"
        if section.count is None:
            entries = gen.member(section.decl, kid, section.name, section.doc, scope, where)
            entry = entries.pop()
            if section.size is not None and "size" not in entry:
                entry.pop("size-eos", None)      # the section's own extent bounds a greedy declaration
                if section.size is EOF:
                    entry["size-eos"] = True
                else:
                    entry["size"] = self.expr(section.size, scope)
            return entry, entries, None
        decl = c.GreedyRange(section.decl) if section.count is EOF else c.Array(section.count, section.decl)
        before = gen.snapshot()
        try:
            entries = gen.member(decl, kid, section.name, section.doc, scope, where)
        except Unsupported as exc:
            if section.count is not EOF:
                raise
            # records until the end that Kaitai cannot tell apart: the rest of the file as bytes
            gen.kept_as_bytes(before, where, exc)
            return {"id": kid, "size-eos": True,
                    "doc": f"{section.doc} (kept as bytes: memschema parses these records; {exc})"}, [], None
        entry = entries.pop()
        return entry, entries, _size_text(gen, section.decl, scope)     # the record type exists now

    def _repeat_to_end(self, entry: dict, esize: str | None, start: str) -> None:
        """`count=EOF`: complete records until the end of the stream."""
        if "type" not in entry:      # kept as bytes: nothing to repeat
            return
        if esize is None:
            entry["repeat"] = "eos"
            entry.pop("repeat-expr", None)
            entry["doc"] += " (Kaitai stops at a record that runs past the end; memschema keeps it as a torn tail)"
            return
        entry["repeat"] = "expr"
        entry["repeat-expr"] = f"(_io.size - {start}) / {esize}"

    def _tail(self, section: Section, kid: str) -> dict:
        return {"id": f"{kid}_tail", "size-eos": True,
                "doc": f"bytes after the last complete record of {section.name} (a torn append; memschema reports it)"}

    def _in_seq(self, section: Section) -> None:
        kid = self.gen.ksy.section_ids[section.name]
        if section.align > 1:
            self.seq.append({"id": f"{kid}_align", "size": f"(-_io.pos) % {section.align}",
                             "doc": f"padding up to a multiple of {section.align} before {section.name}"})
        sized_repeat = section.count is not None and section.size is not None
        scope = Scope(self.scope.fields, None, "_root.", self.scope.enum_of) if sized_repeat else self.scope
        entry, before, esize = self._entry(section, scope)
        if sized_repeat:
            self.seq.append(self._region(section, entry, before, esize))
            return
        self.seq.extend(before)
        if section.count is EOF:
            self._repeat_to_end(entry, esize, "_io.pos")
            self.seq.append(entry)
            if esize is not None:
                self.seq.append(self._tail(section, kid))
            return
        self.seq.append(entry)

    def _region(self, section: Section, entry: dict, before: list[dict], esize: str | None) -> dict:
        """A repeated section with a size: a type of its own over exactly those bytes."""
        kid = self.gen.ksy.section_ids[section.name]
        self.gen.ksy.regions.add(section.name)
        name = self.gen._unique_type(f"{kid}_region")
        seq = [*before]
        if section.count is EOF:
            self._repeat_to_end(entry, esize, "_io.pos")
            seq += [entry] + ([self._tail(section, kid)] if esize is not None else [])
        else:
            seq.append(entry)
        self.gen.types[name] = {"doc": section.doc, "seq": seq}
        out = {"id": kid, "type": name}
        out["size-eos" if section.size is EOF else "size"] = True if section.size is EOF else \
            self.expr(section.size)
        out["doc"] = section.doc
        return out

    def _instance(self, section: Section, pos: str) -> str | None:
        """Place `section` at `pos`; returns where it ends (None when Kaitai cannot say)."""
        kid = self.gen.ksy.section_ids[section.name]
        if section.count is not None and section.size is not None:
            scope = Scope(self.scope.fields, None, "_root.", self.scope.enum_of)
            entry, before, esize = self._entry(section, scope)
            region = self._region(section, entry, before, esize)
            region.pop("id")
            self.instances[kid] = {"pos": pos, **region}
            return None if section.size is EOF else f"{pos} + {region['size']}"
        entry, before, esize = self._entry(section, self.scope)
        if before:
            raise Unsupported(f"{section.name}: a prefixed section placed by an offset")
        entry.pop("id")
        entry.pop("-orig-id", None)
        self.instances[kid] = {"pos": pos, **entry}
        if section.count is EOF:
            self._repeat_to_end(self.instances[kid], esize, f"({pos})")
            if esize is None:
                return None
            tail = self._tail(section, kid)
            tail.pop("id")
            self.instances[f"{kid}_tail"] = {"pos": f"{pos} + {kid}.size * {esize}", **tail}
            return None
        if section.size is not None and section.size is not EOF:
            return f"{pos} + {self.expr(section.size)}"
        if section.count is None:
            size = _fixed_size(section.decl)
            return None if size is None else f"{pos} + {size}"
        return None if esize is None else f"{pos} + {entry['repeat-expr']} * {esize}"

    # -- views ---------------------------------------------------------------------------------
    def _view(self, view) -> None:
        gen = self.gen
        struct = struct_of(gen.layout.section(view.table).decl)
        type_name = gen.ksy.type_names.get(id(struct)) if struct is not None else None
        if type_name is None:
            raise Unsupported(f"view {view.name}: the records of {view.table} are not a Struct type")
        ids = gen.ksy.names.of(struct)
        root = Scope(self.scope.fields, None, "_root.", self.scope.enum_of)
        kid = gen.ksy.section_ids[view.name]
        entries = gen.member(view.decl, kid, view.name, view.doc, root, f"{type_name}.{kid}")
        if len(entries) != 1:
            raise Unsupported(f"view {view.name}: a prefixed element")
        entry = entries[0]
        entry.pop("id")
        entry.pop("-orig-id", None)
        base = self.expr(view.base, root) if view.base is not None else "0"
        size = entry.pop("size", None)
        inst = {"io": "_root._io", "pos": f"{base} + {ids[view.offset]}", "size": ids[view.length]}
        if size is not None and str(size) != ids[view.length]:
            raise Unsupported(f"view {view.name}: its declaration has a size of its own")
        entry.pop("size-eos", None)
        doc = entry.pop("doc", view.doc)
        spec = gen.types[type_name]
        spec.setdefault("instances", {})[kaitai_id(view.name)] = {**inst, **entry, "doc": doc}


def root_type(gen: _Generator) -> dict:
    """`seq` and `instances` of the root type (views are added to their record types)."""
    return _Root(gen).build()
