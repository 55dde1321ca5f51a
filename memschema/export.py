"""Tables for data tools: `memschema export FILE|DIR... -o OUT [--to parquet|csv]`.

One table per kind across all inputs, each row carrying the `file` it came from:
- every section of every layout whose records are Structs (`<format>_<variant>_<section>`: the
  header one row per file, record tables one row per record with its `record` index and byte
  `offset`), columns and Arrow types derived from the declaration (no column lists kept by hand:
  integers and floats by width, enums as dictionary strings, bytes as binary, fixed arrays as lists);
- per-format derived tables from `Format.tables(doc)` (AMEM nodes/edges/vectors, RVF segments,
  vectors and witnesses, MEM8 native records), which replace a layout table of the same name;
- `files` (what each input is) and `findings` (every finding of `validate`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import construct as c
import numpy as np

from . import api, registry
from .errors import FormatError
from .ksy_names import kaitai_id, strip
from .source import atomic_write

FORMATS = ("parquet", "csv")
_ARROW_INTS = {"B": "uint8", "H": "uint16", "I": "uint32", "L": "uint32", "Q": "uint64", "b": "int8", "h": "int16",
               "i": "int32", "l": "int32", "q": "int64", "f": "float32", "d": "float64", "?": "bool_"}


@dataclass
class Records:
    """Records of one declaration (a numpy record table or a list of Containers), plus extra
    columns of the same length: what `Format.tables` returns for a table built from a Struct."""

    decl: c.Construct
    values: Any
    extra: Mapping[str, Any] = field(default_factory=dict)


def _pa():
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - depends on the install
        raise SystemExit("memschema export needs pyarrow: pip install 'memschema[export]'") from None
    return pyarrow


# -- columns from a declaration ----------------------------------------------------------------
def _leaves(decl, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, leaf declaration) of every field that becomes a column; nested Structs flattened."""
    inner = strip(decl)
    for sc in inner.subcons:
        if not sc.name or strip(sc.subcon) is c.Pass or isinstance(strip(sc.subcon), c.Computed):
            continue
        sub = strip(sc.subcon)
        if isinstance(sub, c.Struct):
            yield from _leaves(sub, (*prefix, sc.name))
        elif _arrow_type(sub) is not None:
            yield (*prefix, sc.name), sub


def _arrow_type(decl):
    pa = _pa()
    d = strip(decl)
    if isinstance(d, c.Const):
        return pa.binary() if isinstance(d.value, bytes) else _arrow_type(d.subcon)
    if isinstance(d, c.Enum):
        return pa.dictionary(pa.int32(), pa.string())
    if isinstance(d, (c.FlagsEnum, c.Adapter)) and not isinstance(d, c.Enum) and hasattr(d, "subcon") \
            and isinstance(strip(d.subcon), c.FormatField):
        return _arrow_type(d.subcon)
    if isinstance(d, c.FormatField) and d.fmtstr[1:] in _ARROW_INTS:
        return getattr(pa, _ARROW_INTS[d.fmtstr[1:]])()
    if isinstance(d, c.Bytes) or d is c.GreedyBytes or (isinstance(d, c.Prefixed) and strip(d.subcon) is c.GreedyBytes):
        return pa.binary()
    if isinstance(d, (c.Array, c.GreedyRange)):
        element = _arrow_type(d.subcon)
        return None if element is None or pa.types.is_dictionary(element) else pa.list_(element)
    return None


def _field(values, path: tuple[str, ...]):
    if isinstance(values, np.ndarray):
        for name in path:
            values = values[name]
        return values
    out = []
    for v in values:
        for name in path:
            v = v[name]
        out.append(v)
    return out


def _column(leaf, raw, n: int):
    pa = _pa()
    kind = _arrow_type(leaf)
    d = strip(leaf)
    if isinstance(d, c.Enum):
        names = {int(k): str(v) for k, v in d.decmapping.items()}
        ints = np.asarray([int(x) for x in raw], dtype=np.int64) if not isinstance(raw, np.ndarray) else raw
        uniq, inverse = np.unique(ints, return_inverse=True)
        dictionary = pa.array([names.get(int(u), str(int(u))) for u in uniq], pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(inverse.astype(np.int32)), dictionary)
    if isinstance(raw, np.ndarray):
        flat = np.ascontiguousarray(raw)
        if raw.ndim > 1 or pa.types.is_binary(kind):
            width = int(np.prod(raw.shape[1:])) if raw.ndim > 1 else 1
            flat = flat.reshape(n, width)
        if pa.types.is_binary(kind):          # fixed-size bytes straight from the table's buffer
            width = flat.shape[1]
            fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(flat.tobytes())])
            return fixed.cast(pa.binary())
        if pa.types.is_list(kind):
            offsets = (np.arange(n + 1, dtype=np.int64) * flat.shape[1]).astype(np.int32)
            return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat.ravel(), kind.value_type))
        return pa.array(np.ascontiguousarray(raw), kind)
    if pa.types.is_binary(kind):
        return pa.array([bytes(x) for x in raw], kind)
    if pa.types.is_list(kind):
        return pa.array([list(x) for x in raw], kind)
    return pa.array([x if isinstance(x, float) else int(x) for x in raw], kind)


