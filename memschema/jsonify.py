"""Parsed values -> JSON-able values, by the conventions of every `dump --json`.

Bytes become lowercase hex, known enum members their name (unknown ones their integer), integers
stay exact (Python's json keeps big ints), floats are JSON numbers (non-finite floats, which JSON
cannot hold, become the strings "NaN", "Infinity", "-Infinity"), construct's own keys (`_io`,
`_flagsenum`, ...) are dropped.
"""

from __future__ import annotations

import enum
import math
from typing import Any

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
