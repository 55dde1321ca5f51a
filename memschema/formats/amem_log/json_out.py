"""`dump --json` and `inspect` of the V3 logs: every declared field of every record, plus each
record's Block decoded (hash as hex, whether it verifies, whether upstream indexes it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...jsonify import declared
from .block_json import BlockJson

if TYPE_CHECKING:  # pragma: no cover
    from .document import BlockLogDocument


def _decoded(doc: BlockLogDocument, i: int) -> dict:
    read = doc.reads[i]
    if not isinstance(read, BlockJson):
        return {"readable": False, "reason": str(read)}
    v = read.value
    return {"readable": True, "hash": bytes(v["hash"]).hex(), "prev_hash": bytes(v["prev_hash"]).hex(),
            "sequence": v["sequence"], "timestamp": v["timestamp"], "block_type": v["block_type"],
            "content": v["content"], "size_bytes": v["size_bytes"],
            "hash_ok": read.computed_hash() == bytes(v["hash"])}


def log_json(doc: BlockLogDocument) -> dict:
    section = doc.section
    decl = doc.layout.section(section).decl
    rows = []
    parsed = len(doc.parsed[section])
    for i, record in enumerate(doc.records):
        row = declared(decl, record)
        if i < parsed:
            row["decoded"] = _decoded(doc, i)
        rows.append(row)
    out = {"format": doc.format, "variant": doc.variant, section: rows}
    if section == "records":
        chain = doc.chain
        out["chain"] = {"scanned": chain.scanned, "indexed": len(chain.indexed), "block_count": chain.block_count,
                        "last_hash": chain.last_hash.hex(), "write_pos": chain.write_pos}
    else:
        out["recovered"] = len(doc.recovered())
    placed = doc.parsed.placed[section]
    out["tails"] = {} if placed.tail is None else {section: {"offset": placed.tail.offset, "length": placed.tail.length,
                                                             "reason": placed.tail.error.message}}
    return out


def log_summary(doc: BlockLogDocument) -> list[str]:
    n = len(doc.parsed[doc.section])
    if doc.section == "records":
        chain = doc.chain
        lines = [f"AgenticMemory V3 immortal log: {n} records, {len(chain.indexed)} blocks indexed by upstream, "
                 f"next sequence {chain.block_count}"]
    else:
        lines = [f"AgenticMemory V3 write-ahead log: {n} entries, {len(doc.recovered())} recoverable"]
    for i in range(min(n, 5)):
        v = doc.block(i)
        lines.append(f"  [{i}] " + ("unreadable" if v is None else
                                    f"seq {v['sequence']} {v['block_type']} {v['timestamp']} "
                                    f"({v['content']['type']}, {v['size_bytes']} bytes)"))
    if n > 5:
        lines.append(f"  ... {n - 5} more")
    if doc.unread_bytes:
        lines.append(f"{doc.unread_bytes} bytes after the last record upstream reads")
    return lines
