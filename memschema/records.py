"""Records filled by field name: the writer side of a declaration.

Writers name the fields they set; every other field takes the default its declaration states
(`Const`, `Default`, `Padding`), and a missing field or a value its type cannot hold is a
`FormatError` naming the field's path.  Tables of fixed-size records are filled column by column
into the numpy dtype derived from the same declaration.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

import construct as c
import numpy as np

from .dtypes import struct_dtype
from .errors import FormatError
from .parsing import RAW_ERRORS, build
from .walker import at_every_byte

_MISSING = object()


def _strip(sc):
    while isinstance(sc, c.Renamed):
        sc = sc.subcon
    return sc


def _struct(decl) -> c.Struct:
    inner = _strip(decl)
    while not isinstance(inner, c.Struct) and hasattr(inner, "subcon"):
        inner = _strip(inner.subcon)
    if not isinstance(inner, c.Struct):
        raise TypeError(f"{decl!r} is not a Struct")
    return inner


def default_of(sc) -> Any:
    """The value a field takes when a writer does not name it (`_MISSING` if none)."""
    inner = _strip(sc)
    if isinstance(inner, c.Const):
        return inner.value
    if isinstance(inner, c.Default):
        return inner.value if not callable(inner.value) else _MISSING
    if isinstance(inner, c.Padded) and inner.subcon is c.Pass:
        return None
    if isinstance(inner, (c.Computed, c.Rebuild)):
        return None          # the builder computes it
    return _MISSING


def fields(decl) -> list[c.Construct]:
    """The named fields of a record declaration, in order."""
    return [sc for sc in _struct(decl).subcons if sc.name]


def fill(decl, values: Mapping[str, Any], path: str = "") -> c.Container:
    """A Container with every named field of `decl`: the given values, else the declared defaults."""
    out = c.Container()
    known = set()
    for sc in fields(decl):
        known.add(sc.name)
        if sc.name in values:
            out[sc.name] = values[sc.name]
            continue
        default = default_of(sc)
        if default is _MISSING:
            raise FormatError(f"no value for {sc.name!r} and its declaration states no default",
                              f"{path}.{sc.name}".lstrip("."), None, "build")
        out[sc.name] = default
    extra = [k for k in values if isinstance(k, str) and not k.startswith("_") and k not in known]
    if extra:
        raise FormatError(f"{', '.join(extra)}: not fields of this record", path, None, "build")
    return out


def _encode_column(sc, column, path: str):
    if isinstance(column, np.ndarray):
        return column
    inner = _strip(sc)
    if isinstance(inner, c.Const):
        inner = inner.subcon
    if isinstance(inner, c.Default):
        inner = _strip(inner.subcon)
    if isinstance(inner, c.Adapter):
        if isinstance(inner, c.Enum) and all(type(v) is int for v in column):
            return column          # integers are what an Enum encodes to: nothing to map
        out = []
        for i, v in enumerate(column):
            try:
                out.append(inner._encode(v, c.Container(), path))
            except RAW_ERRORS as exc:
                raise FormatError(f"{v!r}: {exc}", path.replace("[]", f"[{i}]"), None, "build") from None
        return out
    return column


def _check_range(name: str, kind: np.dtype, column, path: str) -> np.ndarray:
    """`column` as an array of `kind`, every value checked to fit (vectorised where the values allow)."""
    if kind.subdtype is not None and kind.subdtype[0] == np.uint8:   # fixed bytes
        size = kind.subdtype[1][0]
        for i, v in enumerate(column):
            if len(v) != size:
                raise FormatError(f"{len(v)} bytes for a {size}-byte field", f"{path}[{i}].{name}", None, "build")
        joined = b"".join(bytes(v) if not isinstance(v, bytes) else v for v in column)
        return np.frombuffer(joined, dtype=np.uint8).reshape(len(column), size)
    if kind.kind in "iu" and not kind.subdtype:
        info = np.iinfo(kind)
        arr = np.asarray(column) if len(column) else np.zeros(0, dtype=kind)
        if arr.dtype.kind not in "iu" or arr.dtype == object:
            for i, v in enumerate(column):
                if not isinstance(v, (int, np.integer)) or not info.min <= int(v) <= info.max:
                    raise FormatError(f"{v!r} does not fit {kind.name} ({info.min} .. {info.max})",
                                      f"{path}[{i}].{name}", None, "build")
            return np.array(column, dtype=kind)
        bad = np.nonzero((arr < info.min) | (arr > info.max))[0] if arr.size else ()
        if len(bad):
            i = int(bad[0])
            raise FormatError(f"{column[i]!r} does not fit {kind.name} ({info.min} .. {info.max})",
                              f"{path}[{i}].{name}", None, "build")
        return arr.astype(kind)
    return np.asarray(column)


@cache
def _plan(decl) -> tuple[np.dtype, tuple]:
    """(dtype, ((name, field, default, numpy kind), ...)) of a fixed-size record declaration."""
    dtype = struct_dtype(decl)
    names = set(dtype.names or ())
    return dtype, tuple((sc.name, sc, default_of(sc), dtype.fields[sc.name][0])
                        for sc in fields(decl) if sc.name in names)


def _scalar(name: str, kind: np.dtype, v, path: str):
    """One value checked to fit `kind` (the single-record twin of `_check_range`)."""
    if kind.subdtype is not None and kind.subdtype[0] == np.uint8:
        size = kind.subdtype[1][0]
        if len(v) != size:
            raise FormatError(f"{len(v)} bytes for a {size}-byte field", f"{path}.{name}", None, "build")
        return np.frombuffer(bytes(v), dtype=np.uint8)
    if kind.kind in "iu" and not kind.subdtype:
        lo, hi = _bounds(kind)
        if not isinstance(v, (int, np.integer)) or not lo <= int(v) <= hi:
            raise FormatError(f"{v!r} does not fit {kind.name} ({lo} .. {hi})", f"{path}.{name}", None, "build")
    return v


@cache
def _bounds(kind: np.dtype) -> tuple[int, int]:
    info = np.iinfo(kind)
    return int(info.min), int(info.max)


def record(decl, values: Mapping[str, Any], path: str = "") -> np.record:
    """One fixed-size record filled by field name (a numpy record of the declaration's dtype)."""
    dtype, plan = _plan(decl)
    extra = [k for k in values if k not in dtype.fields]
    if extra:
        raise FormatError(f"{', '.join(map(str, extra))}: not fields of this record", path, None, "build")
    out = np.zeros(1, dtype=dtype).view(np.recarray)[0]
    for name, sc, default, kind in plan:
        v = values.get(name, default)
        if v is _MISSING:
            raise FormatError(f"no value for {name!r} and its declaration states no default", f"{path}.{name}",
                              None, "build")
        if isinstance(_strip(sc), (c.Adapter, c.Const, c.Default)) and not isinstance(v, (int, float, bytes)):
            v = _encode_column(sc, [v], f"{path}.{name}")[0]
        out[name] = _scalar(name, kind, v, path)
    return out


def table(decl, rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence], path: str = "") -> np.ndarray:
    """A numpy table of fixed-size records filled by field name.  `rows` is a list of mappings or a
    mapping of columns; unnamed fields take their declared defaults."""
    dtype, plan = _plan(decl)
    columns_given = isinstance(rows, Mapping)
    n = len(next(iter(rows.values()))) if columns_given and rows else (0 if columns_given else len(rows))
    out = np.zeros(n, dtype=dtype)
    given = set(rows) if columns_given else set().union(*(r.keys() for r in rows)) if n else set()
    extra = [k for k in given if k not in dtype.names]
    if extra:
        raise FormatError(f"{', '.join(map(str, extra))}: not fields of this record", path, None, "build")
    for _, sc, default, kind in plan:
        if columns_given:
            column = rows.get(sc.name, _MISSING)
            if column is _MISSING:
                if default is _MISSING:
                    raise FormatError(f"no value for {sc.name!r} and its declaration states no default",
                                      f"{path}[].{sc.name}", None, "build")
                if n:   # one default for the whole column: encoded once, broadcast
                    out[sc.name] = _check_range(sc.name, dtype.fields[sc.name][0],
                                                _encode_column(sc, [default], f"{path}[].{sc.name}"), path)[0]
                continue
            column = list(column) if not isinstance(column, np.ndarray) else column
        else:
            column = []
            for i, r in enumerate(rows):
                v = r.get(sc.name, default)
                if v is _MISSING:
                    raise FormatError(f"no value for {sc.name!r} and its declaration states no default",
                                      f"{path}[{i}].{sc.name}", None, "build")
                column.append(v)
        column = _encode_column(sc, column, f"{path}[].{sc.name}")
        out[sc.name] = _check_range(sc.name, kind, column, path)
    return out


