"""Validation of m8-tool files: every rule is an error (a `total_size` that is not the file's
length, a CRC seal that fails, a section placed outside the file or over another one: the file
cannot be read as written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import Finding, Findings, error

if TYPE_CHECKING:  # pragma: no cover
    from .m8tool_store import M8ToolDocument

T = "m8tool."


def check_m8tool(doc: M8ToolDocument) -> list[Finding]:
    out = Findings()
    parsed = doc.parsed
    at = parsed.offset_of
    h, size = doc.header, len(parsed.data)
    if h.total_size != size:
        out.add(error(T + "total_size", f"total_size {h.total_size}, the file is {size} bytes", "header.total_size",
                      at("header.total_size")))
    if not doc.crc_ok():
        out.add(error(T + "crc_mismatch", "CRC-32 of the file (crc32 zeroed) does not match crc32", "header.crc32",
                      at("header.crc32")))
    if not len(doc.entries):
        return out.close()
    starts, lengths = parsed.view_spans("section_data")
    body = parsed.placed["body"].start
    outside = (starts < body) | (starts + lengths > h.total_size)
    for i in np.flatnonzero(outside).tolist():
        e = doc.entries[i]
        out.add(error(T + "section_extent", f"section {bytes(e.id)!r} at {int(e.offset)} (+{int(e.size)}) is not "
                      f"within {body} .. total_size {h.total_size}", f"entries[{i}]", at(f"entries[{i}]")))
    order = np.argsort(starts, kind="stable")
    for a, b in zip(order[:-1].tolist(), order[1:].tolist()):
        if starts[b] < starts[a] + lengths[a]:
            out.add(error(T + "section_overlap", f"section {b} starts at {int(starts[b])}, inside section {a} "
                          f"({int(starts[a])} .. {int(starts[a] + lengths[a])})", f"entries[{b}].offset",
                          at(f"entries[{b}].offset")))
    return out.close()
