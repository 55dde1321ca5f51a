"""The generic entry points: detect, load, dump, save, validate, parse_as, convert, repair."""

from __future__ import annotations

import functools
import inspect
import os
from typing import Any

from . import budget as budgets
from . import registry
from .budget import Budget
from .document import Document
from .errors import Finding, FormatError, Report, Severity, error
from .locking import hold
from .parsing import parse
from .publish import FileStamp, advance_mtime, create_new
from .registry import NOT_BINARY, UNKNOWN, Detection
from .repairing import RepairResult
from .sniff import sniff
from .source import FileChanged, Source, atomic_write, changed, read_source


@functools.cache
def _takes_name(kind: type) -> bool:
    """Whether `kind.detect` accepts the file name (`detect(self, data, *, name="")`)."""
    try:
        param = inspect.signature(kind.detect).parameters.get("name")
    except (TypeError, ValueError):
        return False
    return param is not None and param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD)


def _ask(fmt: registry.Format, data, name: str) -> Detection | None:
    return fmt.detect(data, name=name) if _takes_name(type(fmt)) else fmt.detect(data)


def _file_name(source: Source) -> str:
    """The file name a source carries (a path, a file object's `name`); "" for bare bytes."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", "")
    return name if isinstance(name, str) else ""


def _detect_data(data, name: str = "") -> Detection:
    """Ask every format in priority order.  Formats whose `detect` takes `name` also get the file
    name (some side files, e.g. an empty lock file, are told apart by nothing else), and are the
    only ones asked about an empty file."""
    for fmt in registry.formats():
        if len(data) == 0 and not _takes_name(type(fmt)):
            continue
        found = _ask(fmt, data, name)
        if found is not None:
            return found
    for fmt in registry.formats():
        found = fmt.sniff(data)
        if found is not None:
            return found
    return sniff(data)


def detect(source: Source, budget: Budget | None = None) -> Detection:
    """What the bytes are, e.g. `mem8/seed`, `amem/agentic-memory`, `not_binary/zlib_json`."""
    with budgets.using(budget):
        try:
            data, _ = read_source(source)
        except FormatError as exc:     # a stream over its limit, a file that shrank while read
            return Detection(UNKNOWN, None, exc.message)
        return _detect_data(data, _file_name(source))


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


def load(source: Source, format: str | None = None, strict: bool = False, budget: Budget | None = None,
         **options: Any) -> Document:
    """Decode a memory file.  `format` ("mem8", "amem/spec-v1", ...) skips detection; `budget`
    bounds what its records may decode to (see `memschema.budget`); `options` go to the format's
    loader (its `load_options`, e.g. `parent=` for an RVF branch child).

    Raises `FormatError` when the bytes do not decode, and, with `strict=True`, also when
    validation finds an error under the strict policy."""
    origin = FileStamp.maybe(source) if isinstance(source, (str, os.PathLike)) else None   # before reading
    with budgets.using(budget):
        data, name = read_source(source)
        try:
            doc = _load(data, name, _forced(format) if format else _detect_data(data, _file_name(source)), options)
            if strict:
                for finding in doc.check(strict=True):
                    if finding.is_error:
                        raise FormatError(finding.message, finding.path, finding.offset, finding.code)
        except FormatError as exc:     # caused by a file that shrank under us? then say so
            _check_unchanged(data, name, exc)
            raise
        _check_unchanged(data, name)
    doc.origin = origin
    return doc


def _check_unchanged(data, name: str, cause: BaseException | None = None) -> None:
    """Raise `file_changed` if the mapped file behind `data` shrank while it was read."""
    exc = changed(data, name)
    if exc is not None:
        raise exc from cause


def _load(data, name: str, detection: Detection, options: dict | None = None) -> Document:
    with budgets.metering(budgets.current().meter(len(data))):
        return _load_metered(data, name, detection, options)


def _load_metered(data, name: str, detection: Detection, options: dict | None) -> Document:
    if not detection.is_memory_file:
        raise FormatError(f"not a binary memory file: looks like {detection.variant or 'nothing known'}"
                          f" ({detection.description})", "", 0, "not_memory_file")
    if not registry.is_registered(detection.format):
        raise FormatError(f"recognised as {detection.id} ({detection.description}), a layout memschema "
                          "names but does not decode", "", 0, "not_decoded")
    fmt = registry.get_format(detection.format)
    options = {k: v for k, v in (options or {}).items() if v is not None}
    unknown = sorted(set(options) - set(fmt.load_options))
    if unknown:
        raise TypeError(f"{fmt.name} takes no load option {', '.join(unknown)}"
                        + (f" (it takes {', '.join(fmt.load_options)})" if fmt.load_options else ""))
    if detection.variant is None and fmt.variants:
        found = _ask(fmt, data, name)
        if found is not None and found.format == detection.format:
            detection = found
    return fmt.load(data, detection, name=name, **options)


def dump(doc: Document, budget: Budget | None = None) -> bytes:
    """The bytes of `doc` (an untouched document gives back exactly the bytes it was loaded from);
    `budget` replaces the document's decoding budget first."""
    if budget is not None:
        doc.meter = budget.meter(len(doc.data))
    out = doc.build()
    _check_unchanged(doc.data, doc.source)
    return out


