"""The generic entry points: detect, load, dump, save, validate, parse_as, convert."""

from __future__ import annotations

import os
from typing import Any

from . import registry
from .document import Document
from .errors import Finding, FormatError, Report, Severity, error
from .parsing import parse
from .registry import NOT_BINARY, Detection
from .sniff import sniff
from .source import Source, atomic_write, read_source


def _detect_data(data) -> Detection:
    if len(data) == 0:
        return sniff(data)
    for fmt in registry.formats():
        found = fmt.detect(data)
        if found is not None:
            return found
    for fmt in registry.formats():
        found = fmt.sniff(data)
        if found is not None:
            return found
    return sniff(data)


def detect(source: Source) -> Detection:
    """What the bytes are, e.g. `mem8/seed`, `amem/agentic-memory`, `not_binary/zlib_json`."""
    data, _ = read_source(source)
    return _detect_data(data)


def _forced(format: str) -> Detection:
    if not registry.is_registered(format):
        known = ", ".join(f.name for f in registry.formats())
        raise FormatError(f"unknown format {format!r}; known: {known}", "", None, "unknown_format")
    fmt = registry.get_format(format)
    variant = format.split("/", 1)[1] if "/" in format else None
    if variant is not None and fmt.variants and variant not in fmt.variants:
        raise FormatError(f"{fmt.name} has no variant {variant!r}; known: {', '.join(fmt.variants)}",
                          "", None, "unknown_format")
    return Detection(fmt.name, variant, "selected explicitly")


def load(source: Source, format: str | None = None, strict: bool = False) -> Document:
    """Decode a memory file.  `format` ("mem8", "amem/spec-v1", ...) skips detection.

    Raises `FormatError` when the bytes do not decode, and, with `strict=True`, also when
    validation finds an error under the strict policy."""
    data, name = read_source(source)
    doc = _load(data, name, _forced(format) if format else _detect_data(data))
    if strict:
        for finding in doc.check(strict=True):
            if finding.is_error:
                raise FormatError(finding.message, finding.path, finding.offset, finding.code)
    return doc


def _load(data, name: str, detection: Detection) -> Document:
    if not detection.is_memory_file:
        raise FormatError(f"not a binary memory file: looks like {detection.variant or 'nothing known'}"
                          f" ({detection.description})", "", 0, "not_memory_file")
    if not registry.is_registered(detection.format):
        raise FormatError(f"recognised as {detection.id} ({detection.description}), a layout memschema "
                          "names but does not decode", "", 0, "not_decoded")
    fmt = registry.get_format(detection.format)
    if detection.variant is None and fmt.variants:
        found = fmt.detect(data)
        if found is not None and found.format == detection.format:
            detection = found
    return fmt.load(data, detection, name=name)


def dump(doc: Document) -> bytes:
    """The bytes of `doc` (an untouched document gives back exactly the bytes it was loaded from)."""
    return doc.build()


def save(doc: Document, path: str | os.PathLike) -> None:
    """Write `doc` atomically: temporary file in the same directory, fsync, rename."""
    atomic_write(path, doc.build())


def validate(source: Source | Document, strict: bool = False, format: str | None = None) -> Report:
    """Every finding in `source` (a file, bytes, or an already loaded `Document`), with severity,
    stable code, field path and byte offset."""
    if isinstance(source, Document):
        report = Report(source.source or "<document>", source.format, source.variant)
        report.findings.extend(source.check(strict=strict))
        _sort(report)
        return report
    data, name = read_source(source)
    detection = _forced(format) if format else _detect_data(data)
    report = Report(name, detection.format, detection.variant)
    if not detection.is_memory_file:
        report.findings.append(error("not_memory_file",
                                     f"not a binary memory file: {detection.description}", "", 0))
        return report
    try:
        doc = _load(data, name, detection)
    except FormatError as exc:
        report.findings.append(Finding.from_error(exc))
        return report
    report.variant = doc.variant
    report.findings.extend(doc.check(strict=strict))
    _sort(report)
    return report


def _sort(report: Report) -> None:
    report.findings.sort(key=lambda f: (f.offset if f.offset is not None else -1, f.severity is not Severity.ERROR))


def parse_as(decl_name: str, source: Source) -> dict:
    """Parse the bytes as one registered declaration (`FORMAT.DECL`, see `memschema schemas`)."""
    decls = registry.declarations()
    if decl_name not in decls:
        raise KeyError(f"no declaration {decl_name!r}; see `memschema schemas`")
    data, _ = read_source(source)
    fmt_name, short = decl_name.split(".", 1)
    value = parse(decls[decl_name], data, 0, short)
    out: dict[str, Any] = {"format": fmt_name, "kind": short}
    out.update(registry.get_format(fmt_name).dump_as(short, value, data))
    return out


def convert(source: Source, target: str | None = None, **options: Any) -> tuple[bytes, list[Finding], str]:
    """Convert `source` to another format/layout; returns (bytes, findings about what was not
    carried over, target id)."""
    data, _ = read_source(source)
    detection = _detect_data(data)
    choices = [c for c in registry.converters() if c.accepts(detection)]
    if target:
        choices = [c for c in choices if c.target == target or c.target.split("/")[0] == target]
    if not choices:
        kind = "not a binary memory file" if detection.format == NOT_BINARY else detection.id
        raise FormatError(f"no conversion from {kind} ({detection.id})"
                          + (f" to {target}" if target else ""), "", 0, "no_converter")
    conv = choices[0]
    out, findings = conv.func(data, detection, **options)
    return out, findings, conv.target
