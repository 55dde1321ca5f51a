"""JSON Schemas (draft 2020-12) of what memschema prints, in `schemas/*.schema.json`.

`dump.schema.json` is derived from the registered layouts: for each format/variant the sections and
the type of every declared field (integers with their range, floats, enums by name or integer,
bytes as lowercase hex of their length, records as arrays), selected by `format`/`variant`; formats
without a layout are held to the common keys.  `validate`, `detect`, `explain` and `hexdump` print
fixed shapes (findings, explanations), stated once here.  Every output is one object whose first key
is `memschema_output` (`memschema.output.OUTPUT_VERSION`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import construct as c

from . import registry
from .ksy_names import strip
from .output import OUTPUT_VERSION

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_NUMBER = {"type": ["number", "string"], "description": "a JSON number; NaN/Infinity/-Infinity as strings"}
_INT_BITS = {"B": (8, False), "H": (16, False), "I": (32, False), "L": (32, False), "Q": (64, False),
             "b": (8, True), "h": (16, True), "i": (32, True), "l": (32, True), "q": (64, True)}

VERSION = {"const": OUTPUT_VERSION, "description": "version of the output's shape (memschema.output)"}


def _envelope(title: str, required: list[str], properties: dict, defs: dict | None = None) -> dict:
    out = {"$schema": DRAFT, "title": title, "type": "object", "required": ["memschema_output", *required],
           "properties": {"memschema_output": VERSION, **properties}}
    if defs:
        out["$defs"] = defs
    return out


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
            if not s.shown:     # the document gives this section its own way (decoded): described only
                sections[s.name] = {"description": s.doc}
                continue
            one = value_schema(s.decl)
            sections[s.name] = {**(one if s.count is None else {"type": "array", "items": one}), "description": s.doc}
        tail = {"type": "object", "required": ["offset", "length", "reason"],
                "properties": {"offset": {"type": "integer", "minimum": 0}, "length": {"type": "integer", "minimum": 0},
                               "reason": {"type": "string"}}}
        name = key.replace("/", "_")
        shown = sorted(s.name for s in layout.sections if s.shown)
        defs[name] = {"type": "object", "description": layout.title, "required": shown,
                      "properties": {**sections, "tails": {"type": "object", "additionalProperties": tail}}}
        when = {"properties": {"format": {"const": fmt}, **({"variant": {"const": variant}} if variant else {})},
                "required": ["format", *(["variant"] if variant else [])]}
        branches.append({"if": when, "then": {"$ref": f"#/$defs/{name}"}})
    out = _envelope("memschema dump --json FILE", ["format", "variant"],
                    {"format": {"enum": sorted(f.name for f in registry.formats())},
                     "variant": {"type": ["string", "null"]}}, defs)
    out["allOf"] = branches
    return out


def validate_schema() -> dict:
    report = {"type": "object", "required": ["source", "format", "variant", "ok", "errors", "warnings", "findings"],
              "properties": {"source": {"type": "string"}, "format": {"type": "string"},
                             "variant": {"type": ["string", "null"]}, "ok": {"type": "boolean"},
                             "errors": {"type": "integer", "minimum": 0}, "warnings": {"type": "integer", "minimum": 0},
                             "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}}}}
    kind = {"type": "object", "required": ["source", "format", "variant"],
            "properties": {"source": {"type": "string"}, "format": {"type": "string"},
                           "variant": {"type": ["string", "null"]}}}
    count = {"type": "integer", "minimum": 0}
    summary = {"type": "object", "required": ["files", "ok", "with_errors", "unreadable", "skipped", "codes"],
               "properties": {"files": count, "ok": count, "with_errors": count, "unreadable": count, "skipped": count,
                              "codes": {"type": "array", "items": {
                                  "type": "object", "required": ["code", "severity", "count"],
                                  "properties": {"code": FINDING["properties"]["code"],
                                                 "severity": FINDING["properties"]["severity"], "count": count}}}}}
    return _envelope("memschema validate --json PATH...", ["reports", "skipped", "summary"],
                     {"reports": {"type": "array", "items": report}, "skipped": {"type": "array", "items": kind},
                      "summary": summary}, {"finding": FINDING})


def detect_schema() -> dict:
    entry = {"type": "object", "required": ["source"],
             "properties": {"source": {"type": "string"}, "format": {"type": "string"},
                            "variant": {"type": ["string", "null"]}, "id": {"type": "string"},
                            "description": {"type": "string"}, "memory_file": {"type": "boolean"},
                            "error": {"type": "string"}},
             "oneOf": [{"required": ["format", "variant", "id", "description", "memory_file"]},
                       {"required": ["error"]}]}
    summary = {"type": "object", "required": ["files", "by_format"],
               "properties": {"files": {"type": "integer", "minimum": 0},
                              "by_format": {"type": "object", "additionalProperties": {"type": "integer"}}}}
    return _envelope("memschema detect --json PATH...", ["files", "summary"],
                     {"files": {"type": "array", "items": entry}, "summary": summary})


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
    kind = {"file": {"type": "string"}, "format": {"type": "string"}, "variant": {"type": ["string", "null"]}}
    return _envelope("memschema explain --json FILE OFFSET...", ["file", "format", "variant", "offsets"],
                     {**kind, "offsets": {"type": "array", "items": answer}}, {"finding": FINDING})


def hexdump_schema() -> dict:
    row = {"type": "object", "required": ["offset", "size", "path", "kind", "hex", "findings"],
           "properties": {"offset": {"type": "integer", "minimum": 0}, "size": {"type": "integer", "minimum": 0},
                          "path": {"type": "string"}, "kind": {"enum": ["field", "gap", "tail", "error"]},
                          "hex": {"type": "string", "pattern": "^([0-9a-f]{2})*$"}, "value": {},
                          "message": {"type": "string"},
                          "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}}}}
    stopped = {"type": ["object", "null"], "properties": {"path": {"type": "string"},
                                                          "offset": {"type": ["integer", "null"]},
                                                          "message": {"type": "string"}}}
    return _envelope("memschema hexdump --json FILE", ["file", "format", "variant", "rows", "parsing_stopped"],
                     {"file": {"type": "string"}, "format": {"type": "string"},
                      "variant": {"type": ["string", "null"]}, "rows": {"type": "array", "items": row},
                      "parsing_stopped": stopped}, {"finding": FINDING})


SCHEMAS = {"dump": dump_schema, "validate": validate_schema, "detect": detect_schema, "explain": explain_schema,
           "hexdump": hexdump_schema}


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def export(directory: Path) -> list[Path]:
    written = []
    for name, make in SCHEMAS.items():
        path = directory / f"{name}.schema.json"
        path.write_text(render(make()), encoding="utf-8")
        written.append(path)
    return written


__all__ = ["SCHEMAS", "detect_schema", "dump_schema", "explain_schema", "export", "hexdump_schema", "render",
           "validate_schema", "value_schema"]