def save(doc: Document, path: str | os.PathLike, *, timeout: float | None = None) -> None:
    """Write `doc` atomically (temporary file in the same directory, fsync, rename) while holding
    the writer lock its format declares (`LockHeld` if another writer holds it past `timeout`).

    A document loaded from `path` is written only if the file is still the one it was loaded
    from (`FileChanged` otherwise: another writer's changes would be lost).  The new file's mtime
    is later than the old one's."""
    lock = registry.get_format(doc.format).lock_for(doc.detection) if registry.is_registered(doc.format) else None
    origin = getattr(doc, "origin", None)
    with hold(lock, path, timeout):
        before = FileStamp.maybe(path)
        if origin is not None and origin.is_of(path) and before != origin:
            raise FileChanged(f"{os.fspath(path)} changed since it was loaded; load it again and reapply the change")
        atomic_write(path, doc.build())
        if before is not None:
            advance_mtime(path, before.mtime_ns)
        doc.origin = FileStamp.of(path)


def validate(source: Source | Document, strict: bool = False, format: str | None = None,
             budget: Budget | None = None, **options: Any) -> Report:
    """Every finding in `source` (a file, bytes, or an already loaded `Document`), with severity,
    stable code, field path and byte offset; `budget` bounds what its records may decode to
    (exceeding it is an error finding); `options` as for `load`."""
    if isinstance(source, Document):
        if budget is not None:
            source.meter = budget.meter(len(source.data))
        report = Report(source.source or "<document>", source.format, source.variant)
        report.findings.extend(source.check(strict=strict))
        _sort(report)
        return report
    with budgets.using(budget):
        return _validate(source, strict, format, options)


def _validate(source: Source, strict: bool, format: str | None, options: dict) -> Report:
    try:
        data, name = read_source(source)
    except FormatError as exc:         # a stream over its limit, a file that shrank while read
        where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "<stream>")
        report = Report(where, UNKNOWN)
        report.findings.append(Finding.from_error(exc))
        return report
    report = _validate_data(data, name, _file_name(source), strict, format, options)
    exc = changed(data, name)
    if exc is not None:                # the findings describe zeros, not the file: say so first
        report.findings.insert(0, Finding.from_error(exc))
    return report


def _validate_data(data, name: str, file_name: str, strict: bool, format: str | None, options: dict) -> Report:
    detection = _forced(format) if format else _detect_data(data, file_name)
    report = Report(name, detection.format, detection.variant)
    if not detection.is_memory_file:
        report.findings.append(error("not_memory_file",
                                     f"not a binary memory file: {detection.description}", "", 0))
        return report
    try:
        doc = _load(data, name, detection, options)
    except FormatError as exc:
        report.findings.append(Finding.from_error(exc))
        return report
    report.variant = doc.variant
    try:
        report.findings.extend(doc.check(strict=strict))
    except FormatError as exc:         # records parsed when checked read zeros where the file shrank
        if changed(data, name) is None:
            raise
        report.findings.append(Finding.from_error(exc))   # `_validate` puts file_changed before it
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
    detection = _detect_data(data, _file_name(source))
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


def repair(source: Source, format: str | None = None) -> RepairResult:
    """Salvage a damaged file (the format's `repair` hook): the repaired bytes, what was cut,
    dropped, emptied or rebuilt (offsets in the damaged file), and the validation of the result.
    `FormatError` when nothing can be salvaged or the format has no repair."""
    data, name = read_source(source)
    return _repair(data, name, format)


def _repair(data, name: str, format: str | None) -> RepairResult:
    detection = _forced(format) if format else _detect_data(data, "" if name.startswith("<") else name)
    if not detection.is_memory_file:
        raise FormatError(f"not a binary memory file: {detection.description}", "", 0, "not_memory_file")
    if not registry.is_registered(detection.format):
        raise FormatError(f"recognised as {detection.id}, a layout memschema does not decode", "", 0, "not_decoded")
    fmt = registry.get_format(detection.format)
    if detection.variant is None and fmt.variants:
        detection = fmt.detect(data) or detection
    result = fmt.repair(data, detection)
    if result is None:
        raise FormatError(f"no repair for this format ({detection.id})", "", None, "no_repair")
    result.detection = result.detection or detection
    result.report = validate(result.data, format=result.detection.id)
    result.report.source = name
    return result


BACKUP_SUFFIX = ".memschema-bak"


def repair_in_place(path: str | os.PathLike, format: str | None = None, *,
                    timeout: float | None = None) -> tuple[RepairResult, str | None]:
    """Repair the file at `path` in place while holding its format's writer lock: the original
    stays as `path.memschema-bak` (`.memschema-bak.N` when that exists), then the repaired bytes
    replace it atomically.  Returns the result and the backup's path (None: nothing to change)."""
    detection = _forced(format) if format else detect(path)
    fmt = registry.get_format(detection.format) if registry.is_registered(detection.format) else None
    with hold(None if fmt is None else fmt.lock_for(detection), path, timeout):
        before = FileStamp.of(path)
        data, name = read_source(path)
        result = _repair(data, name, format)
        if memoryview(data) == result.data:
            return result, None
        backup = _backup(path)
        atomic_write(path, result.data)
        advance_mtime(path, before.mtime_ns)
    return result, backup


def _backup(path: str | os.PathLike) -> str:
    """Keep the original file under a new name: a hard link to its inode (the repaired file is a
    new inode), or a copy where links are not supported; never replaces an existing backup."""
    for n in range(1000):
        backup = f"{os.fspath(path)}{BACKUP_SUFFIX}" + (f".{n}" if n else "")
        try:
            os.link(path, backup)
            return backup
        except FileExistsError:
            continue
        except OSError:
            data, _ = read_source(path)
            try:
                create_new(backup, bytes(data))
            except FileExistsError:
                continue
            return backup
    raise FileExistsError(f"{os.fspath(path)}: 1000 backups exist already")
