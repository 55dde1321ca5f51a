"""Parsed values -> JSON-able values, by the conventions of every `dump --json`.

Bytes become lowercase hex, known enum members their name (unknown ones their integer), integers
stay exact (Python's json keeps big ints), floats are JSON numbers (non-finite floats, which JSON
cannot hold, become the strings "NaN", "Infinity", "-Infinity"), construct's own keys (`_io`,
`_flagsenum`, ...) are dropped.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable
from typing import Any, TextIO

import construct
import numpy as np

# Keys construct adds to parsed Containers; a format's own field may still start with "_" (RVF `_pad`).
CONSTRUCT_INTERNAL = frozenset({"_io", "_flagsenum", "_params", "_root", "_parsing", "_building", "_sizing",
                                "_subcons", "_index", "_"})


def _float(x: float) -> Any:
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def to_jsonable(obj: Any) -> Any:
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, construct.EnumIntegerString):
        return str(obj)
    if isinstance(obj, construct.EnumInteger):
        return int(obj)
    if isinstance(obj, enum.Enum):
        return obj.name.lower() if isinstance(obj.name, str) else obj.value
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return _float(obj)
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj).hex()
    if isinstance(obj, np.generic):
        if isinstance(obj, np.void):
            return {n: to_jsonable(obj[n]) for n in obj.dtype.names or ()}
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        if obj.dtype.names:
            return [to_jsonable(r) for r in obj]
        if obj.dtype == np.uint8 and obj.ndim == 1:
            return obj.tobytes().hex()
        return [to_jsonable(x) for x in obj.tolist()] if obj.dtype.kind == "f" else obj.tolist()
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items() if k not in CONSTRUCT_INTERNAL}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "to_json"):
        return obj.to_json()
    raise TypeError(f"cannot express {type(obj).__name__} as JSON")


# --- JSON by declaration: every declared field, enums by name, tables column by column ----------

def _strip(sc):
    while isinstance(sc, construct.Renamed):
        sc = sc.subcon
    return sc


def _record_struct(decl):
    inner = _strip(decl)
    while not isinstance(inner, construct.Struct) and isinstance(inner, (construct.Subconstruct,)) \
            and not isinstance(inner, (construct.Array, construct.GreedyRange, construct.Adapter)):
        inner = _strip(inner.subcon)
    return inner if isinstance(inner, construct.Struct) else None


def _enum_of(sc):
    inner = _strip(sc)
    while isinstance(inner, (construct.Const, construct.Default, construct.Rebuild)):
        inner = _strip(inner.subcon)
    return inner if isinstance(inner, construct.Enum) else None


def _column(sc, col: np.ndarray) -> list:
    enum = _enum_of(sc)
    if enum is not None:
        names = enum.decmapping
        return [str(names[v]) if v in names else v for v in col.tolist()]
    if col.dtype == np.uint8 and col.ndim == 2:          # fixed bytes
        return [bytes(row).hex() for row in col]
    if col.ndim > 1 and col.dtype.kind == "f":
        return [[_float(x) for x in row] for row in col.tolist()]
    if col.dtype.kind == "f":
        return [_float(x) for x in col.tolist()]
    if col.dtype.names:
        inner = _record_struct(sc)
        return table_json(inner, col) if inner is not None else [to_jsonable(r) for r in col]
    return col.tolist()


def table_json(decl, table: np.ndarray) -> list[dict]:
    """Rows of a numpy table of `decl` records as JSON objects, every declared field, in order."""
    struct = _record_struct(decl)
    names = table.dtype.names or ()
    subcons = [sc for sc in struct.subcons if sc.name in names] if struct is not None else []
    columns = [(sc.name, _column(sc, np.asarray(table[sc.name]))) for sc in subcons]
    return [{name: col[i] for name, col in columns} for i in range(len(table))]


def declared(decl, value: Any) -> Any:
    """`value` (parsed by `decl`) as JSON: every named field of every Struct in declaration order,
    enums by name, byte strings as hex, numpy tables column by column."""
    inner = _strip(decl)
    if isinstance(value, np.ndarray) and value.dtype.names:
        elem = inner.subcon if isinstance(inner, (construct.Array, construct.GreedyRange)) else decl
        return table_json(elem, value)
    if isinstance(value, np.ndarray):
        return to_jsonable(value)
    if isinstance(inner, construct.Struct) and isinstance(value, dict):
        out = {}
        for sc in inner.subcons:
            if sc.name and sc.name in value:
                out[sc.name] = declared(sc, value[sc.name])
        return out
    if isinstance(inner, (construct.Array, construct.GreedyRange, construct.RepeatUntil)) and \
            isinstance(value, list):
        return [declared(inner.subcon, v) for v in value]
    if isinstance(inner, (construct.Const, construct.Default, construct.Rebuild, construct.FixedSized,
                          construct.Prefixed, construct.Padded)) and not isinstance(inner, construct.Adapter):
        return declared(inner.subcon, value)
    if isinstance(inner, construct.Switch) and isinstance(value, dict):
        return to_jsonable(value)
    return to_jsonable(value)
# -- streaming --------------------------------------------------------------------------------------
# `Document.json_stream()` may hold `Stream`s (arrays/objects produced while they are written) and
# `Hex`es (bytes loaded when written, hex-encoded a slice at a time), so `dump --json` of a file
# with large records holds one record at a time; `materialize` turns the same tree into plain JSON.

HEX_CHUNK = 1 << 20


class Stream:
    """A JSON array of `items`, or an object of `(key, value)` items when `pairs` is set."""

    def __init__(self, items: Iterable, pairs: bool = False):
        self.items = items
        self.pairs = pairs


class Hex:
    """Bytes as lowercase hex; `source` is a bytes-like object or a callable returning one."""

    def __init__(self, source):
        self.source = source

    def data(self):
        return self.source() if callable(self.source) else self.source


def _key(key: Any) -> str:
    """A key as `json.dump` writes it: strings as they are, None/bool/numbers as their JSON text."""
    return key if isinstance(key, str) else json.dumps(key)


def materialize(obj: Any) -> Any:
    """The plain JSON value of a tree that may hold `Stream`s and `Hex`es."""
    if isinstance(obj, Hex):
        return bytes(obj.data()).hex()
    if isinstance(obj, Stream):
        return {_key(k): materialize(v) for k, v in obj.items} if obj.pairs else [materialize(v) for v in obj.items]
    if isinstance(obj, dict):
        return {k: materialize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [materialize(v) for v in obj]
    return obj


class _Lazy(Exception):
    """A Stream or Hex met by json's encoder: that part is written by `write_json` itself."""


