"""numpy views derived from construct record declarations: one declaration, two views.

A fixed-size `Struct` of integers, floats, fixed `Bytes`, `Const`, `Enum`/`FlagsEnum`, `Padding`
and nested fixed structs maps to a packed numpy structured dtype with the same field names and
offsets.  Tables are then `numpy.frombuffer` views over the file bytes (zero copy, mmap-friendly).
"""

from __future__ import annotations

from functools import cache

import construct
import numpy as np

from .errors import FormatError

# struct-module format characters -> numpy kinds
_KINDS = {"b": "i1", "B": "u1", "h": "i2", "H": "u2", "i": "i4", "I": "u4", "l": "i4", "L": "u4",
          "q": "i8", "Q": "u8", "e": "f2", "f": "f4", "d": "f8", "?": "?"}


def _field_format(sc: construct.Construct):
    """numpy format of one (unwrapped) field, or None for fields without data (Padding)."""
    if isinstance(sc, construct.Renamed):
        return _field_format(sc.subcon)
    if isinstance(sc, construct.FormatField):
        order, char = sc.fmtstr[0], sc.fmtstr[1:]
        if char not in _KINDS:
            raise TypeError(f"no numpy kind for struct format {sc.fmtstr!r}")
        return ("<" if order in "<=" else ">") + _KINDS[char]
    if isinstance(sc, construct.BytesInteger):
        raise TypeError("BytesInteger has no numpy kind")
    if isinstance(sc, construct.Bytes):
        return ("u1", (sc.sizeof(),))
    if isinstance(sc, construct.Struct):
        return struct_dtype(sc)
    if isinstance(sc, construct.Array):
        inner = _field_format(sc.subcon)
        count = sc.count
        if not isinstance(count, int):
            raise TypeError("Array count must be a constant for a numpy view")
        return (inner, (count,))
    if isinstance(sc, construct.Padded) and sc.subcon is construct.Pass:
        return None  # Padding(n): bytes with no field
    if isinstance(sc, construct.Const):
        return _field_format(sc.subcon)
    if isinstance(sc, construct.Computed):
        return None
    if hasattr(sc, "subcon"):  # Enum, FlagsEnum, other adapters over a fixed field
        return _field_format(sc.subcon)
    raise TypeError(f"no numpy view for {type(sc).__name__}")


@cache
def struct_dtype(decl: construct.Construct) -> np.dtype:
    """Packed numpy dtype of a fixed-size construct `Struct` (field names and offsets kept)."""
    while not isinstance(decl, construct.Struct) and hasattr(decl, "subcon"):
        decl = decl.subcon
    if not isinstance(decl, construct.Struct):
        raise TypeError(f"{decl!r} is not a Struct")
    names, formats, offsets = [], [], []
    offset = 0
    for sc in decl.subcons:
        if isinstance(sc, construct.Computed) or isinstance(getattr(sc, "subcon", None), construct.Computed):
            continue
        size = sc.sizeof()
        fmt = _field_format(sc) if sc.name else None
        if fmt is not None and size:
            names.append(sc.name)
            formats.append(fmt)
            offsets.append(offset)
        offset += size
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": offset})


def table(decl: construct.Construct, data, offset: int, count: int, path: str) -> np.ndarray:
    """Zero-copy record array of `count` records of `decl` at `offset` of `data`.

    The extent is checked against the bytes that exist before anything is viewed or allocated.
    """
    dtype = struct_dtype(decl)
    if count < 0 or offset < 0:
        raise FormatError(f"negative count {count} or offset {offset}", path, max(offset, 0), "bad_extent")
    end = offset + count * dtype.itemsize
    if end > len(data):
        raise FormatError(f"{count} records of {dtype.itemsize} bytes need {end - offset} bytes, "
                          f"only {max(len(data) - offset, 0)} exist", path, offset, "truncated")
    return np.frombuffer(data, dtype=dtype, count=count, offset=offset)


def floats(data, offset: int, count: int, path: str, dtype: str = "<f4") -> np.ndarray:
    """Zero-copy 1-D float view with the same extent check as `table`."""
    item = np.dtype(dtype).itemsize
    if count < 0 or offset < 0 or offset + count * item > len(data):
        raise FormatError(f"{count} values of {item} bytes do not fit in the "
                          f"{max(len(data) - offset, 0)} bytes after offset {offset}",
                          path, max(offset, 0), "truncated")
    return np.frombuffer(data, dtype=dtype, count=count, offset=offset)
