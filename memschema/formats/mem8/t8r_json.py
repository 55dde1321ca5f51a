"""`dump --json` and `inspect` of a T8R journal: the declared header and frames, then the decoded
records, the live view and the torn tail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...jsonify import Hex, Stream, declared
from .t8r import t8r_file_header, t8r_frame

if TYPE_CHECKING:  # pragma: no cover
    from .t8r_store import T8RDocument


def t8r_json(doc: T8RDocument, stream: bool = False) -> dict:
    """`stream`: values hex-encoded a slice at a time while written."""
    live = doc.live()
    return {"format": "t8r", "header": declared(t8r_file_header, doc.header),
            "frames": [declared(t8r_frame, value) for value in doc.frame_values],
            "records": Stream(f.json_item() for f in doc.frames) if stream else [f.to_json() for f in doc.frames],
            "live": Stream(((k, Hex(v)) for k, v in live.items()), pairs=True) if stream else
            {k: v.hex() for k, v in live.items()},
            "torn_tail": None if doc.torn_tail is None else doc.torn_tail.to_json()}


def t8r_summary(doc: T8RDocument) -> list[str]:
    lines = [f"T8R journal: {len(doc.frames)} frames, {len(doc.live())} live keys"]
    lines += [f"  @{f.offset} {f.key!r}{' (tombstone)' if f.tombstoned else ''}" for f in doc.frames[:5]]
    if doc.torn_tail:
        t = doc.torn_tail
        lines.append(f"torn tail: {t.length} bytes at {t.offset} ({t.reason})")
    return lines
