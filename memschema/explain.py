"""`explain` and `hexdump`: what each byte of a file is, from the format's whole-file layout.

A file that loads is explained through its document (with the findings `validate` reports at each
field); a file that does not is parsed by its layout as far as it goes, and the place and reason
where parsing stopped are part of the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import registry
from .errors import Finding, FormatError
from .layout import Explanation, Gap, Parsed
from .layout import explain as explain_offset
from .source import Source, read_source
from .walker import Leaf

CHUNK = 1 << 16   # hexdump walks the file in windows of this many bytes


@dataclass
class Explained:
    """A file ready to be explained: its parsed layout and its findings."""

    name: str
    detection: registry.Detection
    parsed: Parsed
    findings: list[Finding] = field(default_factory=list)

    @property
    def stopped(self) -> FormatError | None:
        return self.parsed.error

    def findings_in(self, start: int, end: int) -> list[Finding]:
        return [f for f in self.findings if f.offset is not None and (start <= f.offset < end or f.offset == start)]


def open_explained(source: Source, format: str | None = None, *, checks: bool = True) -> Explained:
    """Parse `source` by its layout; a document that loads also contributes its findings."""
    from . import api
    data, name = read_source(source)
    detection = api._forced(format) if format else api._detect_data(data)
    if not detection.is_memory_file:
        raise FormatError(f"not a binary memory file: {detection.description}", "", 0, "not_memory_file")
    fmt = registry.get_format(detection.format)
    try:
        doc = api._load(data, name, detection)
    except FormatError as exc:
        doc, load_error = None, exc
    else:
        load_error = None
    if doc is not None and doc.parsed is not None:
        findings = doc.check() if checks else []
        return Explained(name, doc.detection, doc.parsed, list(findings))
    layout = fmt.layout_for(doc.detection.variant if doc is not None else detection.variant)
    if layout is None:
        raise FormatError(f"{detection.id} declares no whole-file layout", "", 0, "no_layout")
    parsed = layout.parse(data, partial=True)
    findings = [Finding.from_error(load_error)] if load_error is not None else []
    if parsed.error is not None and load_error is None:
        findings.append(Finding.from_error(parsed.error))
    return Explained(name, doc.detection if doc is not None else detection, parsed, findings)


def explain(source: Source, offsets: list[int], format: str | None = None) -> list[dict]:
    """For each offset: the innermost field (path, span, bytes, value, doc) and the findings there."""
    return explain_opened(open_explained(source, format), offsets)


def explain_opened(ex: Explained, offsets: list[int]) -> list[dict]:
    return [_explanation_json(ex, explain_offset(ex.parsed, offset)) for offset in offsets]


def _explanation_json(ex: Explained, answer: Explanation) -> dict:
    data = ex.parsed.data
    out = answer.to_json()
    leaf = answer.leaf
    if leaf is not None:
        out["hex"] = bytes(data[leaf.offset:leaf.offset + min(leaf.size, 64)]).hex()
        out["findings"] = [f.to_json() for f in ex.findings_in(leaf.offset, max(leaf.end, leaf.offset + 1))]
    if ex.stopped is not None:
        out["parsing_stopped"] = {"path": ex.stopped.path, "offset": ex.stopped.offset,
                                  "message": ex.stopped.message}
    return out


def rows(ex: Explained, start: int = 0, length: int | None = None) -> Iterator[Leaf | Gap]:
    """Fields and gaps of [start, start + length) in file order, walked window by window."""
    size = len(ex.parsed.data)
    stop = size if length is None else min(size, start + length)
    covered = start
    lo = start
    first = True
    while lo < stop:
        hi = min(stop, lo + CHUNK)
        for item in ex.parsed.leaves(lo, hi):
            if not first and item.offset < lo:
                continue
            if isinstance(item, Gap) and item.kind == "gap":
                if item.end <= covered:
                    continue
                if item.offset < covered:
                    item = Gap(covered, item.end - covered, item.path, item.kind, item.message)
            yield item
            covered = max(covered, item.end)
        first = False
        lo = hi


def row_json(ex: Explained, item: Leaf | Gap) -> dict[str, Any]:
    from .jsonify import to_jsonable
    data = ex.parsed.data
    out: dict[str, Any] = {"offset": item.offset, "size": item.size, "path": item.path,
                           "kind": "field" if isinstance(item, Leaf) else item.kind,
                           "hex": bytes(data[item.offset:item.offset + min(item.size, 64)]).hex()}
    if isinstance(item, Leaf):
        out["value"] = to_jsonable(item.value) if item.size <= 256 else None
    else:
        out["message"] = item.message
    out["findings"] = [f.to_json() for f in ex.findings_in(item.offset, max(item.end, item.offset + 1))]
    return out


def _value_text(item: Leaf) -> str:
    from .jsonify import to_jsonable
    if item.size > 64:
        return f"({item.size} bytes)"
    try:
        value = to_jsonable(item.value)
    except TypeError:
        value = repr(item.value)
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def row_text(ex: Explained, item: Leaf | Gap) -> str:
    data = ex.parsed.data
    shown = bytes(data[item.offset:item.offset + min(item.size, 16)]).hex(" ")
    if item.size > 16:
        shown += " …"
    if isinstance(item, Leaf):
        what = f"{item.path} = {_value_text(item)}"
    else:
        what = f"[{item.kind}] {item.path + ': ' if item.path else ''}{item.message} ({item.size} bytes)"
    line = f"{item.offset:08x}  {shown:<50} {what}"
    for f in ex.findings_in(item.offset, max(item.end, item.offset + 1)):
        line += f"\n{'':10}^ {f.severity.value} {f.code}: {f.message}"
    return line
