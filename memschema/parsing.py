"""Applying declarations to bytes: parse and build with errors that carry path and absolute offset.

construct reports *where in the declaration* a parse failed, never *where in the bytes*.  The fast
path parses normally; only when that fails is the parse repeated with every `_parsereport` call
traced, so the innermost failing field and the stream position it started at are known.
"""

from __future__ import annotations

import re
import struct
import threading
import zlib
from functools import cache
from typing import Any

import construct
import numpy as np
from construct import Construct

from .errors import FormatError

# Exceptions that bad bytes can provoke inside construct and inside format adapters/lambdas.
RAW_ERRORS = (construct.ConstructError, struct.error, IndexError, KeyError, OverflowError,
              UnicodeError, ValueError, TypeError, ZeroDivisionError, AttributeError,
              zlib.error, RecursionError, MemoryError, EOFError)

_REPEATERS = (construct.Array, construct.GreedyRange, construct.RepeatUntil)
_trace_lock = threading.Lock()

# --- repetition guard ---------------------------------------------------------------------------
# An Array of elements that can be empty (`Array(this.n, Array(this.dim, Float32l))` with dim 0)
# lets 12 bytes declare 2^32 elements: construct would build billions of empty lists.  While
# memschema parses, the elements that Arrays declare beyond the bytes that remain (which can only
# be empty ones) share a budget of MAX_EMPTY_ELEMENTS per parse, nested arrays included.
MAX_EMPTY_ELEMENTS = 1 << 16
_guard = threading.local()
_array_parse = construct.Array._parse


def _remaining(stream) -> int:
    pos = stream.tell()
    end = stream.seek(0, 2)
    stream.seek(pos)
    return end - pos


def _guarded_array_parse(self, stream, context, path):
    if getattr(_guard, "depth", 0):
        count = construct.evaluate(self.count, context)
        if isinstance(count, int) and count > 0:
            excess = count - _remaining(stream)
            if excess > 0:
                _guard.budget -= excess
                if _guard.budget < 0:
                    raise construct.RangeError(f"count {count} exceeds the {_remaining(stream)} bytes left",
                                               path=path)
    return _array_parse(self, stream, context, path)


_patch_lock = threading.Lock()
_patched = 0   # memschema parses running in any thread; construct is patched only while > 0


class guarded:
    """Context manager: apply the repetition guard to construct parses in this thread.  construct's
    `Array._parse` is replaced only while a memschema parse runs anywhere (and the replacement is
    inert in threads that are not inside one), so other users of construct are not affected."""

    def __enter__(self):
        global _patched
        _guard.depth = getattr(_guard, "depth", 0) + 1
        if _guard.depth == 1:
            _guard.budget = MAX_EMPTY_ELEMENTS
            with _patch_lock:
                _patched += 1
                if _patched == 1:
                    construct.Array._parse = _guarded_array_parse

    def __exit__(self, *exc):
        global _patched
        _guard.depth -= 1
        if _guard.depth == 0:
            with _patch_lock:
                _patched -= 1
                if _patched == 0:
                    construct.Array._parse = _array_parse


def _message(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).splitlines() if not ln.startswith("Error in path")]
    text = " ".join(lines).strip()
    return text or type(exc).__name__


def _trace(decl: Construct, data, start: int, end: int, kw: dict) -> tuple[str, int]:
    """Re-parse `data` with tracing; return (field path, offset in data) of the innermost failure."""
    frames: list[list] = []   # [construct, stream, start, child_counts, label]
    bases: dict[int, int] = {}
    captured: list | None = None
    original = Construct._parsereport

    def traced(self, stream, context, path):
        nonlocal captured
        parent = frames[-1] if frames else None
        if id(stream) not in bases:
            if parent is None:
                bases[id(stream)] = 0
            else:  # a substream (FixedSized, Prefixed, ...) just cut out of the parent stream
                pstream = parent[1]
                size = len(stream.getbuffer()) if hasattr(stream, "getbuffer") else 0
                bases[id(stream)] = bases.get(id(pstream), 0) + pstream.tell() - size
        label = ""
        if isinstance(self, construct.Renamed) and self.name and not (
                isinstance(self.subcon, construct.Renamed) and self.subcon.name == self.name) and not (
                parent is not None and isinstance(parent[0], construct.FocusedSeq)):  # PrefixedArray internals
            label = "." + self.name  # `"name" / X * "doc"` nests two Renamed: label the inner one
        elif parent is not None and isinstance(parent[0], _REPEATERS):
            i = parent[3].get(id(self), 0)
            parent[3][id(self)] = i + 1
            label = f"[{i}]"
        start = bases[id(stream)] + stream.tell()
        frames.append([self, stream, start, {}, label])
        try:
            result = original(self, stream, context, path)
        except BaseException:
            if captured is None:
                captured = [(f[4], f[2]) for f in frames]
            frames.pop()
            raise
        frames.pop()
        captured = None  # an exception below was swallowed (GreedyRange, Select, Optional)
        return result

    with _trace_lock:
        Construct._parsereport = traced
        try:
            _parse_view(decl, data, start, end, kw)
        except BaseException:  # noqa: BLE001 - only the trace matters here
            pass
        finally:
            Construct._parsereport = original
    if not captured:
        return "", 0
    path = "".join(label for label, _ in captured).lstrip(".")
    return path, captured[-1][1]


