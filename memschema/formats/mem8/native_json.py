"""`dump --json` and `inspect` of a native pair file: every declared field of every pair (from the
pair table, by declaration), the block seals and decoded waves, then the records or payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...jsonify import Hex, Stream, table_json
from .native import native_pair
from .native_writer import Wave

if TYPE_CHECKING:  # pragma: no cover
    from .native_store import NativeDocument


def native_json(doc: NativeDocument, stream: bool = False) -> dict:
    """`stream`: records decoded one at a time while written, values hex-encoded a slice at a time."""
    pairs = table_json(native_pair, doc.pairs) if doc.table.count else []
    crc_ok = doc.block_crc_ok
    placed = doc.parsed.placed["pairs"]
    for k, pair in enumerate(pairs):
        pair["index"], pair["offset"] = k, placed.record_span(k)[0]
        for lane, name in enumerate(("mem8", "raw8")):
            pair[name]["crc_ok"] = bool(crc_ok[k, lane])
        pair["mem8"]["wave"] = Wave.decode(pair["mem8"])
    out = {"format": "mem8", "variant": "native", "application": doc.application, "pair_count": len(pairs),
           "pairs": pairs}
    if doc.application == "st8":
        if stream:
            out["records"] = Stream(r.json_item() for r in doc.iter_records())
            out["live"] = Stream(((k, Hex(v)) for k, v in doc.live().items()), pairs=True)
        else:
            out["records"] = [r.to_json() for r in doc.records]
            out["live"] = {k: v.hex() for k, v in doc.live().items()}
    else:
        out["payloads"] = [p.to_json() for p in doc.payloads]
    out["torn_tail"] = None if doc.torn_tail is None else doc.torn_tail.to_json()
    return out


def native_summary(doc: NativeDocument) -> list[str]:
    lines = [f"MEM8 native pairs: {doc.table.count} pairs, application {doc.application}, "
             f"{int((~doc.block_crc_ok).sum())} bad block seals"]
    if doc.application == "st8":
        records = doc.records
        lines.append(f"{len(records)} records, {len(doc.live())} live keys, "
                     f"{sum(r.tombstoned for r in records)} tombstones")
        for r in records[:5]:
            lines.append(f"  @{r.offset} {r.key!r} {len(r.value or b'')} value bytes"
                         f"{' (tombstone)' if r.tombstoned else ''}")
    else:
        for p in doc.payloads[:5]:
            lines.append(f"  @{p.offset} location {p.location}: {len(p.data)} bytes in {p.pairs} pairs")
    if doc.torn_tail:
        t = doc.torn_tail
        lines.append(f"torn tail: {t.length} bytes at {t.offset} ({t.reason})")
    return lines
