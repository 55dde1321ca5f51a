"""JSON Schemas (draft 2020-12) of what memschema prints, in `schemas/*.schema.json`.

`dump.schema.json` is derived from the registered layouts: for each format/variant the sections and
the type of every declared field (integers with their range, floats, enums by name or integer,
bytes as lowercase hex of their length, records as arrays), selected by `format`/`variant`; formats
without a layout are held to the common keys.  `validate`, `explain` and `hexdump` print fixed
shapes (findings, explanations), stated once here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import construct as c

from . import registry
from .ksy_names import strip

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_NUMBER = {"type": ["number", "string"], "description": "a JSON number; NaN/Infinity/-Infinity as strings"}
_INT_BITS = {"B": (8, False), "H": (16, False), "I": (32, False), "L": (32, False), "Q": (64, False),
             "b": (8, True), "h": (16, True), "i": (32, True), "l": (32, True), "q": (64, True)}

FINDING = {
    "type": "object", "required": ["severity", "code", "message", "path", "offset"],
    "properties": {
        "severity": {"enum": ["error", "warning", "info"]},
        "code": {"type": "string", "pattern": r"^[a-z0-9_]+(\.[a-z0-9_]+)*$"},
        "message": {"type": "string"},
        "path": {"type": "string"},
        "offset": {"type": ["integer", "null"], "minimum": 0},
    },
}


def value_schema(decl) -> dict:
    """The JSON a declaration's value prints as (`memschema.jsonify`)."""
    d = strip(decl)
    doc = (getattr(decl, "docs", "") or "").strip()
    out = _schema(d)
    return {**out, "description": doc} if doc and "description" not in out else out


def _hex(length: int | None) -> dict:
    return {"type": "string", "pattern": "^([0-9a-f]{2})*$" if length is None else f"^[0-9a-f]{{{2 * length}}}$"}


def _schema(d) -> dict:
    if isinstance(d, c.Const):
        return {"const": d.value.hex()} if isinstance(d.value, bytes) else _schema(strip(d.subcon))
    if isinstance(d, c.Enum):
        names = sorted(str(k) for k in d.encmapping)
        return {"anyOf": [{"enum": names}, {"type": "integer"}]}
    if isinstance(d, c.FormatField):
        char = d.fmtstr[1:]
        if char in _INT_BITS:
            bits, signed = _INT_BITS[char]
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
            return {"type": "integer", "minimum": lo, "maximum": hi}
        return {"type": "boolean"} if char == "?" else dict(_NUMBER)
    if isinstance(d, c.Bytes):
        return _hex(d.length if isinstance(d.length, int) else None)
    if d is c.GreedyBytes or (isinstance(d, c.Prefixed) and strip(d.subcon) is c.GreedyBytes):
        return _hex(None)
    if isinstance(d, c.Struct):
        props = {sc.name: value_schema(sc) for sc in d.subcons if sc.name and strip(sc.subcon) is not c.Pass}
        return {"type": "object", "required": sorted(props), "properties": props}
    if isinstance(d, (c.Array, c.GreedyRange)):
        items = value_schema(d.subcon)
        if isinstance(strip(d.subcon), c.FormatField) and strip(d.subcon).fmtstr[1:] == "B":
            return {"anyOf": [{"type": "array", "items": items}, _hex(None)]}    # u8 arrays print as hex
        return {"type": "array", "items": items}
    return {}


def dump_schema() -> dict:
    """`memschema dump --json FILE` for every registered format (layouts field by field)."""
    branches = []
    defs: dict[str, Any] = {}
    for key, layout in sorted(registry.layouts().items()):
        fmt, _, variant = key.partition("/")
        sections = {}
        for s in layout.sections:
            one = value_schema(s.decl)
            sections[s.name] = {**(one if s.count is None else {"type": "array", "items": one}), "description": s.doc}
        tail = {"type": "object", "required": ["offset", "length", "reason"],
                "properties": {"offset": {"type": "integer", "minimum": 0}, "length": {"type": "integer", "minimum": 0},
                               "reason": {"type": "string"}}}
        name = key.replace("/", "_")
        defs[name] = {"type": "object", "description": layout.title, "required": sorted(sections),
                      "properties": {**sections, "tails": {"type": "object", "additionalProperties": tail}}}
        when = {"properties": {"format": {"const": fmt}, **({"variant": {"const": variant}} if variant else {})},
                "required": ["format", *(["variant"] if variant else [])]}
        branches.append({"if": when, "then": {"$ref": f"#/$defs/{name}"}})
    return {"$schema": DRAFT, "title": "memschema dump --json FILE",
            "type": "object", "required": ["format"],
            "properties": {"format": {"enum": sorted(f.name for f in registry.formats())},
                           "variant": {"type": ["string", "null"]}},
            "allOf": branches, "$defs": defs}


def validate_schema() -> dict:
    report = {"type": "object", "required": ["source", "format", "variant", "ok", "errors", "warnings", "findings"],
              "properties": {"source": {"type": "string"}, "format": {"type": "string"},
                             "variant": {"type": ["string", "null"]}, "ok": {"type": "boolean"},
                             "errors": {"type": "integer", "minimum": 0}, "warnings": {"type": "integer", "minimum": 0},
                             "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}}}}
    return {"$schema": DRAFT, "title": "memschema validate --json FILE...",
            "type": "array", "items": report, "$defs": {"finding": FINDING}}


def explain_schema() -> dict:
    answer = {"type": "object", "required": ["offset"],
              "properties": {"offset": {"type": "integer", "minimum": 0},
                             "kind": {"enum": ["field", "gap", "tail", "error", "past_end"]},
                             "path": {"type": "string"}, "start": {"type": "integer", "minimum": 0},
                             "size": {"type": "integer", "minimum": 0},
                             "sections": {"type": "array", "items": {"type": "string"}},
                             "value": {}, "value_truncated": {"type": "boolean"}, "doc": {"type": "string"},
                             "message": {"type": "string"},
                             "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
                             "parsing_stopped": {"type": "object"}}}
    return {"$schema": DRAFT, "title": "memschema explain --json FILE OFFSET...",
            "type": "array", "items": answer, "$defs": {"finding": FINDING}}


SCHEMAS = {"dump": dump_schema, "validate": validate_schema, "explain": explain_schema}


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def export(directory: Path) -> list[Path]:
    written = []
    for name, make in SCHEMAS.items():
        path = directory / f"{name}.schema.json"
        path.write_text(render(make()), encoding="utf-8")
        written.append(path)
    return written


__all__ = ["SCHEMAS", "dump_schema", "explain_schema", "export", "render", "validate_schema", "value_schema"]
