"""Applying a declaration to bytes ourselves: the values construct would give, except that an `Array`
of fixed-size elements becomes a zero-copy numpy view (dtype derived from the element declaration,
extent checked first), every failure is a `FormatError` at the exact field path and byte offset,
and the same walk can list the span of every leaf field (what `explain` and `hexdump` show).

Composite constructs (Struct, Array, GreedyRange, RepeatUntil, FocusedSeq/PrefixedArray, Switch,
If, Select/Optional, FixedSized, Prefixed, Padded, Pointer, Peek, adapters such as Enum) are walked
here; any other construct is a leaf parsed by construct itself within the bytes left.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import construct as c
import numpy as np

from .dtypes import struct_dtype
from .errors import FormatError
from .parsing import RAW_ERRORS, join_path

Sink = Callable[["Leaf"], None]


@dataclass(frozen=True)
class Leaf:
    """One field as it sits in the file: absolute `offset`, `size` in bytes, `path`, decoded
    `value`, its declaration and doc."""

    offset: int
    size: int
    path: str
    value: Any
    decl: c.Construct
    doc: str = ""

    @property
    def end(self) -> int:
        return self.offset + self.size


class Window:
    """Collects the leaves that overlap [lo, hi) (all of them when hi is None)."""

    def __init__(self, lo: int = 0, hi: int | None = None):
        self.lo, self.hi = lo, hi
        self.leaves: list[Leaf] = []

    def overlaps(self, start: int, end: int) -> bool:
        return end > self.lo and (self.hi is None or start < self.hi) or (start == end == self.lo)

    def add(self, leaf: Leaf) -> None:
        if self.overlaps(leaf.offset, leaf.end):
            self.leaves.append(leaf)


def evaluate(expr, ctx) -> Any:
    return expr(ctx) if callable(expr) else expr


def _fail(exc: BaseException | str, path: str, pos: int, code: str = "parse") -> FormatError:
    if isinstance(exc, FormatError):
        return exc
    text = exc if isinstance(exc, str) else (" ".join(
        ln for ln in str(exc).splitlines() if not ln.startswith("Error in path")).strip() or type(exc).__name__)
    if isinstance(exc, c.StreamError):
        code = "truncated"
    return FormatError(text, path, pos, code)


@cache
def _fixed_dtype(elem: c.Construct) -> np.dtype | None:
    """numpy dtype of a context-free fixed-size element, or None."""
    try:
        if isinstance(_strip(elem), c.Struct):
            dt = struct_dtype(elem)
        else:
            dt = struct_dtype(c.Struct("v" / elem)).fields["v"][0]
        return dt if dt.itemsize == elem.sizeof() and dt.itemsize > 0 else None
    except (TypeError, c.SizeofError, *RAW_ERRORS):
        return None


def element_dtype(elem: c.Construct, ctx) -> np.dtype | None:
    """numpy dtype of an array element in context: fixed Structs, numbers, fixed Bytes, arrays of
    those whose count is an expression of the context (`Array(this.dimension, Float32l)`), and
    Structs made of such fields (`Struct("id" / Int64ul, "data" / Array(this._.dimension, Float32l))`)."""
    inner = _strip(elem)
    if isinstance(inner, c.Array) and callable(inner.count):
        sub = element_dtype(inner.subcon, ctx)
        try:
            count = evaluate(inner.count, ctx)
        except RAW_ERRORS:
            return None
        if sub is None or not isinstance(count, int) or count < 0:
            return None
        try:
            return np.dtype((sub, (count,)))   # count 0: elements of no bytes (see `frombuffer`)
        except (ValueError, OverflowError):   # a count numpy cannot express: walked, and refused there
            return None
    fixed = _fixed_dtype(elem)
    if fixed is None and isinstance(inner, c.Struct):
        return _struct_in_context(inner, ctx)
    return fixed


def _struct_in_context(struct: c.Struct, ctx) -> np.dtype | None:
    """dtype of a Struct whose every field has a dtype once the enclosing context is known: each
    field is evaluated in the record's own context (`this._` = `ctx`, as construct gives it)."""
    sub = c.Container(_=ctx)
    names, formats, offsets, offset = [], [], [], 0
    for sc in struct.subcons:
        if not sc.name:
            try:
                offset += sc.sizeof()
            except (c.SizeofError, *RAW_ERRORS):
                return None
            continue
        dt = element_dtype(sc, sub)
        if dt is None:
            return None
        names.append(sc.name)
        formats.append(dt)
        offsets.append(offset)
        offset += dt.itemsize
    if not names:
        return None
    return _record_dtype(tuple(names), tuple(formats), tuple(offsets), offset)


@lru_cache(maxsize=256)
def _record_dtype(names: tuple, formats: tuple, offsets: tuple, itemsize: int) -> np.dtype | None:
    """The dtype of one record layout, made once (the same few layouts recur per record)."""
    try:
        return np.dtype({"names": list(names), "formats": list(formats), "offsets": list(offsets),
                         "itemsize": itemsize})
    except (ValueError, OverflowError):
        return None