def _lazy(obj: Any) -> Any:
    if isinstance(obj, (Stream, Hex)):
        raise _Lazy
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def write_json(obj: Any, out: TextIO, indent: int = 2, level: int = 0) -> None:
    """Write `obj` as `json.dump(obj, out, indent=indent, ensure_ascii=False, allow_nan=False)`
    would, producing `Stream`s and `Hex`es while writing."""
    if isinstance(obj, Hex):
        data = memoryview(obj.data()).cast("B")
        out.write('"')
        for at in range(0, len(data), HEX_CHUNK):
            out.write(data[at:at + HEX_CHUNK].hex())
        out.write('"')
        return
    if isinstance(obj, (dict, list, tuple)):        # no Stream/Hex inside: json's own encoder, re-indented
        try:
            text = json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False, default=_lazy)
        except _Lazy:
            pass
        else:
            out.write(text.replace("\n", "\n" + " " * (indent * level)) if level else text)
            return
    if isinstance(obj, (dict, Stream)) and (not isinstance(obj, Stream) or obj.pairs):
        items, opening, closing = (obj.items() if isinstance(obj, dict) else obj.items), "{", "}"
    elif isinstance(obj, (list, tuple, Stream)):
        items, opening, closing = (obj.items if isinstance(obj, Stream) else obj), "[", "]"
    else:
        out.write(json.dumps(obj, ensure_ascii=False, allow_nan=False))
        return
    inner = "\n" + " " * (indent * (level + 1))
    first = True
    for item in items:
        out.write((opening if first else ",") + inner)
        first = False
        if closing == "}":
            key, item = item
            out.write(json.dumps(_key(key), ensure_ascii=False) + ": ")
        write_json(item, out, indent, level + 1)
    out.write(opening + closing if first else "\n" + " " * (indent * level) + closing)