def set_path(root, path: Sequence, value) -> None:
    """Set `root[path[0]][path[1]]... = value` across dicts, Containers, lists and numpy tables."""
    obj = root
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(obj, np.ndarray) and isinstance(key, int) and isinstance(nxt, str) and i + 2 == len(path):
            obj[nxt][key] = value
            return
        obj = obj[key]
    obj[path[-1]] = value


def serialize_one(decl, value, path: str, ctx: Mapping | None = None) -> bytes:
    """Bytes of one value of `decl`: raw bytes as they are, a numpy record by its bytes, a mapping
    built by the declaration (defaults filled)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        inner = _strip(decl)
        if isinstance(inner, (c.Bytes, type(c.GreedyBytes))) or not isinstance(inner, c.Struct):
            return bytes(value)
    if isinstance(value, (np.void, np.record)):
        return value.tobytes()
    if isinstance(_strip(decl), c.Select) and not isinstance(value, (bytes, bytearray, memoryview)):
        for alternative in _strip(decl).subcons:      # as construct's Select builds: the first that takes it
            try:
                return serialize_one(alternative, value, path, ctx)
            except FormatError:
                continue
        raise FormatError("no alternative of the declaration builds this value", path, None, "build")
    if isinstance(value, Mapping) and isinstance(_strip(decl), c.Struct):
        value = _fill_nested(decl, value, path)
        for name, v in value.items():       # large byte fields parse as memoryviews; construct builds bytes
            if isinstance(v, memoryview):
                value[name] = bytes(v)
        if any(isinstance(v, (np.ndarray, Columns)) for v in value.values()):
            return _build_fields(_struct(decl), value, path, ctx)
    return build(decl, value, path, **_ctx(ctx))


def _fill_nested(decl, value, path: str):
    try:
        return fill(decl, value, path)
    except TypeError:
        return value


def _ctx(ctx) -> dict:
    if not ctx:
        return {}
    return {k: v for k, v in dict(ctx).items() if isinstance(k, str) and not k.startswith("_")}


def serialize_elements(decl, value, path: str, ctx: Mapping | None = None) -> bytes:
    """Bytes of a repeated section: a numpy table of the element's dtype by its bytes, else element
    by element."""
    if isinstance(value, np.ndarray):
        if value.dtype.names:
            if value.dtype != struct_dtype(decl):
                raise FormatError(f"table dtype {value.dtype} is not the declaration's", path, None, "build")
            return value.tobytes()
        from .walker import element_dtype, root_context
        dt = element_dtype(decl, root_context(**_ctx(ctx)))
        if dt is None:
            raise FormatError("a numpy array needs a fixed-size element declaration", path, None, "build")
        base = dt.base if dt.subdtype else dt
        return np.ascontiguousarray(value, dtype=base).tobytes()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return b"".join(serialize_one(decl, v, f"{path}[{i}]", ctx) for i, v in enumerate(value))


# --- large values: arrays as numpy, repeated variable-size records column by column --------------

class Columns(dict):
    """Records of one declaration given column by column (field name -> column), the value of an
    `Array` field for `serialize_one`: thousands of variable-size records are then built without
    a Python object per record (`serialize_columns`)."""


def _build_fields(struct: c.Struct, value: Mapping, path: str, ctx: Mapping | None) -> bytes:
    return b"".join(iter_fields(struct, value, path, ctx))


def iter_serialized(decl, value, path: str, ctx: Mapping | None = None) -> Iterator[bytes]:
    """`serialize_one`'s bytes in pieces, as they are made: a large body (many `Columns` records) can
    be compared with stored bytes piece by piece without being held whole."""
    if isinstance(value, Mapping) and isinstance(_strip(decl), c.Struct):
        value = _fill_nested(decl, value, path)
        if any(isinstance(v, (np.ndarray, Columns)) for v in value.values()):
            yield from iter_fields(_struct(decl), value, path, ctx)
            return
    yield serialize_one(decl, value, path, ctx)


def iter_fields(struct: c.Struct, value: Mapping, path: str, ctx: Mapping | None) -> Iterator[bytes]:
    """A Struct whose `Array` (or `GreedyRange`) fields hold numpy arrays (fixed-size elements: their
    bytes) or `Columns` (variable-size records): those fields are serialized in bulk, the others by
    construct with the record's fields as context (so `this.n` and `Rebuild` expressions work)."""
    from .walker import element_dtype
    context = c.Container(_=c.Container(_ctx(ctx)), **value)
    for sc in struct.subcons:
        v = value.get(sc.name) if sc.name else None
        inner = _strip(sc)
        where = f"{path}.{sc.name}".lstrip(".")
        if isinstance(inner, (c.Array, c.GreedyRange)) and isinstance(v, (np.ndarray, Columns)):
            try:
                n = len(v) if isinstance(v, np.ndarray) else None
                if isinstance(inner, c.Array):
                    n = inner.count(context) if callable(inner.count) else inner.count
            except RAW_ERRORS as exc:
                raise FormatError(f"array count: {exc}", where, None, "build") from None
            if isinstance(v, Columns):
                yield from iter_columns(inner.subcon, v, where, n)
                continue
            dtype = element_dtype(inner.subcon, context)
            if dtype is None or len(v) != n:
                raise FormatError(f"{len(v)} elements for a count of {n}" if dtype is not None else
                                  "a numpy array needs fixed-size elements", where, None, "build")
            yield as_dtype(v, dtype if dtype.names else dtype.base, where).tobytes()
            continue
        yield build(sc, v, where, **context)