def frombuffer(data, dtype: np.dtype, count: int, offset: int) -> np.ndarray:
    """`count` elements of `dtype` at `offset` of `data`, zero-copy; elements of no bytes (an
    `Array(this.dimension, ...)` of dimension 0) make an empty (count, 0) array, which numpy's
    frombuffer refuses."""
    if dtype.itemsize == 0:
        return np.zeros((count, *dtype.shape), dtype.base)
    return np.frombuffer(data, dtype=dtype, count=count, offset=offset)


def table_view(data, dtype: np.dtype, count: int, offset: int) -> np.ndarray:
    """An array's value: `frombuffer`, as a recarray when its elements are records."""
    if not dtype.names:
        return frombuffer(data, dtype, count, offset)
    return frombuffer(data, _record_type(dtype), count, offset).view(np.recarray)


@lru_cache(maxsize=256)
def _record_type(dtype: np.dtype) -> np.dtype:
    # a recarray view of a plain structured dtype converts it per call (about 1.5 µs); of this, not
    return np.dtype((np.record, dtype))


def gather(data, dtype: np.dtype, offsets: np.ndarray) -> np.ndarray:
    """A table (copy) of the records of `dtype` that start at `offsets` (each inside `data`)."""
    if not len(offsets):
        return np.zeros(0, dtype)
    return at_every_byte(data, dtype.itemsize)[np.asarray(offsets, np.int64)].view(dtype)


def at_every_byte(data, size: int) -> np.ndarray:
    """`data` as overlapping opaque elements of `size` bytes, one starting at every byte (stride 1):
    one index reads or writes a whole element at any offset (writes must go to disjoint places)."""
    return np.ndarray((len(data) - size + 1,), np.dtype((np.void, size)), data, strides=(1,))


def _strip(sc: c.Construct) -> c.Construct:
    while isinstance(sc, c.Renamed):
        sc = sc.subcon
    return sc


def _child_ctx(ctx, sc) -> c.Container:
    return c.Container(_=ctx, _params=ctx.get("_params"), _root=ctx.get("_root") or ctx, _index=ctx.get("_index"))


def _doc(sc) -> str:
    return (getattr(sc, "docs", "") or "").strip()


class Walker:
    """One walk over `data` (bytes, bytearray, mmap, memoryview).  `numpy=False` gives construct's own
    value types (ListContainer) for every array; `sink` receives leaves inside its window."""

    def __init__(self, data, *, numpy: bool = True, sink: Window | None = None):
        self.data = data
        self.size = len(data)
        self.numpy = numpy
        self.sink = sink
        self.budget = 1 << 16   # elements declared beyond the bytes left (can only be empty ones)
        self.base = 0           # where the current (sub)stream starts: construct's Tell counts from there

    # -- leaves -------------------------------------------------------------------------------
    def _leaf(self, sc, pos: int, end: int, path: str, value, doc: str) -> None:
        if self.sink is not None:
            self.sink.add(Leaf(pos, end - pos, path, value, sc, doc))

    def _wants(self, start: int, end: int) -> bool:
        return self.sink is not None and self.sink.overlaps(start, end)

    # -- the walk -----------------------------------------------------------------------------
    def walk(self, sc, pos: int, end: int, path: str, ctx, doc: str = "") -> tuple[Any, int]:
        if isinstance(sc, c.Renamed):
            name = sc.name
            inner = sc.subcon
            while isinstance(inner, c.Renamed) and inner.name == name:
                inner = inner.subcon
            return self.walk(inner, pos, end, join_path(path, name) if name else path, ctx, _doc(sc) or doc)
        handler = _HANDLERS.get(type(sc))
        if handler is None:
            for kind, fn in _HANDLERS_BY_BASE:
                if isinstance(sc, kind):
                    handler = fn
                    break
        if handler is not None:
            return handler(self, sc, pos, end, path, ctx, doc)
        return self._construct_leaf(sc, pos, end, path, ctx, doc)

    def _construct_leaf(self, sc, pos, end, path, ctx, doc):
        """A construct we do not walk: construct parses it from the bytes left."""
        stream = _View(self.data, pos, end)
        try:
            value = sc._parsereport(stream, _construct_ctx(ctx, stream), path)
        except RAW_ERRORS as exc:
            raise _fail(exc, path, pos) from None
        after = pos + stream.tell()
        self._leaf(sc, pos, after, path, value, doc)
        return value, after

    def attempt(self, sc, pos, end, path, ctx, doc=""):
        """Walk `sc` as a trial (GreedyRange, Select, Peek): its leaves count only if it parses."""
        sink = self.sink
        if sink is not None:
            self.sink = Window(sink.lo, sink.hi)
        try:
            result = self.walk(sc, pos, end, path, ctx, doc)
            if sink is not None:
                sink.leaves.extend(self.sink.leaves)
            return result
        finally:
            self.sink = sink

    def need(self, pos: int, n: int, end: int, path: str) -> None:
        if n < 0 or pos + n > end:
            raise FormatError(f"needs {n} bytes, {max(end - pos, 0)} remain", path, pos, "truncated")