def join_path(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


class ViewStream:
    """A read-only, seekable stream over a slice of bytes/mmap that copies only what is read,
    so parsing one record of a huge memory-mapped file costs the record, not the file."""

    def __init__(self, data, start: int = 0, end: int | None = None):
        self._base = memoryview(data)
        self._view = self._base[start:end]
        self._pos = 0

    def read(self, n: int | None = -1) -> bytes:
        end = len(self._view) if n is None or n < 0 else min(len(self._view), self._pos + n)
        chunk = bytes(self._view[self._pos:end])
        self._pos = max(self._pos, end)
        return chunk

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._view.release()
        self._base.release()


def _parse_view(decl: Construct, data, start: int, end: int, context: dict) -> tuple[Any, int]:
    stream = ViewStream(data, start, end)
    try:
        with guarded():
            value = decl.parse_stream(stream, **context)
        return value, stream.tell()
    finally:
        stream.close()


def parse(decl: Construct, data, offset: int = 0, path: str = "", size: int | None = None,
          **context: Any) -> Any:
    """Parse `decl` from `data[offset:offset+size]`; failures become `FormatError` with the
    failing field's path (prefixed with `path`) and its absolute offset in `data`."""
    return parse_span(decl, data, offset, path, size, **context)[0]


def parse_span(decl: Construct, data, offset: int = 0, path: str = "", size: int | None = None,
               **context: Any) -> tuple[Any, int]:
    """Like `parse`, and also return the number of bytes the declaration consumed."""
    end = len(data) if size is None else min(len(data), offset + size)
    if offset < 0 or offset > len(data):
        raise FormatError(f"offset {offset} is outside the {len(data)} bytes", path, offset, "truncated")
    try:
        return _parse_view(decl, data, offset, end, context)
    except FormatError as exc:
        raise FormatError(exc.message, join_path(path, exc.path),
                          offset + (exc.offset or 0), exc.code) from None
    except RAW_ERRORS as exc:
        inner, rel = _trace(decl, data, offset, end, context)
        code = "truncated" if isinstance(exc, construct.StreamError) else "parse"
        raise FormatError(_message(exc), join_path(path, inner), offset + rel, code) from None


def constructible(obj: Any) -> Any:
    """`obj` as construct builds it: the walker's numpy tables become lists of Containers, numpy
    scalars Python numbers, byte vectors bytes (construct's Struct and Enum refuse numpy values).
    Values without numpy inside are returned as they are."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.names:
            return construct.ListContainer(constructible(row) for row in obj)
        if obj.dtype == np.uint8 and obj.ndim == 1:
            return obj.tobytes()
        if obj.dtype == np.uint8:
            return [constructible(row) for row in obj]
        return obj.tolist()
    if isinstance(obj, np.void):
        return construct.Container((name, constructible(obj[name])) for name in obj.dtype.names or ())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        items = {k: constructible(v) for k, v in obj.items()}
        if all(items[k] is v for k, v in obj.items()):
            return obj
        out = construct.Container(obj)
        out.update(items)
        return out
    if isinstance(obj, list):
        items = [constructible(v) for v in obj]
        return obj if all(a is b for a, b in zip(items, obj)) else construct.ListContainer(items)
    return obj


def build(decl: Construct, obj: Any, path: str = "", **context: Any) -> bytes:
    """Build `obj` with `decl` (values the walker parsed included, see `constructible`); a model
    that does not fit the declaration is a `FormatError`."""
    try:
        return decl.build(constructible(obj), **context)
    except FormatError:
        raise
    except RAW_ERRORS as exc:
        raise FormatError(_message(exc), path, None, "build") from None


def sizeof(decl: Construct, **context: Any) -> int:
    return decl.sizeof(**context)


# --- where a parsed field lives -------------------------------------------------------------

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _tokens(path: str) -> list:
    out, pos = [], 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            raise ValueError(f"bad path {path!r}")
        out.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return out


def _unwrap(decl: Construct, obj: Any = None, ctx: dict | None = None) -> Construct:
    """The Struct or repeater that holds `obj`'s fields: wrappers are looked through, a Switch
    takes the case its key gives in `ctx` (the fields of the enclosing Struct), an If its branch,
    a Select the first alternative of the value's kind (a Struct for a mapping)."""
    while not isinstance(decl, (construct.Struct, *_REPEATERS)):
        if isinstance(decl, construct.Switch) and ctx is not None:
            key = decl.keyfunc(construct.Container(ctx)) if callable(decl.keyfunc) else decl.keyfunc
            decl = decl.cases.get(key, decl.default)
        elif isinstance(decl, construct.IfThenElse) and ctx is not None:
            cond = decl.condfunc(construct.Container(ctx)) if callable(decl.condfunc) else decl.condfunc
            decl = decl.thensubcon if cond else decl.elsesubcon
        elif isinstance(decl, construct.Select):
            kinds = (construct.Struct,) if isinstance(obj, (dict, np.void)) else _REPEATERS
            decl = next((sc for sc in decl.subcons if isinstance(_unwrap(sc), kinds)), decl.subcons[0])
            if not isinstance(_unwrap(decl), kinds):
                return decl
        elif hasattr(decl, "subcon"):
            decl = decl.subcon
        else:
            return decl
    return decl


def _context(obj: Any) -> dict:
    if isinstance(obj, dict):
        return {k: v for k, v in obj.items() if isinstance(k, str) and not k.startswith("_")}
    if isinstance(obj, np.void):          # a record of a numpy table the walker parsed
        return {name: obj[name] for name in obj.dtype.names or ()}
    return {}


_NO_INSTANCE = object()   # `locate` from the declaration alone: only fixed sizes count


def _member(obj: Any, name: str) -> Any:
    if isinstance(obj, np.void):
        return obj[name] if name in (obj.dtype.names or ()) else None
    return obj.get(name)


def _length(decl: Construct, value: Any, ctx: dict) -> int:
    try:
        return decl.sizeof(**ctx)
    except (construct.SizeofError, *RAW_ERRORS):
        if value is _NO_INSTANCE:
            raise
        return len(decl.build(constructible(value), **ctx))


def locate(decl: Construct, obj: Any, path: str) -> int:
    """Offset of the field at `path` (e.g. `blocks[3].content_len`) relative to the start of the
    bytes `obj` was parsed from, computed from the declaration itself.  Sizes that depend on
    other fields are evaluated in construct's contexts (`this.count`, `this._.dimension`)."""
    none = obj is _NO_INSTANCE
    offset = 0
    ctx: dict = {}          # fields of the Struct `decl` is a field of (what `this` means there)
    for token in _tokens(path):
        decl = _unwrap(decl, obj, ctx)
        if isinstance(token, str):
            if not isinstance(decl, construct.Struct):
                raise KeyError(token)
            here = {"_": ctx} if none else {**_context(obj), "_": ctx}
            for sc in decl.subcons:
                if sc.name == token:
                    break
                offset += _length(sc, obj if none else _member(obj, sc.name) if sc.name else None, here)
            else:
                raise KeyError(token)
            decl, obj, ctx = sc, obj if none else _member(obj, token), here   # a field not parsed yet: None
        else:
            elem = decl.subcon
            try:
                offset += elem.sizeof(**ctx) * token
            except (construct.SizeofError, *RAW_ERRORS):
                if none:
                    raise
                offset += sum(_length(elem, obj[i], ctx) for i in range(token))
            decl, obj = elem, obj if none else obj[token]
    return offset


@cache
def _template(decl: Construct):
    try:
        size = decl.sizeof()
    except construct.SizeofError:   # variable size: zero lengths and counts make the smallest instance
        size = 4096
    return decl.parse(bytes(size))


def field_offset(decl: Construct, path: str) -> int:
    """Offset of `path` (e.g. `raw8.payload`) from the start of `decl`, from the declaration alone:
    the sizes of the fields before it, or, where one of them has a variable size, `locate` on an
    all-zero instance (fields of variable size before `path` count as empty)."""
    try:
        return locate(decl, _NO_INSTANCE, path)   # fixed sizes only: no instance (a Const is no obstacle)
    except (construct.SizeofError, *RAW_ERRORS):
        return locate(decl, _template(decl), path)
