"""`dump --json` and `inspect` of a `transport.wal`: every declared field, the messages as text, and
what upstream's readers recover."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ...jsonify import declared
from .declarations import mwal_entry

if TYPE_CHECKING:  # pragma: no cover
    from .document import AmemWalDocument


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def wal_json(doc: AmemWalDocument) -> dict:
    rec = doc.recovery
    out = {"format": "amem_wal", "variant": None, **doc.sections_json("header")}
    out["header"]["session_uuid"] = str(uuid.UUID(bytes=bytes(doc.header.session_id)))
    entries = []
    parsed = len(doc.parsed.entries)
    for i, e in enumerate(doc.entries):
        row = declared(mwal_entry, e)
        row["data_text"] = _text(bytes(e.data))
        row["accepted"] = i < rec.accepted or i >= parsed      # appended entries are whole by construction
        if i < parsed:
            row["crc_ok"] = bool(doc.crc_ok[i])
        entries.append(row)
    out["entries"] = entries
    stop = rec.stop
    out["recovery"] = {"entries": rec.accepted, "next_sequence": rec.next_sequence, "truncate_to": rec.truncate_to,
                       "unrecovered_bytes": doc.unrecovered_bytes,
                       "stop": None if stop is None else {"reason": stop.step, "path": stop.path, "offset": stop.offset,
                                                          "message": stop.message}}
    placed = doc.parsed.placed["entries"]
    out["tails"] = {} if placed.tail is None else {"entries": {"offset": placed.tail.offset,
                                                               "length": placed.tail.length,
                                                               "reason": placed.tail.error.message}}
    return out


def wal_summary(doc: AmemWalDocument) -> list[str]:
    h, rec = doc.header, doc.recovery
    table = doc.heads
    n = len(doc.parsed.entries)
    lines = [f"AgenticMemory transport capture (MWAL v{h.version}): session "
             f"{uuid.UUID(bytes=bytes(h.session_id))}, created {h.created_unix_secs}",
             f"{n} entries parsed, {rec.accepted} recovered by upstream's readers, next sequence "
             f"{rec.next_sequence}"]
    if n:
        inbound = int((table.direction == 0).sum())
        lines.append(f"inbound {inbound}, outbound {n - inbound}; data bytes {int(table.data_len.sum())}")
        for i, e in enumerate(doc.parsed.entries[:5]):
            preview = (_text(bytes(e.data)) or bytes(e.data).hex())[:60].replace("\n", " ")
            lines.append(f"  [{i}] seq {e.sequence} {e.direction} {e.data_len} bytes: {preview!r}")
        if n > 5:
            lines.append(f"  ... {n - 5} more")
    if rec.stop is not None:
        lines.append(f"scan stops at {rec.stop.offset} ({rec.stop.step}): {rec.stop.message}; the next server "
                     f"start keeps {rec.truncate_to} bytes")
    return lines