class _View:
    """Minimal stream over data[start:end] for construct leaves (copies only what is read)."""

    def __init__(self, data, start: int, end: int):
        self._mv = memoryview(data)[start:end]
        self._pos = 0

    def read(self, n=-1):
        stop = len(self._mv) if n is None or n < 0 else min(len(self._mv), self._pos + n)
        out = bytes(self._mv[self._pos:stop])
        self._pos = max(self._pos, stop)
        return out

    def tell(self):
        return self._pos

    def seek(self, off, whence=0):
        self._pos = max(0, (0, self._pos, len(self._mv))[whence] + off)
        return self._pos

    def seekable(self):
        return True

    def readable(self):
        return True


def _construct_ctx(ctx, stream) -> c.Container:
    sub = c.Container(ctx)
    sub._io = stream
    sub._parsing, sub._building, sub._sizing = True, False, False
    if sub.get("_params") is None:
        sub._params = c.Container()
    return sub


ZERO_COPY_BYTES = 1 << 20   # byte fields at least this long are memoryviews over the file, not copies


def _slice(data, start: int, stop: int):
    if stop - start >= ZERO_COPY_BYTES:
        return memoryview(data)[start:stop]
    return bytes(data[start:stop])


# --- handlers --------------------------------------------------------------------------------

def _struct(w: Walker, sc: c.Struct, pos, end, path, ctx, doc):
    if w.sink is None:
        plan = _plain_plan(sc)
        if plan is not None:
            done = _run_plain(plan, w, sc, pos, end, ctx)
            if done is not None:
                return done
    obj = c.Container()
    sub = _child_ctx(ctx, sc)
    for field in sc.subcons:
        try:
            value, pos = w.walk(field, pos, end, path, sub)
        except c.StopFieldError:
            break
        if field.name:
            obj[field.name] = sub[field.name] = value
    return obj, pos


# A Struct of plain fields (numbers, Bytes of a constant or computed length, Const of those, the
# bytes left, an Array of fixed-size elements, Optional of a fixed-size field, If of any of these,
# nested such Structs, FixedSized(Switch) of them) is read with one `struct.unpack_from` per run of
# numbers instead of one walk per field.  Any doubt (bytes missing, a Const that does not match, a
# length that does not evaluate) falls back to the walk above, which raises the precise error;
# values are the ones the walk gives.

def this_path(expr) -> list[str] | None:
    """`["header", "compressed_len"]` for `this.header.compressed_len`; None for anything else."""
    if not isinstance(expr, c.expr.Path):
        return None
    names = []
    while expr.__dict__["_Path__parent"] is not None:
        names.append(expr.__getfield__())
        expr = expr.__dict__["_Path__parent"]
    return names[::-1] if expr.__dict__["_Path__name"] == "this" else None


def _own_field(expr, earlier: set) -> tuple | None:
    """`("size",)` for `this.size`, `("header", "size")` for `this.header.size`, when the first name
    is an earlier field of the same Struct."""
    names = this_path(expr)
    return tuple(names) if names and names[0] in earlier else None


def _length(expr, earlier: set):
    """A count, length or key as a plan holds it: an int, ("field", name, ...) or an expression; and
    whether it needs the context."""
    own = _own_field(expr, earlier)
    if own is not None:
        return ("field", *own), False
    return expr, callable(expr)


def _plain_step(field: c.Construct, name, earlier: set):
    """(step, needs_context) for one field, or None when it is not plain."""
    inner = _strip(field)
    while isinstance(inner, c.Default):
        inner = _strip(inner.subcon)
    if isinstance(inner, c.FormatField) and inner.fmtstr[0] in "<>":
        return ("fmt", inner.fmtstr, name), False
    if isinstance(inner, c.Adapter) and isinstance(_strip(inner.subcon), c.FormatField) \
            and _strip(inner.subcon).fmtstr[0] in "<>":   # Enum, FlagsEnum...: decoded in context
        return ("adapt", _strip(inner.subcon).fmtstr, name, inner), True
    if isinstance(inner, c.Bytes):
        length, needs = _length(inner.length, earlier)
        return ("bytes", length, name), needs
    if inner is c.GreedyBytes:
        return ("rest", None, name), False
    if isinstance(inner, c.Array):
        count, needs = _length(inner.count, earlier)
        fixed = _fixed_dtype(inner.subcon)      # else the element's dtype depends on the context
        return ("array", count, name, inner.subcon, fixed), needs or fixed is None
    if isinstance(inner, c.Select) and len(inner.subcons) == 2 and inner.subcons[1] is c.Pass:
        return _optional(inner.subcons[0], name, earlier)
    if isinstance(inner, c.IfThenElse) and inner.elsesubcon is c.Pass:
        then = _plain_step(inner.thensubcon, name, earlier)
        return None if then is None else (("if", inner.condfunc, name, _compiled(then[0])), True)
    if isinstance(inner, c.Struct):
        plan = _plain_plan(inner)
        return None if plan is None else (("struct", inner, name, plan), False)
    if isinstance(inner, c.FixedSized) and isinstance(_strip(inner.subcon), c.Switch):
        length, _ = _length(inner.length, earlier)
        return ("sized", length, name, _sized_cases(_strip(inner.subcon), earlier)), True
    return None


