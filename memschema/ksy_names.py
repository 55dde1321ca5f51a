"""Kaitai Struct ids for memschema's field names, following the `.ksy` style guide.

A field used as the size of another is `len_<other>`, as its repeat count `num_<other>`, as its
position `ofs_<other>` (the compiler's style check warns on the first two otherwise); a magic
(`Const` bytes) is `magic`, padding is `reserved`.  The same rules apply to header fields that a
`Layout` places, counts or sizes its sections by, and to the record fields a `View` places its
elements by.  memschema's own name stays in the `.ksy` as `-orig-id`.
"""

from __future__ import annotations

import re
from typing import Any

import construct as c

from .layout import EOF, Layout
from .walker import this_path

_PADDING = re.compile(r"^_*(padding|pad|reserved|unused)(?=_|\d|$)")


def kaitai_id(name: str) -> str:
    """A valid Kaitai identifier (`[a-z][a-z0-9_]*`) for any name."""
    text = re.sub(r"[^a-z0-9_]+", "_", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()).strip("_")
    return text if re.match(r"[a-z]", text) else f"f_{text or 'field'}"


def strip(decl):
    """The construct that decides a field's Kaitai shape (renames, defaults, rebuilds unwrapped)."""
    while isinstance(decl, (c.Renamed, c.Default, c.Rebuild, c.Hex, c.HexDump)):
        decl = decl.subcon
    return decl


def struct_of(decl):
    inner = strip(decl)
    while not isinstance(inner, c.Struct) and isinstance(inner, (c.Adapter, c.Subconstruct)) \
            and not isinstance(inner, (c.Array, c.GreedyRange, c.Prefixed)):
        inner = strip(inner.subcon)
    return inner if isinstance(inner, c.Struct) else None


def _single_ref(expr) -> str | None:
    names = this_path(expr) if callable(expr) else None
    return names[0] if names and len(names) == 1 else None


class Names:
    """Kaitai ids of every Struct's fields (by Struct identity), decided before anything is emitted."""

    def __init__(self):
        self.ids: dict[int, dict[str, str]] = {}
        self._structs: dict[int, Any] = {}

    def of(self, struct) -> dict[str, str]:
        key = id(struct)
        if key not in self.ids:
            self._structs[key] = struct
            self.ids[key] = self._base(struct)
            self._usage(struct)
        return self.ids[key]

    def rename(self, struct, name: str, wanted: str) -> None:
        ids = self.of(struct)
        if name not in ids or ids[name] != self._base(struct).get(name):
            return                     # unknown, or already given a usage name
        if wanted not in ids.values():
            ids[name] = wanted

    def _base(self, struct) -> dict[str, str]:
        out: dict[str, str] = {}
        consts = [sc.name for sc in struct.subcons
                  if sc.name and isinstance(strip(sc.subcon), c.Const) and isinstance(strip(sc.subcon).value, bytes)]
        for sc in struct.subcons:
            if not sc.name:
                continue
            kid = kaitai_id(_PADDING.sub("reserved", sc.name))
            if sc.name in consts and len(consts) == 1:
                kid = "magic"
            base, n = kid, 2
            while kid in out.values():
                kid, n = f"{base}_{n}", n + 1
            out[sc.name] = kid
        return out

    def _usage(self, struct) -> None:
        """Sizes and counts given by a sibling field: `Bytes(this.n)` -> n is `len_<field>`."""
        ids = self.ids[id(struct)]
        for sc in struct.subcons:
            if not sc.name:
                continue
            inner = strip(sc.subcon)
            while isinstance(inner, (c.Enum, c.FlagsEnum)):
                inner = strip(inner.subcon)
            if isinstance(inner, (c.Bytes, c.FixedSized, c.Padded)):
                ref, prefix = _single_ref(inner.length), "len_"
            elif isinstance(inner, c.Array):
                ref, prefix = _single_ref(inner.count), "num_"
            else:
                continue
            if ref in ids and ref != sc.name:
                self.rename(struct, ref, prefix + ids[sc.name])

    def apply_layout(self, layout: Layout, section_ids: dict[str, str]) -> None:
        """Header fields that place, count or size sections; record fields that place view elements."""
        by_name = {s.name: s for s in layout.sections}
        for section in layout.sections:
            for expr, prefix in ((section.at, "ofs_"), (section.count, "num_"), (section.size, "len_")):
                names = this_path(expr) if expr is not None and expr is not EOF and callable(expr) else None
                if names and len(names) == 2 and names[0] in by_name:
                    struct = struct_of(by_name[names[0]].decl)
                    if struct is not None:
                        self.rename(struct, names[1], prefix + section_ids[section.name])
        for view in layout.views:
            struct = struct_of(by_name[view.table].decl)
            if struct is not None:
                self.rename(struct, view.offset, "ofs_" + kaitai_id(view.name))
                self.rename(struct, view.length, "len_" + kaitai_id(view.name))