def records_table(records: Records, file: str, start: int | None = None, itemsize: int | None = None,
                  offsets=None):
    """An Arrow table of `records`: `file`, `record`, `offset` (when known), the declaration's
    fields, then the extra columns."""
    pa = _pa()
    values = records.values
    n = len(values)
    cols: dict[str, Any] = {"file": pa.array([file] * n, pa.string()), "record": pa.array(np.arange(n), pa.int64())}
    if offsets is not None:
        cols["offset"] = pa.array(np.asarray(offsets, dtype=np.int64), pa.int64())
    elif start is not None and itemsize:
        cols["offset"] = pa.array(start + itemsize * np.arange(n, dtype=np.int64), pa.int64())
    for path, leaf in _leaves(records.decl):
        cols["_".join(path)] = _column(leaf, _field(values, path), n)
    for name, column in records.extra.items():
        cols[name] = column if isinstance(column, (pa.Array, pa.ChunkedArray)) else _plain(column)
    return pa.table(cols)


# -- per file ----------------------------------------------------------------------------------
def _layout_tables(doc, prefix: str, file: str) -> dict[str, Any]:
    parsed = getattr(doc, "parsed", None)
    out: dict[str, Any] = {}
    if parsed is None:
        return out
    for name, placed in parsed.placed.items():
        section = placed.section
        if not isinstance(strip(section.decl), c.Struct):
            continue
        if section.count is None:
            out[f"{prefix}_{kaitai_id(name)}"] = records_table(Records(section.decl, [placed.value]), file,
                                                               offsets=[placed.start])
        else:
            out[f"{prefix}_{kaitai_id(name)}"] = records_table(
                Records(section.decl, placed.value), file, placed.start, placed.itemsize, placed.offsets)
    return out


def file_tables(doc, file: str) -> dict[str, Any]:
    """Every table one loaded document contributes (layout sections, then the format's own)."""
    prefix = kaitai_id(doc.detection.id.replace("/", "_"))
    out = _layout_tables(doc, prefix, file)
    for name, table in registry.get_format(doc.detection.format).tables(doc).items():
        out[f"{prefix}_{kaitai_id(name)}"] = records_table(table, file) if isinstance(table, Records) else \
            _pa().table({"file": [file] * _length(table), **{k: _plain(v) for k, v in table.items()}})
    return out


def _length(columns: Mapping[str, Any]) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def _plain(values):
    """An Arrow array of Python values (u64 ids beyond int64 as uint64; bytes as binary)."""
    pa = _pa()
    try:
        return pa.array(values)
    except OverflowError:
        return pa.array(values, pa.uint64())


def inputs(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named, and every file under the folders named (sorted; expected-output JSON skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.endswith(".expected.json")))
        else:
            out.append(p)
    return out


def collect(paths: Iterable[str | os.PathLike], *, strict: bool = False) -> dict[str, Any]:
    """All tables of all inputs: name -> Arrow table (rows of every file, in input order)."""
    pa = _pa()
    parts: dict[str, list] = {}
    files = {k: [] for k in ("file", "format", "variant", "size", "decoded", "error")}
    findings = {k: [] for k in ("file", "format", "severity", "code", "path", "offset", "message")}
    for path in inputs(paths):
        file = str(path)
        detection = api.detect(path)
        decoded, error = False, None
        report = api.validate(path, strict=strict)
        if detection.is_memory_file:
            try:
                doc = api.load(path)
                decoded = True
                for name, table in file_tables(doc, file).items():
                    parts.setdefault(name, []).append(table)
            except FormatError as exc:
                error = str(exc)
        for key, value in zip(files, (file, detection.format, detection.variant, path.stat().st_size, decoded, error)):
            files[key].append(value)
        for f in report.findings:
            row = (file, report.format, str(f.severity), f.code, f.path, f.offset, f.message)
            for key, value in zip(findings, row):
                findings[key].append(value)
    out = {name: pa.concat_tables(tables, promote_options="permissive") for name, tables in sorted(parts.items())}
    out["files"] = pa.table(files, schema=pa.schema([("file", pa.string()), ("format", pa.string()),
                                                     ("variant", pa.string()), ("size", pa.int64()),
                                                     ("decoded", pa.bool_()), ("error", pa.string())]))
    out["findings"] = pa.table(findings, schema=pa.schema(
        [("file", pa.string()), ("format", pa.string()), ("severity", pa.string()), ("code", pa.string()),
         ("path", pa.string()), ("offset", pa.int64()), ("message", pa.string())]))
    return out


def write(tables: Mapping[str, Any], out: str | os.PathLike, to: str = "parquet") -> list[Path]:
    """One file per table in `out` (each written atomically)."""
    pa = _pa()
    if to not in FORMATS:
        raise ValueError(f"--to must be one of {', '.join(FORMATS)}")
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        sink = pa.BufferOutputStream()
        if to == "parquet":
            import pyarrow.parquet as pq
            pq.write_table(table, sink)
        else:
            import pyarrow.csv as pcsv
            pcsv.write_csv(_csv_ready(table), sink)
        path = directory / f"{name}.{to}"
        atomic_write(path, sink.getvalue().to_pybytes())
        written.append(path)
    return written


def _csv_ready(table):
    """CSV has no dictionaries, lists or binary: enums as their names, lists as JSON, bytes as hex."""
    pa = _pa()
    import json
    cols = {}
    for name, column in zip(table.column_names, table.columns):
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = column.cast(pa.string())
        elif pa.types.is_list(kind):
            column = pa.array([None if v is None else json.dumps(v) for v in column.to_pylist()], pa.string())
        elif pa.types.is_binary(kind):
            column = pa.array([None if v is None else v.hex() for v in column.to_pylist()], pa.string())
        cols[name] = column
    return pa.table(cols)