def _sized_cases(switch: c.Switch, earlier: set):
    """FixedSized(Switch(key, cases)) as a plan reads it: (key, {key: alternative}, default), an
    alternative being None (the bytes, GreedyBytes), (Struct, its plan) for a Struct or for
    Select(Struct, GreedyBytes) (a Struct that does not read is left to the walk, which knows whether
    the bytes apply), or _WALK for anything else."""
    def alternative(case):
        inner = _strip(case)
        if inner is c.GreedyBytes:
            return None
        if isinstance(inner, c.Select) and len(inner.subcons) == 2 and _strip(inner.subcons[1]) is c.GreedyBytes:
            inner = _strip(inner.subcons[0])
        plan = _plain_plan(inner) if isinstance(inner, c.Struct) else None
        return _WALK if plan is None else (inner, plan)
    return (_length(switch.keyfunc, earlier)[0], {k: alternative(v) for k, v in switch.cases.items()},
            alternative(switch.default))


def _optional(sub: c.Construct, name, earlier: set):
    """Optional(X): X when its bytes are there, else None.  Only for an X of constant size that can
    fail in no other way (numbers, fixed Bytes, Structs of those)."""
    inner = _strip(sub)
    try:
        size = inner.sizeof()
    except (c.SizeofError, *RAW_ERRORS):
        return None
    if isinstance(inner, c.Struct):
        plan = _plain_plan(inner)
        if plan is None or plan[1] or any(step[0] not in ("fmt", "bytes") for step in plan[0]):
            return None
        return ("optional", size, name, ("struct", inner, plan)), False
    step = _plain_step(sub, name, earlier)
    if step is None or step[0][0] != "fmt":
        return None
    return ("optional", size, name, _compiled(step[0])), False


def _compiled(step: tuple) -> tuple:
    """A step with its number format as a `struct.Struct`."""
    kind, a, b, *rest = step
    return (kind, struct.Struct(a), b, *rest) if kind in ("fmt", "adapt") else step


@cache
def _plain_plan(sc: c.Struct) -> tuple | None:
    """(steps, needs_context): steps are ("fmt", struct.Struct, names, posts) for a run of fixed-size
    fields read by one unpack (posts: per field None, ("const", value) or ("adapt", adapter); None
    for a run without any), ("bytes", length, name) with length ("field", name, ...) or an
    expression, ("rest", None, name), ("array", count, name, element, fixed dtype or None),
    ("optional", size, name, step), ("if", condition, name, step), ("struct", Struct, name, plan),
    ("sized", length, name, `_sized_cases`) and ("const", name, step, value).  Inside "optional" and
    "if", a number is ("fmt", struct.Struct, name) and an adapted one ("adapt", struct.Struct, name,
    adapter)."""
    steps: list = []
    run: list = []          # the fixed-size fields read by the next single unpack: (order, code, name, post)
    earlier: set = set()
    needs_context = False
    for field in sc.subcons:
        name = field.name
        inner = _strip(field)
        while isinstance(inner, c.Default):
            inner = _strip(inner.subcon)
        const = None
        if isinstance(inner, c.Const):
            const, inner = inner.value, _strip(inner.subcon)
        planned = _plain_step(inner, name, earlier)
        if planned is None:
            return None
        step, needs = planned
        needs_context |= needs
        if name:
            earlier.add(name)
        if const is not None and step[0] not in ("fmt", "bytes"):
            return None
        part = _run_part(step, const)
        order = _order(run)
        if part is not None and (order is None or part[0] is None or part[0] == order):
            run.append(part)
            continue
        _flush_run(run, steps)
        if part is not None:
            run = [part]
        elif const is not None:
            steps.append(("const", name, _compiled(step), const))
        else:
            steps.append(_compiled(step))
    _flush_run(run, steps)
    return tuple(steps), needs_context


