"""Records filled by field name: the writer side of a declaration.

Writers name the fields they set; every other field takes the default its declaration states
(`Const`, `Default`, `Padding`), and a missing field or a value its type cannot hold is a
`FormatError` naming the field's path.  Tables of fixed-size records are filled column by column
into the numpy dtype derived from the same declaration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import construct as c
import numpy as np

from .dtypes import struct_dtype
from .errors import FormatError
from .parsing import RAW_ERRORS, build

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
    if isinstance(inner, c.Computed):
        return None
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
                column = [default] * n
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
    if isinstance(value, Mapping) and isinstance(_strip(decl), c.Struct):
        value = _fill_nested(decl, value, path)
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