def as_dtype(column, dtype: np.dtype, path: str) -> np.ndarray:
    """`column` as `dtype`, refusing integers the type cannot hold (numpy's cast would wrap)."""
    arr = np.asarray(column)
    if dtype.names:
        if arr.dtype != dtype:
            raise FormatError(f"table dtype {arr.dtype} is not the declaration's {dtype}", path, None, "build")
        return arr
    if dtype.kind in "iu" and arr.size and arr.dtype != dtype:
        info = np.iinfo(dtype)
        if arr.dtype.kind not in "iub" or arr.min() < info.min or arr.max() > info.max:
            bad = np.flatnonzero((arr < info.min) | (arr > info.max)) if arr.dtype.kind in "iuf" else [0]
            i = int(bad[0]) if len(bad) else 0
            raise FormatError(f"{arr.flat[i].item()!r} does not fit {dtype.name}", f"{path}[{i}]", None, "build")
    return np.ascontiguousarray(arr, dtype=dtype)


def _length_ref(expr) -> str | None:
    """The sibling field a length/count expression names (`this.n` -> "n"), if it is that simple."""
    from .layout import _ref_path
    ref = _ref_path(expr) if isinstance(expr, c.expr.Path) else None
    return ref[0] if ref and len(ref) == 1 else None


def serialize_columns(decl, columns: Mapping, path: str = "", count: int | None = None) -> bytes:
    return b"".join(iter_columns(decl, columns, path, count))


