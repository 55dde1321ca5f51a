"""Comparing parsed values exactly: floats bit for bit (NaN payloads, signed zero), enum members by
name and integer, containers without construct's private `_io`-style keys."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any

from construct.core import EnumIntegerString


def _float_bits(x: float) -> bytes:
    return struct.pack("<d", x)


def difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where `a` and `b` first differ (a path and both values), or None when they are identical."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys_a = {k for k in a if not (isinstance(k, str) and k.startswith("_"))}
        keys_b = {k for k in b if not (isinstance(k, str) and k.startswith("_"))}
        if keys_a != keys_b:
            return f"{path or '<root>'}: keys {sorted(map(str, keys_a ^ keys_b))} in only one value"
        for k in a:
            if k in keys_a:
                found = difference(a[k], b[k], f"{path}.{k}" if path else str(k))
                if found:
                    return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{path or '<root>'}: {len(a)} elements vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            found = difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, float) and isinstance(b, float) and _float_bits(a) == _float_bits(b):
            return None
        if not (isinstance(a, float) and isinstance(b, float)) and a == b and not (
                isinstance(a, float) and math.isnan(a)):
            return None
        return f"{path or '<root>'}: {a!r} vs {b!r} (compared bit-exactly)"
    if isinstance(a, EnumIntegerString) or isinstance(b, EnumIntegerString):
        ia, ib = getattr(a, "int", a), getattr(b, "int", b)
        if str(a) == str(b) and ia == ib:
            return None
        return f"{path or '<root>'}: {a!r} vs {b!r}"
    if isinstance(a, (bytes, bytearray, memoryview)) and isinstance(b, (bytes, bytearray, memoryview)):
        return None if bytes(a) == bytes(b) else f"{path or '<root>'}: {bytes(a)[:32].hex()}… vs {bytes(b)[:32].hex()}…"
    if type(a) is not type(b) and not (isinstance(a, int) and isinstance(b, int)):
        return f"{path or '<root>'}: {type(a).__name__} {a!r} vs {type(b).__name__} {b!r}"
    return None if a == b else f"{path or '<root>'}: {a!r} vs {b!r}"


def same_value(a: Any, b: Any) -> bool:
    return difference(a, b) is None