def _run_part(step: tuple, const) -> tuple | None:
    """(byte order or None, struct code, name, post) of a field one `struct.unpack_from` can read with
    its neighbours: a number, an adapted number (post: ("adapt", adapter)), Bytes of a constant length
    (copied, as `_slice` copies them), each possibly a Const (post: ("const", value))."""
    kind = step[0]
    if kind == "fmt":
        order, code, post = step[1][0], step[1][1:], None
    elif kind == "adapt" and const is None:
        order, code, post = step[1][0], step[1][1:], ("adapt", step[3])
    elif kind == "bytes" and isinstance(step[1], int) and 0 <= step[1] < ZERO_COPY_BYTES:
        order, code, post = None, f"{step[1]}s", None
    else:
        return None
    return order, code, step[2], post if const is None else ("const", const)


def _order(run: list) -> str | None:
    """The byte order of a run's numbers (None while it holds only bytes)."""
    return next((part[0] for part in run if part[0] is not None), None)


def _flush_run(run: list, steps: list) -> None:
    """One ("fmt", struct.Struct, names, posts) step for the fields of `run` (posts None when no
    field needs one), then `run` emptied."""
    if not run:
        return
    posts = tuple(part[3] for part in run)
    steps.append(("fmt", struct.Struct((_order(run) or "<") + "".join(part[1] for part in run)),
                  tuple(part[2] for part in run), None if not any(posts) else posts))
    run.clear()


_NOTHING = object()     # a plan step that cannot decide: the walk does
_WALK = object()        # an alternative of a sized Switch that only the walk reads


def _run_plain(plan: tuple, w: Walker, sc: c.Struct, pos: int, end: int, ctx):
    steps, needs_context = plan
    obj = c.Container()
    sub = _child_ctx(ctx, sc) if needs_context else obj
    data = w.data
    for step in steps:
        kind = step[0]
        if kind == "fmt":
            fmt, names, posts = step[1], step[2], step[3]
            if pos + fmt.size > end:
                return None
            values = fmt.unpack_from(data, pos)
            if posts is None:
                for name, value in zip(names, values):
                    if name:
                        obj[name] = sub[name] = value
            else:
                for name, value, post in zip(names, values, posts):
                    if post is not None:
                        if post[0] == "const":
                            if value != post[1]:
                                return None
                        else:
                            try:
                                value = post[1]._decode(value, sub, name)
                            except RAW_ERRORS:
                                return None
                    if name:
                        obj[name] = sub[name] = value
            pos += fmt.size
            continue
        if kind == "const":
            name, inner, want = step[1], step[2], step[3]
            value, pos = _plain_value(inner, w, data, pos, end, sub)
            if value is _NOTHING or value != want:
                return None
        else:
            name = step[2]
            value, pos = _plain_value(step, w, data, pos, end, sub)
            if value is _NOTHING:
                return None
        if name:
            obj[name] = sub[name] = value
    return obj, pos


def _resolved(length, sub):
    """A plan's count, length or key in the record's context (_NOTHING when it does not evaluate)."""
    try:
        if isinstance(length, tuple):
            value = sub[length[1]]
            for name in length[2:]:
                value = value[name]
            return value
        return evaluate(length, sub)
    except RAW_ERRORS:
        return _NOTHING


def _sized(step, w: Walker, data, pos: int, end: int, sub):
    """FixedSized(n, Switch(...)): the case's Struct read inside the n bytes (the bytes themselves
    for GreedyBytes, and for Select(Struct, GreedyBytes) when the Struct does not read)."""
    key, cases, default = step[3]
    n = _resolved(step[1], sub)
    key = _resolved(key, sub)
    try:
        alternative = _WALK if key is _NOTHING else cases.get(key, default)
    except TypeError:      # an unhashable key
        return _NOTHING, pos
    if not isinstance(n, int) or n < 0 or pos + n > end or alternative is _WALK:
        return _NOTHING, pos
    if alternative is not None:
        decl, plan = alternative
        base, w.base = w.base, pos           # as `_substream`: the case sees only its n bytes
        try:
            done = _run_plain(plan, w, decl, pos, pos + n, sub)
        finally:
            w.base = base
        if done is None:
            return _NOTHING, pos             # unread or failed: whether GreedyBytes applies, the walk says
        return done[0], pos + n
    return _slice(data, pos, pos + n), pos + n