def iter_columns(decl, columns: Mapping, path: str = "", count: int | None = None) -> Iterator[bytes]:
    """`count` consecutive records of `decl` (a Struct of fixed-size fields, `Bytes(this.x)` and
    `Array(this.n, <fixed-size element>)`) from columns, vectorised.  Fixed-size fields take a
    numpy column (range-checked) or their declared default; `Bytes` fields a sequence of bytes (or
    a `(concatenated bytes, lengths)` pair);
    `Array` fields an `(elements, counts)` pair (all records' elements concatenated).  A length or
    count field that is left out is filled from the data it measures; one that is given is written
    as given, so a writer can state a foreign writer's own arithmetic (a length cast to u16)."""
    struct = _struct(decl)
    pieces: list[tuple[np.ndarray, np.ndarray, int]] = []   # per field: (flat bytes, size per record, unit)
    given = dict(columns)
    measured: dict[str, np.ndarray] = {}
    for sc in struct.subcons:                          # lengths and counts the data determines
        inner = _strip(sc)
        if isinstance(inner, (c.Bytes, c.Array)) and sc.name in given:
            ref = _length_ref(inner.length if isinstance(inner, c.Bytes) else inner.count)
            v = given[sc.name]
            if ref is not None and ref not in given:
                measured[ref] = np.asarray(v[1], np.int64) if isinstance(v, tuple) else \
                    np.fromiter(map(len, v), np.int64, len(v))
    given.update(measured)
    n = count if count is not None else max((len(v[1]) if isinstance(v, tuple) else len(v) for v in given.values()),
                                            default=0)
    for sc in struct.subcons:
        inner = _strip(sc)
        where = f"{path}[].{sc.name}"
        column = given.get(sc.name, _MISSING)
        if isinstance(inner, c.Bytes) and callable(inner.length):
            if isinstance(column, tuple):       # (all records' bytes concatenated, length of each)
                pieces.append((np.frombuffer(column[0], np.uint8), np.asarray(column[1], np.int64), 1))
            else:
                blob = np.frombuffer(b"".join(column), np.uint8)
                pieces.append((blob, np.fromiter(map(len, column), np.int64, len(column)), 1))
        elif isinstance(inner, c.Array):
            elements, counts = column
            dtype = struct_dtype(inner.subcon) if isinstance(_strip(inner.subcon), c.Struct) else \
                struct_dtype(c.Struct("v" / inner.subcon)).fields["v"][0]
            flat = as_dtype(elements, dtype, where).view(np.uint8).ravel()
            pieces.append((flat, np.asarray(counts, np.int64) * dtype.itemsize, dtype.itemsize))
        else:
            dtype = struct_dtype(c.Struct(sc)).fields[sc.name][0]
            if column is _MISSING:
                default = default_of(sc)
                if default is _MISSING:
                    raise FormatError(f"no value for {sc.name!r} and its declaration states no default",
                                      where, None, "build")
                column = [default] * n
            if not isinstance(column, np.ndarray):
                column = _encode_column(sc, list(column), where)
                column = _check_range(sc.name, dtype, column, path) if dtype.subdtype else column
            flat = as_dtype(column, dtype.base if dtype.subdtype else dtype, where).view(np.uint8).ravel()
            pieces.append((flat, np.full(n, dtype.itemsize, np.int64), dtype.itemsize))
    if any(len(sizes) != n for _, sizes, _ in pieces):
        raise FormatError(f"columns of different lengths for {n} records", path, None, "build")
    record = sum((sizes for _, sizes, _ in pieces), np.zeros(n, np.int64))
    ends = np.cumsum(record)
    at = ends - record                                  # where each field of each record goes
    fields_at, sources = [], []
    for _, sizes, _ in pieces:
        fields_at.append(at)
        sources.append(np.cumsum(sizes) - sizes)        # where it comes from in the field's bytes
        at = at + sizes
    # records in chunks of about SCATTER_BYTES (the index arrays stay small), each yielded
    total = int(ends[-1]) if n else 0
    cuts = [0, *np.searchsorted(ends, np.arange(SCATTER_BYTES, total, SCATTER_BYTES), "right").tolist(), n]
    for a, b in zip(cuts, cuts[1:]):
        if a >= b:
            continue
        base = int(ends[a] - record[a])
        out = np.empty(int(ends[b - 1]) - base, np.uint8)
        for (flat, sizes, unit), dst, src in zip(pieces, fields_at, sources):
            lo, hi = int(src[a]), int(src[b - 1] + sizes[b - 1])
            if hi == lo:
                continue
            # one index per element of `unit` bytes (a byte is the unit of Bytes fields): element k
            # of the chunk goes to its record's field start plus its place in the field
            where = np.repeat(dst[a:b] - base - (src[a:b] - lo), sizes[a:b] // unit) + np.arange(0, hi - lo, unit)
            at_every_byte(out, unit)[where] = at_every_byte(flat[lo:hi], unit)[::unit]
        yield out.tobytes()


SCATTER_BYTES = 1 << 20
