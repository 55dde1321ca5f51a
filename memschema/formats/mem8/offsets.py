"""Offsets of fields inside fixed-size declarations, computed from the declarations themselves
(`parsing.locate` on an all-zero instance), so no module writes a byte offset by hand."""

from __future__ import annotations

from functools import cache

from construct import Construct, SizeofError

from ...parsing import locate


@cache
def _template(decl: Construct):
    try:
        size = decl.sizeof()
    except SizeofError:   # variable size: zero lengths and counts make the smallest instance
        size = 4096
    return decl.parse(bytes(size))


def fixed_offset(decl: Construct, path: str) -> int:
    """Offset of `path` (e.g. `raw8.payload`) from the start of `decl`; the fields before `path`
    must have a fixed size (variable-size fields before it count as empty)."""
    return locate(decl, _template(decl), path)
