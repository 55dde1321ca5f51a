"""Field-by-field comparison of a Kaitai-generated parser's objects with memschema's values.

Both sides are reduced to plain trees keyed by memschema's field names, walking the declaration:
memschema's Containers and numpy records by name, the Kaitai objects by the id the generator gave
each field (`Ksy.ids`).  Enums compare as integers, bytes as bytes, floats bit for bit
(`memschema.strategies.compare.difference`).
"""

from __future__ import annotations

import construct as c
import numpy as np

from memschema.ksy import Ksy
from memschema.ksy_names import strip


def _number(x):
    return float(x) if isinstance(x, (float, np.floating)) else int(x)


def _case(decl, container):
    """The declaration a construct Switch chose for `container` (memschema side)."""
    key = decl.keyfunc(container) if callable(decl.keyfunc) else decl.keyfunc
    return decl.cases.get(key, decl.default)


def memschema_plain(decl, value, parent=None):
    d = strip(decl)
    if isinstance(d, c.Const) and not isinstance(d.value, bytes):
        d = strip(d.subcon)
    if isinstance(d, (c.Enum, c.FlagsEnum)):
        return int(value)
    if isinstance(d, c.Struct):
        out = {}
        for sc in d.subcons:
            if sc.name and strip(sc.subcon) is not c.Pass:
                out[sc.name] = memschema_plain(sc.subcon, value[sc.name], value)
        return out
    if isinstance(d, (c.FixedSized, c.Padded, c.Prefixed)):
        return memschema_plain(d.subcon, value, parent)
    if isinstance(d, c.Switch):
        return memschema_plain(_case(d, parent), value, parent)
    if isinstance(d, c.FocusedSeq):                      # PrefixedArray: the items
        return memschema_plain(d.subcons[1].subcon, value, parent)
    if isinstance(d, (c.Array, c.GreedyRange)):
        return [memschema_plain(d.subcon, v, parent) for v in value]
    if isinstance(d, (c.IfThenElse, c.Select)):
        inner = d.thensubcon if isinstance(d, c.IfThenElse) else d.subcons[0]
        return None if value is None else memschema_plain(inner, value, parent)
    if isinstance(value, (bytes, bytearray, memoryview, np.ndarray)) and isinstance(d, (c.Bytes, c.Const)) \
            or d is c.GreedyBytes:
        return bytes(value)
    return _number(value)


def kaitai_plain(decl, obj, ksy: Ksy):
    d = strip(decl)
    if isinstance(d, c.Const) and not isinstance(d.value, bytes):
        d = strip(d.subcon)
    if isinstance(d, (c.Enum, c.FlagsEnum)):
        return int(obj.value if hasattr(obj, "value") else obj)
    if isinstance(d, c.Struct):
        ids = ksy.ids(d)
        # a Kaitai `if` field that is absent is not set at all on the generated object
        return {sc.name: kaitai_plain(sc.subcon, getattr(obj, ids[sc.name], None), ksy)
                for sc in d.subcons if sc.name and strip(sc.subcon) is not c.Pass}
    if isinstance(d, (c.FixedSized, c.Padded, c.Prefixed)):
        inner = strip(d.subcon)
        if isinstance(inner, (c.Array, c.GreedyRange)) and hasattr(obj, "value"):
            obj = obj.value                                # the element type a sized array got
        return kaitai_plain(d.subcon, obj, ksy)
    if isinstance(d, c.Switch):
        if isinstance(obj, bytes):
            return obj
        case = next((v for v in d.cases.values() if ksy.type_names.get(id(_case_struct(v))) ==
                     _type_name(obj)), d.default)
        return kaitai_plain(case, obj, ksy)
    if isinstance(d, c.FocusedSeq):
        return kaitai_plain(d.subcons[1].subcon, obj, ksy)
    if isinstance(d, (c.Array, c.GreedyRange)):
        element = strip(d.subcon)
        nested = isinstance(element, (c.Array, c.GreedyRange, c.Prefixed, c.FocusedSeq))
        return [kaitai_plain(d.subcon, v.value if nested else v, ksy) for v in obj]
    if isinstance(d, (c.IfThenElse, c.Select)):
        inner = d.thensubcon if isinstance(d, c.IfThenElse) else d.subcons[0]
        return None if obj is None else kaitai_plain(inner, obj, ksy)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj)
    return _number(obj)


def _case_struct(case):
    """The Struct a switch case reads: `Select(x, GreedyBytes)` (x, or its bytes when they do not
    decode) is x in the `.ksy`."""
    case = strip(case)
    if isinstance(case, c.Select) and len(case.subcons) == 2 and strip(case.subcons[1]) is c.GreedyBytes:
        return strip(case.subcons[0])
    return case


def _type_name(obj) -> str:
    import re
    return re.sub(r"(?<!^)([A-Z])", r"_\1", type(obj).__name__).lower()
