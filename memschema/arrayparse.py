"""Applying a declaration with numpy for its big arrays: an `Array` of fixed-size elements becomes a
zero-copy numpy view (dtype from the element declaration, extent checked first); everything else
is parsed by construct itself.  Same values as `parsing.parse`, except that such arrays are numpy
record arrays (attribute access by the declared field names) or plain numpy arrays."""

from __future__ import annotations

import struct
from functools import cache

import construct as c
import numpy as np

from .dtypes import struct_dtype
from .errors import FormatError
from .parsing import RAW_ERRORS, join_path


@cache
def _element_dtype(elem: c.Construct):
    """numpy dtype of a fixed-size array element, or None (variable size / no numpy view)."""
    try:
        if isinstance(elem, c.Struct):
            dt = struct_dtype(elem)
            return dt if dt.itemsize == elem.sizeof() else None
        dt = struct_dtype(c.Struct("v" / elem))
        return dt.fields["v"][0] if dt.itemsize == elem.sizeof() else None
    except (TypeError, c.SizeofError, *RAW_ERRORS):
        return None


def _local(ctx: c.Container) -> dict:
    return {k: v for k, v in ctx.items() if isinstance(k, str) and k != "_params"}


def _parse(sc, data, pos: int, end: int, path: str, ctx):
    if isinstance(sc, c.Renamed):
        return _parse(sc.subcon, data, pos, end, join_path(path, sc.name) if sc.name else path, ctx)
    if isinstance(sc, c.Struct):
        obj = c.Container()
        sub = c.Container(_=ctx, _params=ctx._params)
        for field in sc.subcons:
            value, pos = _parse(field, data, pos, end, path, sub)
            if field.name:
                obj[field.name] = sub[field.name] = value
        return obj, pos
    if isinstance(sc, c.Array):
        try:
            count = sc.count(ctx) if callable(sc.count) else sc.count
        except RAW_ERRORS as exc:
            raise FormatError(f"array count: {exc}", path, pos, "parse") from None
        dtype = _element_dtype(sc.subcon)
        if dtype is not None:
            if pos + count * dtype.itemsize > end:
                raise FormatError(f"{count} elements of {dtype.itemsize} bytes need {count * dtype.itemsize} bytes, "
                                  f"{end - pos} remain", path, pos, "truncated")
            arr = np.frombuffer(data, dtype=dtype, count=count, offset=pos)
            return (arr.view(np.recarray) if dtype.names else arr), pos + count * dtype.itemsize
        out = c.ListContainer()
        for i in range(count):
            value, after = _parse(sc.subcon, data, pos, end, f"{path}[{i}]", ctx)
            if after == pos and count > end - pos:   # zero-size elements: never loop 2^32 times
                raise FormatError(f"count {count} of empty elements exceeds the {end - pos} bytes left", path, pos,
                                  "bad_count")
            out.append(value)
            pos = after
        return out, pos
    if isinstance(sc, c.GreedyRange):
        out = c.ListContainer()
        while pos < end:
            try:
                value, after = _parse(sc.subcon, data, pos, end, f"{path}[{len(out)}]", ctx)
            except FormatError:
                break
            out.append(value)
            pos = after
        return out, pos
    if isinstance(sc, c.FormatField):      # the field's own struct format, read in place
        if pos + sc.length > end:
            raise FormatError(f"needs {sc.length} bytes, {end - pos} remain", path, pos, "truncated")
        return struct.unpack_from(sc.fmtstr, data, pos)[0], pos + sc.length
    if type(sc) is c.Bytes:
        try:
            size = sc.length(ctx) if callable(sc.length) else sc.length
        except RAW_ERRORS as exc:
            raise FormatError(f"length: {exc}", path, pos, "parse") from None
        if size < 0 or pos + size > end:
            raise FormatError(f"needs {size} bytes, {end - pos} remain", path, pos, "truncated")
        return bytes(data[pos:pos + size]), pos + size
    local = _local(ctx)
    try:
        size = sc.sizeof(**local)
    except (c.SizeofError, *RAW_ERRORS):
        size = end - pos
    if pos + size > end:
        raise FormatError(f"needs {size} bytes, {end - pos} remain", path, pos, "truncated")
    try:
        return sc.parse(bytes(data[pos:pos + size]), **local), pos + size
    except RAW_ERRORS as exc:
        raise FormatError(str(exc).splitlines()[-1], path, pos, "parse") from None


def parse_fast(decl: c.Construct, data, offset: int = 0, path: str = "", **context):
    """(value, bytes consumed) of `decl` at `offset` of `data`; failures are FormatError."""
    ctx = c.Container(**context)
    ctx._params = ctx
    value, end = _parse(decl, data, offset, len(data), path, ctx)
    return value, end - offset
