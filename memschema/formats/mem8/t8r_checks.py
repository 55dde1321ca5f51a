"""Validation of T8R journals (MEM8.md 2.8/2.9; lenient = strict): a file header other than
upstream's and every frame that does not decode are errors; a torn tail is a warning (the records
before it are intact, upstream's open cuts it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import Finding, Findings, error, warning
from .t8r import MAGIC, VERSION

if TYPE_CHECKING:  # pragma: no cover
    from .t8r_store import T8RDocument

P = "t8r."


def check_t8r(doc: T8RDocument) -> list[Finding]:
    out = Findings()
    h = doc.header
    if bytes(h.magic) != MAGIC or h.version != VERSION:
        out.add(error(P + "bad_magic", f"file header {bytes(h.magic).hex()} version {h.version}, expected "
                      "T8R\\0 version 1", "header", 0))
    out.extend_capped(doc.findings)
    out.extend_capped(p for p in doc.frames.problems() if p is not None and p not in doc.findings)
    torn = doc.torn_tail
    if torn is not None:
        out.add(warning(P + "torn_tail", f"torn tail: {torn.length} bytes at offset {torn.offset} ({torn.reason}); "
                        f"recoverable: {len(doc.frames)} complete frames in the first {torn.offset} bytes; "
                        f"upstream open() truncates the file to {torn.offset}", "tail", torn.offset))
    return out.close()