def _plain_value(step, w: Walker, data, pos: int, end: int, sub):
    """(value, position after) of one step, or (_NOTHING, pos) when the walk must decide."""
    kind = step[0]
    if kind in ("fmt", "adapt"):
        fmt = step[1]
        if pos + fmt.size > end:
            return _NOTHING, pos
        value = fmt.unpack_from(data, pos)[0]
        if kind == "adapt":
            try:
                value = step[3]._decode(value, sub, step[2])
            except RAW_ERRORS:
                return _NOTHING, pos
        return value, pos + fmt.size
    if kind == "rest":
        return _slice(data, pos, end), end
    if kind == "optional":
        size, inner = step[1], step[3]
        if pos + size > end:
            return None, pos
        if inner[0] == "struct":
            done = _run_plain(inner[2], w, inner[1], pos, end, sub)
            return (_NOTHING, pos) if done is None else done
        return _plain_value(inner, w, data, pos, end, sub)
    if kind == "if":
        try:
            taken = evaluate(step[1], sub)
        except RAW_ERRORS:
            return _NOTHING, pos
        return _plain_value(step[3], w, data, pos, end, sub) if taken else (None, pos)
    if kind == "struct":
        done = _run_plain(step[3], w, step[1], pos, end, sub)
        return (_NOTHING, pos) if done is None else done
    if kind == "sized":
        return _sized(step, w, data, pos, end, sub)
    n = _resolved(step[1], sub)
    if not isinstance(n, int) or n < 0:
        return _NOTHING, pos
    if kind == "bytes":
        if pos + n > end:
            return _NOTHING, pos
        return _slice(data, pos, pos + n), pos + n
    # an array of fixed-size elements: a numpy view, as `_array` gives it
    dtype = step[4] if step[4] is not None else element_dtype(step[3], sub)
    if dtype is None or not w.numpy or pos + n * dtype.itemsize > end:
        return _NOTHING, pos
    return table_view(data, dtype, n, pos), pos + n * dtype.itemsize


def _focused(w: Walker, sc: c.FocusedSeq, pos, end, path, ctx, doc):
    sub = _child_ctx(ctx, sc)
    focus = evaluate(sc.parsebuildfrom, sub)
    result = None
    for field in sc.subcons:
        inner = _strip(field) if field.name == focus else field   # PrefixedArray's items: no label
        value, pos = w.walk(inner, pos, end, path, sub, doc)
        if field.name:
            sub[field.name] = value
        if field.name == focus:
            result = value
    return result, pos


def _count(w: Walker, sc, pos, end, path, ctx) -> int:
    try:
        count = evaluate(sc.count, ctx)
    except RAW_ERRORS as exc:
        raise _fail(f"array count: {exc}", path, pos) from None
    if not isinstance(count, int) or count < 0:
        raise FormatError(f"invalid count {count!r}", path, pos, "bad_count")
    return count


def _array(w: Walker, sc: c.Array, pos, end, path, ctx, doc):
    count = _count(w, sc, pos, end, path, ctx)
    dtype = element_dtype(sc.subcon, ctx) if w.numpy or w.sink is not None else None
    if dtype is not None:
        size = count * dtype.itemsize
        if pos + size > end:
            raise FormatError(f"{count} elements of {dtype.itemsize} bytes need {size} bytes, "
                              f"{max(end - pos, 0)} remain", path, pos, "truncated")
        if w._wants(pos, pos + size):     # the table is not walked element by element: its leaves, in the window
            _array_leaves(w, sc.subcon, dtype.itemsize, count, pos, end, path, ctx)
        if w.numpy:
            return table_view(w.data, dtype, count, pos), pos + size
        sink, w.sink = w.sink, None        # the leaves were listed above, for the window only
        try:
            out = c.ListContainer(w.walk(sc.subcon, pos + i * dtype.itemsize, end, f"{path}[{i}]", ctx)[0]
                                  for i in range(count))
        finally:
            w.sink = sink
        return out, pos + size
    excess = count - (end - pos)
    if excess > 0:
        w.budget -= excess
        if w.budget < 0:
            raise FormatError(f"count {count} exceeds the {end - pos} bytes left", path, pos, "bad_count")
    out = c.ListContainer()
    for i in range(count):
        ctx._index = i
        value, after = w.walk(sc.subcon, pos, end, f"{path}[{i}]", ctx)
        out.append(value)
        pos = after
    return out, pos


