"""construct `this` expressions as Kaitai Struct expressions.

A `Scope` is the Kaitai type an expression is evaluated in: the fields of the construct Struct (or
layout) it stands for, with the Kaitai id each field got, and the scope one level up (`this._` in
construct is `_parent` in Kaitai).  `prefix` says how that scope is reached from where the
expression is written (`_root.` for a layout expression used inside a record type).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import construct as c
from construct import expr as cx

from .layout import FILE_SIZE
from .walker import this_path


class Unsupported(ValueError):
    """A declaration or expression Kaitai Struct cannot express (the message says which)."""


@dataclass
class Scope:
    """Fields visible as `this.<name>`: memschema name -> (Kaitai id, declaration)."""

    fields: dict[str, tuple[str, Any]] = field(default_factory=dict)
    parent: Scope | None = None
    prefix: str = ""
    enum_of: Any = None        # callable: declaration -> Kaitai enum name (for enum literals)
    hop: str = "_parent."      # from this scope's object to its parent's (`_root.` = absolute)

    def up(self) -> Scope:
        """The same scope seen from one Kaitai level deeper (a wrapper type the generator added)."""
        prefix = self.prefix if self.prefix.startswith("_root.") else "_parent." + self.prefix
        return Scope(self.fields, self.parent, prefix, self.enum_of, self.hop)

    def child(self, fields: dict) -> Scope:
        """The scope of a type whose fields are `fields`, placed as a field of this scope."""
        hop = self.prefix if self.prefix.startswith("_root.") else "_parent." + self.prefix
        return Scope(fields, self, "", self.enum_of, hop)


_OPS = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.floordiv: "/",
        operator.mod: "%", operator.xor: "^", operator.lshift: "<<", operator.rshift: ">>",
        operator.and_: "&", operator.or_: "|", operator.gt: ">", operator.ge: ">=", operator.lt: "<",
        operator.le: "<=", operator.eq: "==", operator.ne: "!="}
_UNARY = {operator.neg: "-", operator.not_: "not ", operator.pos: ""}


def _strip(decl):
    while isinstance(decl, (c.Renamed, c.Default, c.Rebuild)) or (
            isinstance(decl, c.Const) and not isinstance(decl.value, bytes)):
        decl = decl.subcon
    return decl


def _struct_scope(decl, ids_of) -> dict[str, tuple[str, Any]]:
    inner = _strip(decl)
    if isinstance(inner, c.Struct):
        ids = ids_of(inner)
        return {sc.name: (ids.get(sc.name, sc.name), sc) for sc in inner.subcons if sc.name}
    raise Unsupported(f"cannot reach into {type(inner).__name__}")


def translate(expr, scope: Scope, ids_of) -> str:
    """Kaitai text of `expr`; `ids_of(struct)` gives the Kaitai ids of a Struct's fields."""
    if isinstance(expr, bool):
        return "true" if expr else "false"
    if isinstance(expr, int):
        return str(expr)
    if isinstance(expr, cx.BinExpr):
        if expr.op in (operator.eq, operator.ne) and isinstance(expr.rhs, str):
            return f"{translate(expr.lhs, scope, ids_of)} {_OPS[expr.op]} {_enum_literal(expr.lhs, expr.rhs, scope)}"
        if expr.op not in _OPS:
            raise Unsupported(f"operator {cx.opnames.get(expr.op, expr.op)} in {expr}")
        return f"({translate(expr.lhs, scope, ids_of)} {_OPS[expr.op]} {translate(expr.rhs, scope, ids_of)})"
    if isinstance(expr, cx.UniExpr):
        if expr.op not in _UNARY:
            raise Unsupported(f"operator in {expr}")
        return f"{_UNARY[expr.op]}{translate(expr.operand, scope, ids_of)}"
    names = this_path(expr)
    if names is None:
        raise Unsupported(f"expression {expr!r} ({type(expr).__name__})")
    if names == [FILE_SIZE]:
        return "_root._io.size"
    text, here = scope.prefix, scope
    decl = None
    for i, name in enumerate(names):
        if name == "_":
            if here is None or here.parent is None:
                raise Unsupported(f"{expr}: no enclosing type for this._")
            text = here.hop if here.hop.startswith("_root.") else text + here.hop
            here = here.parent
            continue
        fields = here.fields if decl is None else _struct_scope(decl, ids_of)
        if name not in fields:
            raise Unsupported(f"{expr}: no field {name!r} here")
        kid, decl = fields[name]
        text += kid + ("." if i < len(names) - 1 else "")
        here = None
    return text


def _enum_literal(lhs, value: str, scope: Scope) -> str:
    names = this_path(lhs)
    fields = scope.fields
    if names and len(names) == 1 and names[0] in fields and scope.enum_of is not None:
        enum = scope.enum_of(fields[names[0]][1])
        if enum:
            return f"{enum}::{value}"
    raise Unsupported(f"comparison with the string {value!r} outside an enum field")
