"""Validation of M8MEM files (MEM8.md Part 3) under the project's severity policy: a magic or
version upstream rejects and a checksum that does not match are errors; a missing checksum byte
(the memories all decode; upstream never reads it), bytes after it, invalid UTF-8 (decoded
lossily, as upstream does) and a frequency that does not follow its formula are warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import Finding, Findings, error, warning
from ...walker import Leaf
from .m8mem import MAGIC, VERSION
from .m8mem_store import TEXT_FIELDS, P, context_frequency, xor_checksum

if TYPE_CHECKING:  # pragma: no cover
    from .m8mem_store import M8MemDocument


def check_m8mem(doc: M8MemDocument) -> list[Finding]:
    out = Findings()
    parsed = doc.layout_now()
    at = parsed.offset_of
    h = doc.header
    if bytes(h.magic) != MAGIC:
        out.add(error(P + "bad_magic", f"magic {bytes(h.magic)!r}, expected {MAGIC!r}", "header.magic", 0))
    if h.version != VERSION:
        out.add(error(P + "version", f"version {h.version}: upstream rejects anything but 1", "header.version",
                      at("header.version")))
    end = parsed.placed["trailer"].start
    if doc.fields.checksum is None:
        out.add(warning(P + "checksum_missing", "the file ends without the checksum byte (the memories all "
                        "decode; upstream never reads it)", "trailer.checksum", end))
    elif not doc.checksum_ok():
        body = doc.body()
        out.add(error(P + "checksum_mismatch", f"checksum {doc.fields.checksum:#04x}, the XOR of the preceding "
                      f"bytes is {xor_checksum(body, len(body)):#04x}", "trailer.checksum", end))
    if doc.fields.trailing:
        out.add(warning(P + "trailing_bytes", f"{len(doc.fields.trailing)} bytes after the checksum (upstream "
                        "ignores them)", "trailing", parsed.placed["trailing"].start))
    starts = None
    for i, m in enumerate(doc.memories):
        texts = [(f"memories[{i}].{name}", bytes(m[name])) for name in TEXT_FIELDS]
        texts += [(f"memories[{i}].keywords[{j}]", bytes(k)) for j, k in enumerate(m.keywords)]
        for path, raw in texts:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                starts = starts if starts is not None else _field_starts(parsed)
                out.add(warning(P + "invalid_utf8", f"not UTF-8 ({exc.reason}); decoded lossily", path,
                                starts.get(path)))
        if m.frequency != context_frequency(bytes(m.context)):
            out.add(warning(P + "frequency", f"frequency {m.frequency} does not match 20 + (sum of the context "
                            f"bytes mod 200) = {context_frequency(bytes(m.context))}", f"memories[{i}].frequency",
                            at(f"memories[{i}].frequency")))
    return out.close()


def _field_starts(parsed) -> dict[str, int]:
    """Where each field starts, from the walk of the layout (a length-prefixed string starts at its
    length prefix)."""
    starts: dict[str, int] = {}
    for leaf in parsed.leaves():
        if isinstance(leaf, Leaf):
            path = leaf.path[:-len(".length")] if leaf.path.endswith(".length") else leaf.path
            starts[path] = min(starts.get(path, leaf.offset), leaf.offset)
    return starts
