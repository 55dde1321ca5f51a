"""`dump --json` and `inspect` of a seed file: every declared field, plus the stored content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...timestamps import stamp
from .seed import CONTENT_AREA

if TYPE_CHECKING:  # pragma: no cover
    from .seed_store import SeedDocument


def seed_json(doc: SeedDocument) -> dict:
    from .seed_store import wave_signature
    out = {"format": "mem8", "variant": "seed", **doc.sections_json("header")}
    blocks = doc.sections_json("blocks")["blocks"] if not doc._pending else _rows(doc)
    for i, b in enumerate(blocks):
        stored = doc.content(i)
        b["content_hex"] = stored.hex()
        b["content_truncated"] = int(doc.blocks.content_len[i]) > CONTENT_AREA
        b["signature_ok"] = None if b["content_truncated"] else \
            wave_signature(stored, doc.header.identity_freq) == doc.blocks.wave_signature[i].tobytes()
        padding = doc.blocks.content_area[i][len(stored):].tobytes()
        if padding.strip(b"\0"):
            b["padding_hex"] = padding.hex()
    out["blocks"] = blocks
    out["trailing_bytes"] = len(doc.trailing)
    out["trailing_hex"] = doc.trailing.hex()
    return out


def _rows(doc: SeedDocument) -> list[dict]:
    from ...jsonify import table_json
    from .seed import seed_block
    return table_json(seed_block, doc.blocks)


def seed_summary(doc: SeedDocument) -> list[str]:
    h, blocks = doc.header, doc.blocks
    n = len(blocks)
    lines = [f"MEM8 seed file: {n} blocks, header block_count {h.block_count}, version {h.version}, "
             f"identity_freq {h.identity_freq}"]
    if n:
        ts = blocks.timestamp
        lines.append(f"timestamps {stamp(int(ts.min()), 'us')} .. {stamp(int(ts.max()), 'us')}; content bytes stored "
                     f"{int(doc.stored_lengths().sum())}; truncated blocks "
                     f"{int((blocks.content_len > CONTENT_AREA).sum())}")
        for i in range(min(n, 5)):
            b = blocks[i]
            preview = doc.content(i)[:60].decode("utf-8", "replace").replace("\n", " ")
            lines.append(f"  [{i}] index {b.index} importance {b.importance} len {b.content_len}: {preview!r}")
        if n > 5:
            lines.append(f"  ... {n - 5} more")
    if doc.trailing:
        lines.append(f"torn trailing block: {len(doc.trailing)} bytes")
    return lines
