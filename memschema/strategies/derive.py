"""`from_construct`: a hypothesis strategy of values for a construct declaration.

The declaration is compiled once into a tree of drawers (unsupported classes raise `TypeError`
naming the declaration path at that point, not at draw time).  Drawing walks the tree like
construct's own builder: a Struct draws its fields in order into a context that mirrors construct's
(`_`, `_index`, earlier siblings), so `Bytes(this.size)`, `Array(this.count, ...)` and
`Switch(this.kind, ...)` are evaluated against the values already drawn.

Integer fields that a later length or count refers to are drawn small (found by evaluating every
length/count/key expression against a recording context), and fields that select a `Switch` case
are drawn from the case keys most of the time, so examples stay small and reach every case.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import construct as c
from construct import Container, ListContainer
from construct.core import EnumIntegerString
from hypothesis import reject
from hypothesis import strategies as st

MAX_BYTES = 1 << 16        # a drawn length above this is rejected (the example would be huge)
MAX_COUNT = 256            # likewise for element counts
SMALL_LENGTH = 48          # range of integer fields used as byte lengths
SMALL_COUNT = 3            # range of integer fields used as element counts
GREEDY_ITEMS = 3           # elements drawn for a GreedyRange
GREEDY_BYTES = 32          # bytes drawn for a GreedyBytes
LONG_BYTES = 64            # longer Bytes are drawn as head + repeated byte + tail

Draw = Callable[[Callable, Container], Any]
OMIT = object()            # a field the builder computes itself (Computed, Rebuild, Padding, Checksum)

SUPPORTED = (
    "FormatField (Int*/Float*), BytesInteger, BitsInteger, VarInt, ZigZag, Flag, Bytes, GreedyBytes, "
    "Const, Enum, FlagsEnum, Struct, Sequence, FocusedSeq, Array, GreedyRange, PrefixedArray, Prefixed, "
    "Switch, IfThenElse/If, Optional, Padding/Padded, Aligned, FixedSized, NullTerminated, NullStripped, "
    "StringEncoded (PaddedString, CString, PascalString), Computed, Rebuild, Default, Checksum, RawCopy, "
    "Compressed, CompressedLZ4, Transformed/Restreamed (BitStruct), Hex/HexDump, Renamed, LazyBound, "
    "Pass, Terminated, Check, Tell, Index; any other construct with a fixed size is drawn by parsing "
    "random bytes of that size"
)


@dataclass
class Node:
    draw: Draw
    omit: bool = False              # not part of the value given to build


# --- which fields are lengths, counts or switch keys ----------------------------------------

class _Recorder:
    """Stands in for the context when evaluating an expression; records every name looked up."""

    def __init__(self, sink: set, path: tuple = ()):
        object.__setattr__(self, "_sink", sink)
        object.__setattr__(self, "_path", path)

    def __getitem__(self, name):
        path = self._path + (name,)
        self._sink.add(path)
        return _Recorder(self._sink, path)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def _same(self, *_):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __floordiv__ = __rfloordiv__ = _same
    __truediv__ = __rtruediv__ = __mod__ = __rmod__ = __and__ = __rand__ = __or__ = __ror__ = _same
    __lshift__ = __rshift__ = __neg__ = __pos__ = __xor__ = __pow__ = __call__ = _same

    def __int__(self):
        return 1

    __index__ = __len__ = __int__

    def __bool__(self):
        return True

    def __iter__(self):
        return iter(())

    def __eq__(self, other):
        return False

    def __lt__(self, other):
        return False

    __le__ = __gt__ = __ge__ = __ne__ = __lt__
    __hash__ = object.__hash__


def _recorded(expr) -> set[tuple]:
    if not callable(expr):
        return set()
    sink: set = set()
    try:
        expr(_Recorder(sink))
    except Exception:  # noqa: BLE001 - only the names looked up matter
        pass
    return {p for p in sink if p and isinstance(p[0], str)}


_LEVELS = (c.Struct, c.Sequence, c.FocusedSeq)


def _children(decl) -> list:
    if isinstance(decl, (c.Struct, c.Sequence, c.FocusedSeq, c.Select)):
        return list(decl.subcons)
    if isinstance(decl, c.Switch):
        return list(decl.cases.values()) + [decl.default]
    if isinstance(decl, c.IfThenElse):
        return [decl.thensubcon, decl.elsesubcon]
    if isinstance(decl, c.Prefixed):
        return [decl.lengthfield, decl.subcon]
    if isinstance(decl, c.Checksum):
        return [decl.checksumfield]
    sub = getattr(decl, "subcon", None)
    return [sub] if isinstance(sub, c.Construct) else []


def _own_refs(decl) -> list[tuple[tuple, tuple]]:
    """(path, hint) for the expressions of this node itself."""
    out = []
    if isinstance(decl, (c.Bytes, c.FixedSized, c.Padded)):
        out += [(p, ("size", SMALL_LENGTH)) for p in _recorded(decl.length)]
    elif isinstance(decl, c.Array):
        out += [(p, ("size", SMALL_COUNT)) for p in _recorded(decl.count)]
    elif isinstance(decl, c.Switch):
        keys = tuple(decl.cases)
        out += [(p, ("choices", keys)) for p in _recorded(decl.keyfunc)]
    return out


def _refs(decl, seen=None) -> list[tuple[tuple, tuple]]:
    """References made by `decl` and its descendants, relative to the context `decl` is built in."""
    seen = set() if seen is None else seen
    if id(decl) in seen:
        return []
    seen = seen | {id(decl)}
    out = _own_refs(decl)
    for child in _children(decl):
        for path, hint in _refs(child, seen):
            if isinstance(decl, _LEVELS):
                if path[0] == "_" and len(path) > 1:
                    out.append((path[1:], hint))
            else:
                out.append((path, hint))
    return out


# --- compiling declarations into drawers ----------------------------------------------------

def _evaluate(expr, ctx) -> Any:
    try:
        return c.evaluate(expr, ctx)
    except Exception:  # noqa: BLE001 - the value it needs is built later (Rebuild) or absent
        return None


def _int_range(fmt: str, size: int) -> tuple[int, int] | None:
    code = fmt[-1]
    if code in "bhilqn":
        return -(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1
    if code in "BHILQN":
        return 0, (1 << (8 * size)) - 1
    return None


def _floats(size: int):
    return st.floats(width={2: 16, 4: 32, 8: 64}[size], allow_nan=True, allow_infinity=True)


def _ints(lo: int, hi: int, hint) -> Any:
    if hint and hint[0] == "size":
        return st.integers(max(lo, 0), max(lo, min(hi, hint[1])))
    if hint and hint[0] == "choices":
        keys = [k for k in hint[1] if isinstance(k, int) and not isinstance(k, bool) and lo <= k <= hi]
        if keys:
            return st.sampled_from(keys) | st.integers(lo, hi)
    edges = st.sampled_from(sorted({lo, hi, 0 if lo <= 0 <= hi else lo, min(hi, lo + 1)}))
    return st.integers(lo, hi) | edges


def _sized_bytes(n: int):
    """Exactly `n` bytes; long ones are a random head and tail around a repeated byte, so a
    4 KiB content area costs a few dozen choices instead of 4096."""
    if n <= LONG_BYTES:
        return st.binary(min_size=n, max_size=n)
    edge = LONG_BYTES // 2
    return st.builds(lambda head, fill, tail: head + bytes([fill]) * (n - len(head) - len(tail)) + tail,
                     st.binary(max_size=edge), st.sampled_from([0, 0xFF]) | st.integers(0, 255),
                     st.binary(max_size=edge))


class _Compiler:
    def __init__(self, overrides: dict):
        self.overrides = overrides
        self.lazy: dict[int, Node] = {}

    def override(self, path: str):
        if not self.overrides:
            return None
        bare = path.replace("[]", "")
        for key in (path, bare, bare.rsplit(".", 1)[-1]):
            if key in self.overrides:
                return self.overrides[key]
        return None

    def compile(self, decl, path: str, hint=None, hints=None) -> Node:
        node = self._compile(decl, path, hint, hints or {})
        found = self.override(path) if path else None
        if found is None:
            return node

        def draw_override(draw, ctx, found=found):
            value = found(ctx) if callable(found) and not isinstance(found, st.SearchStrategy) else found
            return draw(value) if isinstance(value, st.SearchStrategy) else value
        return Node(draw_override, node.omit)

    def _compile(self, d, path: str, hint, hints: dict) -> Node:  # noqa: C901 - one branch per class
        cp = self.compile
        if isinstance(d, c.Renamed):
            return cp(d.subcon, path, hint, hints)
        if isinstance(d, c.FormatField):
            size = struct.calcsize(d.fmtstr)
            rng = _int_range(d.fmtstr, size)
            if rng is not None:
                s = _ints(*rng, hint)
            elif d.fmtstr[-1] in "efd":
                s = _floats(size)
            elif d.fmtstr[-1] == "?":
                s = st.booleans()
            else:
                s = st.binary(min_size=size, max_size=size)
            return Node(lambda draw, ctx: draw(s))
        if isinstance(d, (c.BytesInteger, c.BitsInteger)):
            def draw_int(draw, ctx):
                n = _evaluate(d.length, ctx)
                if not isinstance(n, int) or n < 0:
                    reject()
                bits = 8 * n if isinstance(d, c.BytesInteger) else n
                lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if d.signed and bits else (0, (1 << bits) - 1)
                return draw(_ints(lo, hi, hint))
            return Node(draw_int)
        if d is c.VarInt or isinstance(d, type(c.VarInt)):
            return Node(lambda draw, ctx: draw(_ints(0, (1 << 64) - 1, hint)))
        if d is c.ZigZag or isinstance(d, type(c.ZigZag)):
            return Node(lambda draw, ctx: draw(_ints(-(1 << 63), (1 << 63) - 1, hint)))
        if d is c.Flag or isinstance(d, type(c.Flag)):
            return Node(lambda draw, ctx: draw(st.booleans()))
        if isinstance(d, c.Const):
            return Node(lambda draw, ctx: d.value)
        if isinstance(d, c.Bytes):
            def draw_bytes(draw, ctx):
                n = _evaluate(d.length, ctx)
                if n is None:
                    n = draw(st.integers(0, SMALL_LENGTH))
                if not isinstance(n, int) or not 0 <= n <= MAX_BYTES:
                    reject()
                return draw(_sized_bytes(n))
            return Node(draw_bytes)
        if d is c.GreedyBytes or isinstance(d, type(c.GreedyBytes)):
            return Node(lambda draw, ctx: draw(st.binary(max_size=GREEDY_BYTES)))
        if isinstance(d, c.FlagsEnum):
            base = self._compile(d.subcon, path, None, {})
            flags = [v for v in d.flags.values() if isinstance(v, int)]

            def draw_flags(draw, ctx):
                if flags and draw(st.booleans()):
                    chosen = draw(st.lists(st.sampled_from(flags), max_size=len(flags)))
                    out = 0
                    for f in chosen:
                        out |= f
                    return out
                return base.draw(draw, ctx)
            return Node(draw_flags)
        if isinstance(d, c.Enum):
            base = self._compile(d.subcon, path, None, {})
            names = [EnumIntegerString.new(v, k) for v, k in d.decmapping.items()
                     if isinstance(v, int) and isinstance(k, str)]
            preferred = [n for n in names if hint and hint[0] == "choices" and (n in hint[1] or n.int in hint[1])]

            def draw_enum(draw, ctx):
                pick = draw(st.integers(0, 3))
                if preferred and pick == 0:
                    return draw(st.sampled_from(preferred))
                if names and pick < 3:
                    return draw(st.sampled_from(names))
                value = base.draw(draw, ctx)
                if value in d.decmapping:
                    return EnumIntegerString.new(value, d.decmapping[value])
                return value
            return Node(draw_enum)
        if isinstance(d, (c.Hex, c.HexDump)):
            return cp(d.subcon, path, hint, hints)
        if isinstance(d, c.StringEncoded):
            return self._string(d, path)
        if isinstance(d, c.Struct):
            return self._struct(d, path, hints)
        if isinstance(d, c.Sequence):
            subs = [cp(sc, f"{path}[{i}]") for i, sc in enumerate(d.subcons)]

            def draw_seq(draw, ctx):
                inner = Container(_=ctx, _params=ctx.get("_params"), _root=None, _parsing=False,
                                  _building=True, _sizing=False, _io=None, _index=ctx.get("_index"))
                out = ListContainer()
                for sc, node in zip(d.subcons, subs):
                    v = node.draw(draw, inner)
                    out.append(None if v is OMIT else v)
                    if sc.name:
                        inner[sc.name] = v
                return out
            return Node(draw_seq)
        if isinstance(d, c.FocusedSeq):
            return self._struct(d, path, hints, focus=d.parsebuildfrom)
        if isinstance(d, c.Array):
            elem = cp(d.subcon, path + "[]", None, hints)

            def draw_array(draw, ctx):
                n = _evaluate(d.count, ctx)
                if n is None:
                    n = draw(st.integers(0, SMALL_COUNT))
                if not isinstance(n, int) or not 0 <= n <= MAX_COUNT:
                    reject()
                return self._elements(draw, ctx, elem, n)
            return Node(draw_array)
        if isinstance(d, c.GreedyRange):
            elem = cp(d.subcon, path + "[]", None, hints)
            return Node(lambda draw, ctx: self._elements(draw, ctx, elem, draw(st.integers(0, GREEDY_ITEMS))))
        if isinstance(d, c.Prefixed):
            return cp(d.subcon, path, hint, hints)
        if isinstance(d, c.Switch):
            cases = {k: cp(v, f"{path}<{k}>", hint, hints) for k, v in d.cases.items()}
            failing = isinstance(d.default, type(c.Error)) or d.default is c.Error
            default = None if failing else cp(d.default, f"{path}<default>", hint, hints)

            def draw_switch(draw, ctx):
                key = _evaluate(d.keyfunc, ctx)
                try:
                    node = cases.get(key)
                except TypeError:
                    node = None
                if node is None:
                    if failing:
                        reject()
                    node = default
                return node.draw(draw, ctx)
            return Node(draw_switch)
        if isinstance(d, c.IfThenElse):
            then, other = cp(d.thensubcon, path, hint, hints), cp(d.elsesubcon, path, hint, hints)
            return Node(lambda draw, ctx: (then if _evaluate(d.condfunc, ctx) else other).draw(draw, ctx))
        if isinstance(d, c.Select):
            if len(d.subcons) == 2 and d.subcons[1] is c.Pass:   # Optional(subcon)
                sub = cp(d.subcons[0], path, hint, hints)
                return Node(lambda draw, ctx: sub.draw(draw, ctx) if draw(st.booleans()) else None)
            raise TypeError(f"{path or '<root>'}: Select with several alternatives is ambiguous to build")
        if isinstance(d, c.Padded):
            sub = cp(d.subcon, path, hint, hints)
            return sub
        if isinstance(d, (c.Aligned, c.FixedSized, c.NullTerminated, c.NullStripped, c.Transformed,
                          c.Restreamed, c.Default, c.Compressed, c.CompressedLZ4, c.Tunnel)):
            sub = cp(d.subcon, path, hint, hints)
            if isinstance(d, (c.NullTerminated, c.NullStripped)):
                pad = getattr(d, "term", None) or getattr(d, "pad", b"\0")
                return Node(lambda draw, ctx: self._without(draw, ctx, sub, pad, isinstance(d, c.NullStripped)))
            if isinstance(d, c.FixedSized):
                return Node(lambda draw, ctx: self._fitting(draw, ctx, sub, d))
            return sub
        if isinstance(d, c.RawCopy):
            sub = cp(d.subcon, path, hint, hints)
            return Node(lambda draw, ctx: Container(value=sub.draw(draw, ctx)))
        if isinstance(d, c.Computed):
            return Node(lambda draw, ctx: _evaluate(d.func, ctx), omit=True)
        if isinstance(d, (c.Rebuild, c.Checksum)):
            return Node(lambda draw, ctx: OMIT, omit=True)
        if isinstance(d, type(c.Pass)):
            return Node(lambda draw, ctx: None)
        if isinstance(d, c.Check):          # a condition on earlier fields: draws it refuses are rejected
            def draw_check(draw, ctx):
                if _evaluate(d.func, ctx) is False:
                    reject()
                return OMIT
            return Node(draw_check, omit=True)
        if isinstance(d, (type(c.Index), type(c.Terminated), type(c.Tell))):
            return Node(lambda draw, ctx: OMIT, omit=True)
        if isinstance(d, c.LazyBound):
            key = id(d)
            if key not in self.lazy:
                holder: list[Node] = []
                self.lazy[key] = Node(lambda draw, ctx: holder[0].draw(draw, ctx))
                holder.append(cp(d.subconfunc(), path, hint, hints))
            return self.lazy[key]
        return self._fixed_fallback(d, path)

    def _elements(self, draw, ctx, elem: Node, n: int) -> ListContainer:
        out = ListContainer()
        saved = ctx.get("_index")
        for i in range(n):
            ctx["_index"] = i
            out.append(elem.draw(draw, ctx))
        ctx["_index"] = saved
        return out

    @staticmethod
    def _without(draw, ctx, sub: Node, term: bytes, strip_tail: bool):
        value = sub.draw(draw, ctx)
        if isinstance(value, bytes):
            value = value.replace(term, b"")
        return value

    @staticmethod
    def _fitting(draw, ctx, sub: Node, d):
        n = _evaluate(d.length, ctx)
        value = sub.draw(draw, ctx)
        if isinstance(value, bytes) and isinstance(n, int):
            value = value[:n]
        return value

    def _string(self, d, path: str) -> Node:
        enc = d.encoding
        inner = d.subcon
        limit = None
        if isinstance(inner, c.FixedSized):
            limit = inner.length
        text = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=GREEDY_BYTES)

        def draw_text(draw, ctx):
            s = draw(text)
            n = _evaluate(limit, ctx) if limit is not None else None
            if isinstance(n, int):
                raw = s.encode(enc)[:n]
                s = raw.decode(enc, "ignore")
            return s
        return Node(draw_text)

    def _struct(self, d, path: str, hints: dict, focus: str | None = None) -> Node:
        local = [(p, h) for sc in d.subcons for p, h in _refs(sc) if p[0] != "_"]
        for p, h in hints.items():
            local.append((p, h))
        nodes = []
        for sc in d.subcons:
            name = sc.name
            mine = {p[1:]: h for p, h in local if name and p[0] == name and len(p) > 1}
            leaf = next((h for p, h in local if name and p == (name,)), None)
            sub_path = f"{path}.{name}" if path and name else (name or path)
            nodes.append((name, self.compile(sc, sub_path, leaf, mine)))

        def draw_struct(draw, ctx):
            inner = Container(_=ctx, _params=ctx.get("_params"), _root=None, _parsing=False,
                              _building=True, _sizing=False, _io=None, _index=ctx.get("_index"))
            out = Container()
            for name, node in nodes:
                if focus is not None and name != focus and not node.omit:
                    continue        # FocusedSeq: only the focused field is given to build
                v = node.draw(draw, inner)
                if name and v is not OMIT:
                    inner[name] = v
                    if not node.omit:
                        out[name] = v
            return out[focus] if focus is not None else out
        return Node(draw_struct)

    @staticmethod
    def _fixed_fallback(d, path: str) -> Node:
        try:
            size = d.sizeof()
        except Exception:  # noqa: BLE001
            size = None
        if not size or size > MAX_BYTES:
            raise TypeError(f"memschema.strategies: cannot derive values for {type(d).__name__} at "
                            f"{path or '<root>'} (not supported and of no fixed size). Supported: {SUPPORTED}")

        def draw_parsed(draw, ctx):
            raw = draw(st.binary(min_size=size, max_size=size))
            try:
                return d.parse(raw)
            except Exception:  # noqa: BLE001 - bytes this construct refuses
                reject()
        return Node(draw_parsed)


def external_context(decl: c.Construct) -> dict[str, tuple | dict]:
    """Names a declaration reads from the context given to parse/build (`this._.node_count` at the
    top level, `this._params.x`), each with its hint: ("size", cap) or ("choices", keys); a name
    read through (`this._.header.node_count`) maps to a dict of the names read from it."""
    refs = _refs(decl)
    out: dict[str, tuple | dict] = {}
    for path, hint in refs:
        if path[0] == "_params" and len(path) > 1:
            path = path[1:]
        if not (isinstance(path[0], str) and not path[0].startswith("_")):
            continue
        level = out
        for name in path[:-1]:
            if not isinstance(level.get(name), dict):
                level[name] = {}
            level = level[name]
        if not isinstance(level.get(path[-1]), dict):
            level.setdefault(path[-1], hint)
    return out


def _context_strategy(params: dict[str, tuple | dict]):
    def one(hint):
        if isinstance(hint, dict):
            return _context_strategy(hint).map(lambda d: Container(**d))
        if hint[0] == "choices":
            keys = [k for k in hint[1] if isinstance(k, int)]
            return st.sampled_from(keys) if keys else st.integers(0, SMALL_COUNT)
        return st.integers(0, hint[1])
    return st.fixed_dictionaries({k: one(h) for k, h in params.items()})


def from_construct(decl: c.Construct, name: str = "", *, with_context: bool = False,
                   **overrides: Any) -> st.SearchStrategy:
    """A strategy of values that `decl.build` accepts, drawn field by field.

    `overrides` replace the strategy of a field, keyed by its path (`"header.node_count"`, array
    indices written `[]` or left out) or its bare name (`node_count`); the value is a strategy, a
    constant, or a callable taking the context (earlier fields, `_` for the parent) and returning
    either.  A declaration that reads names from the context given to parse/build (e.g.
    `Array(this._.node_count, ...)` at the top level, see `external_context`) gets them drawn small;
    with `with_context=True` the strategy yields `(value, context)` so both can be passed to
    `decl.build(value, **context)` / `decl.parse(data, **context)`.
    Raises `TypeError` naming the declaration path when a construct class is not supported.
    """
    root = _Compiler(overrides).compile(decl, name)
    contexts = _context_strategy(external_context(decl))

    @st.composite
    def values(draw):
        params = draw(contexts)
        ctx = Container(**params)
        ctx._params = ctx
        ctx._index = None
        value = root.draw(draw, ctx)
        return (value, params) if with_context else value
    return values()