def _array_leaves(w: Walker, elem, itemsize: int, count: int, pos, end, path, ctx) -> None:
    """Leaves of the elements of a fixed-size array that overlap the window (only those are walked)."""
    if not itemsize:
        return
    lo = max(0, (w.sink.lo - pos) // itemsize)
    hi = count if w.sink.hi is None else min(count, -(-(w.sink.hi - pos) // itemsize))
    numpy, w.numpy = w.numpy, False
    try:
        for i in range(lo, hi):
            ctx._index = i
            w.walk(elem, pos + i * itemsize, end, f"{path}[{i}]", ctx)
    finally:
        w.numpy = numpy


def _greedy(w: Walker, sc: c.GreedyRange, pos, end, path, ctx, doc):
    out = c.ListContainer()
    while pos < end:
        try:
            value, after = w.attempt(sc.subcon, pos, end, f"{path}[{len(out)}]", ctx)
        except FormatError:
            break
        if after == pos:
            break
        out.append(value)
        pos = after
    return out, pos


def _repeat_until(w: Walker, sc: c.RepeatUntil, pos, end, path, ctx, doc):
    out = c.ListContainer()
    while True:
        before = pos
        value, pos = w.walk(sc.subcon, pos, end, f"{path}[{len(out)}]", ctx)
        out.append(value)
        if sc.predicate(value, out, ctx):
            return out, pos
        if pos == before:
            raise FormatError("repeated element consumes no bytes", path, pos, "bad_count")


def _format_field(w: Walker, sc: c.FormatField, pos, end, path, ctx, doc):
    w.need(pos, sc.length, end, path)
    value = struct.unpack_from(sc.fmtstr, w.data, pos)[0]
    w._leaf(sc, pos, pos + sc.length, path, value, doc)
    return value, pos + sc.length


def _bytes(w: Walker, sc: c.Bytes, pos, end, path, ctx, doc):
    try:
        n = evaluate(sc.length, ctx)
    except RAW_ERRORS as exc:
        raise _fail(f"length: {exc}", path, pos) from None
    if not isinstance(n, int):
        raise FormatError(f"invalid length {n!r}", path, pos, "bad_length")
    w.need(pos, n, end, path)
    value = _slice(w.data, pos, pos + n)
    w._leaf(sc, pos, pos + n, path, value, doc)
    return value, pos + n


def _greedy_bytes(w: Walker, sc, pos, end, path, ctx, doc):
    value = _slice(w.data, pos, end)
    w._leaf(sc, pos, end, path, value, doc)
    return value, end


def _adapter(w: Walker, sc: c.Adapter, pos, end, path, ctx, doc):
    sink, w.sink = w.sink, None      # an adapted field is one leaf with the decoded value
    try:
        raw, after = w.walk(sc.subcon, pos, end, path, ctx)
    finally:
        w.sink = sink
    try:
        value = sc._decode(raw, ctx, path)
    except RAW_ERRORS as exc:
        raise _fail(exc, path, pos) from None
    w._leaf(sc, pos, after, path, value, doc)
    return value, after


def _const(w: Walker, sc: c.Const, pos, end, path, ctx, doc):
    sink, w.sink = w.sink, None
    try:
        value, after = w.walk(sc.subcon, pos, end, path, ctx)
    finally:
        w.sink = sink
    if value != sc.value:
        raise FormatError(f"expected {sc.value!r}, found {value!r}", path, pos, "bad_magic")
    w._leaf(sc, pos, after, path, value, doc)
    return value, after


def _passthrough(w: Walker, sc, pos, end, path, ctx, doc):   # Default, Rebuild, Transformed-free wrappers
    return w.walk(sc.subcon, pos, end, path, ctx, doc)


def _computed(w: Walker, sc: c.Computed, pos, end, path, ctx, doc):
    try:
        return evaluate(sc.func, ctx), pos
    except RAW_ERRORS as exc:
        raise _fail(exc, path, pos) from None


def _pass(w: Walker, sc, pos, end, path, ctx, doc):
    return None, pos


def _tell(w: Walker, sc, pos, end, path, ctx, doc):
    return pos - w.base, pos


def _check(w: Walker, sc: c.Check, pos, end, path, ctx, doc):   # a condition, not a field: no leaf
    try:
        ok = evaluate(sc.func, ctx)
    except RAW_ERRORS as exc:
        raise _fail(exc, path, pos) from None
    if not ok:
        raise FormatError("check failed", path, pos, "check")
    return None, pos


def _if(w: Walker, sc: c.IfThenElse, pos, end, path, ctx, doc):
    try:
        cond = evaluate(sc.condfunc, ctx)
    except RAW_ERRORS as exc:
        raise _fail(exc, path, pos) from None
    return w.walk(sc.thensubcon if cond else sc.elsesubcon, pos, end, path, ctx, doc)


def _switch(w: Walker, sc: c.Switch, pos, end, path, ctx, doc):
    try:
        key = evaluate(sc.keyfunc, ctx)
    except RAW_ERRORS as exc:
        raise _fail(exc, path, pos) from None
    return w.walk(sc.cases.get(key, sc.default), pos, end, path, ctx, doc)


def _select(w: Walker, sc: c.Select, pos, end, path, ctx, doc):
    for sub in sc.subcons:
        try:
            return w.attempt(sub, pos, end, path, ctx, doc)
        except FormatError:
            continue
    raise FormatError("no alternative matched", path, pos, "parse")


def _substream(w: Walker, sc, start: int, n: int, path, ctx, doc):
    """Walk `sc` over data[start:start + n] as construct does over a substream (Tell counts from start)."""
    base, w.base = w.base, start
    try:
        return w.walk(sc, start, start + n, path, ctx, doc)[0]
    finally:
        w.base = base


def _fixed_sized(w: Walker, sc: c.FixedSized, pos, end, path, ctx, doc):
    n = evaluate(sc.length, ctx)
    w.need(pos, n, end, path)
    return _substream(w, sc.subcon, pos, n, path, ctx, doc), pos + n


def _prefixed(w: Walker, sc: c.Prefixed, pos, end, path, ctx, doc):
    n, start = w.walk(sc.lengthfield, pos, end, join_path(path, "length"), ctx)
    if sc.includelength:
        n -= start - pos
    w.need(start, n, end, path)
    return _substream(w, sc.subcon, start, n, path, ctx, doc), start + n


def _padded(w: Walker, sc: c.Padded, pos, end, path, ctx, doc):
    n = evaluate(sc.length, ctx)
    w.need(pos, n, end, path)
    if sc.subcon is c.Pass:
        w._leaf(sc, pos, pos + n, path, bytes(w.data[pos:pos + n]), doc or "padding")
        return None, pos + n
    value, _ = w.walk(sc.subcon, pos, pos + n, path, ctx, doc)
    return value, pos + n


def _pointer(w: Walker, sc: c.Pointer, pos, end, path, ctx, doc):
    at = evaluate(sc.offset, ctx)      # relative to the (sub)stream, as construct seeks
    if not isinstance(at, int) or not 0 <= w.base + at <= end:
        raise FormatError(f"pointer {at!r} is outside the {end - w.base} bytes", path, pos, "bad_offset")
    value, _ = w.walk(sc.subcon, w.base + at, end, path, ctx, doc)
    return value, pos


def _peek(w: Walker, sc: c.Peek, pos, end, path, ctx, doc):
    try:
        value, _ = w.attempt(sc.subcon, pos, end, path, ctx, doc)
    except FormatError:
        value = None
    return value, pos


_HANDLERS: dict[type, Callable] = {
    c.Struct: _struct, c.FocusedSeq: _focused, c.Array: _array, c.GreedyRange: _greedy,
    c.RepeatUntil: _repeat_until, c.FormatField: _format_field, c.Bytes: _bytes,
    type(c.GreedyBytes): _greedy_bytes, c.Const: _const, c.Computed: _computed,
    c.Default: _passthrough, c.Rebuild: _passthrough, type(c.Pass): _pass, c.IfThenElse: _if,
    c.Switch: _switch, c.Select: _select, c.FixedSized: _fixed_sized, c.Prefixed: _prefixed,
    c.Padded: _padded, c.Pointer: _pointer, c.Peek: _peek, type(c.Tell): _tell,
    c.Check: _check,
}
_HANDLERS_BY_BASE: tuple = ((c.Adapter, _adapter),)


# --- entry points ------------------------------------------------------------------------------

def root_context(**context: Any) -> c.Container:
    # no `_root` key pointing at itself: a self-referencing context (layouts keep every section's
    # value in it) lives until the cycle collector runs, and with it the file's mmap; the contexts
    # below take this one as their `_root` (`_child_ctx`), as construct's own do
    ctx = c.Container(**context)
    ctx._params = c.Container(**context)
    return ctx


def parse_value(decl: c.Construct, data, offset: int = 0, path: str = "", end: int | None = None, *,
                numpy: bool = True, ctx: c.Container | None = None, **context: Any) -> tuple[Any, int]:
    """(value, offset after it) of `decl` at `offset` of `data`, read no further than `end`."""
    stop = len(data) if end is None else min(end, len(data))
    if not 0 <= offset <= stop:
        raise FormatError(f"offset {offset} is outside the {len(data)} bytes", path, offset, "truncated")
    walker = Walker(data, numpy=numpy)
    walker.base = offset
    return walker.walk(decl, offset, stop, path, ctx if ctx is not None else root_context(**context))


def leaves(decl: c.Construct, data, offset: int = 0, path: str = "", end: int | None = None, *,
           lo: int = 0, hi: int | None = None, ctx: c.Container | None = None,
           **context: Any) -> tuple[list[Leaf], FormatError | None]:
    """The leaf fields of `decl` at `offset` overlapping [lo, hi), in file order, and the error that
    stopped the walk (None when the declaration parsed to its end)."""
    window = Window(lo, hi)
    walker = Walker(data, numpy=True, sink=window)
    walker.base = offset
    stop = len(data) if end is None else min(end, len(data))
    try:
        walker.walk(decl, offset, stop, path, ctx if ctx is not None else root_context(**context))
        err = None
    except FormatError as exc:
        err = exc
    return sorted(window.leaves, key=lambda leaf: leaf.offset), err


def iter_elements(decl: c.Construct, data, offset: int, end: int, path: str, ctx=None,
                  limit: int | None = None) -> Iterator[tuple[int, Any, int]]:
    """(start, value, after) of consecutive elements from `offset` until `end`, `limit` elements or
    the first element that does not parse, which is raised as FormatError after the good ones."""
    ctx = ctx if ctx is not None else root_context()
    walker = Walker(data, numpy=True)
    pos, i = offset, 0
    while pos < end and (limit is None or i < limit):
        ctx._index = i
        value, after = walker.walk(decl, pos, end, f"{path}[{i}]", ctx)
        if after <= pos:
            raise FormatError("element consumes no bytes", f"{path}[{i}]", pos, "bad_count")
        yield pos, value, after
        pos, i = after, i + 1
