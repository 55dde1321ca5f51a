"""The JSON every `memschema ... --json` prints: one envelope, one key name per thing.

Rules (documented in docs/cli.md, "JSON output"):

- every top-level object carries `"memschema_output": OUTPUT_VERSION` (raised when a key changes
  meaning or disappears; new keys may appear at any time: consumers read what they know);
- a file's kind is always `format` + `variant` (the detected layout/dialect: `seed`, `runtime`,
  `agentic-memory`, ...; null when the format has only one);  a format's own legacy key for the same
  thing (`dialect` in RVF, `layout` in AMEM) is kept beside it because the corpus expects it;
- byte strings are lowercase hex strings; integers are JSON integers (exact, also above 2^53);
  what a field *is* follows its declaration: a magic declared as `Bytes(4)` is hex, one declared as
  a u32 is an integer; enum members are their names, unknown enum values their integers;
- a finding is always `Finding.to_json()`: severity, code, message, path, offset.
"""

from __future__ import annotations

from typing import Any

from .document import Document
from .errors import Finding, Report, Severity
from .registry import UNKNOWN, Detection

OUTPUT_VERSION = 1


def envelope(**fields: Any) -> dict:
    """A top-level JSON object: the output version first, then `fields`."""
    return {"memschema_output": OUTPUT_VERSION, **fields}


def document_json(doc: Document, stream: bool = False) -> dict:
    """`dump --json`: the common keys `format` and `variant`, then every key of `doc.to_json()`
    (`stream`: of `doc.json_stream()`, whose records are produced while `jsonify.write_json` writes)."""
    fields = doc.json_stream() if stream else doc.to_json()
    return {**envelope(format=doc.format, variant=doc.variant),
            **{k: v for k, v in fields.items() if k not in ("format", "variant")}}


def detection_json(source: str, detection: Detection) -> dict:
    """One line of `detect --json`."""
    return {"source": source, "format": detection.format, "variant": detection.variant, "id": detection.id,
            "description": detection.description, "memory_file": detection.is_memory_file}


def unreadable_report(source: str, reason: str) -> Report:
    """A file that could not be read at all, as a report with one error finding (code `unreadable`)."""
    return Report(source, UNKNOWN, None, [Finding(Severity.ERROR, "unreadable", reason)])

