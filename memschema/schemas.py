"""Language-neutral descriptions of the registered declarations, generated from the construct
Structs themselves (the files under `schemas/` are this module's output, checked by a test):
`<format>.json` per format, a Kaitai Struct `<layout>.ksy` per format/variant with a layout, and
the JSON Schemas of the command line's JSON output (`memschema.output_schemas`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import construct

from . import registry

if TYPE_CHECKING:  # pragma: no cover
    from .ksy import Ksy


def _size(decl: construct.Construct) -> int | None:
    try:
        return decl.sizeof()
    except (construct.SizeofError, KeyError, AttributeError, TypeError, ValueError):
        return None


def _type(decl: construct.Construct) -> str:
    if isinstance(decl, construct.Renamed):
        return _type(decl.subcon)
    if isinstance(decl, construct.FormatField):
        return {"<": "le ", ">": "be ", "=": "native "}.get(decl.fmtstr[0], "") + decl.fmtstr[1:]
    if isinstance(decl, construct.Const):
        return f"const {decl.value!r}"
    if isinstance(decl, construct.Struct):
        return "struct"
    name = type(decl).__name__
    inner = getattr(decl, "subcon", None)
    return f"{name}({_type(inner)})" if inner is not None else name


def _fields(decl: construct.Construct) -> list[dict[str, Any]] | None:
    while not isinstance(decl, construct.Struct) and hasattr(decl, "subcon"):
        decl = decl.subcon
    if not isinstance(decl, construct.Struct):
        return None
    out, offset = [], 0
    for sc in decl.subcons:
        size = _size(sc)
        entry: dict[str, Any] = {"name": sc.name, "offset": offset, "size": size, "type": _type(sc),
                                 "doc": (sc.docs or "").strip()}
        nested = _fields(sc)
        if nested is not None:
            entry["fields"] = nested
        out.append(entry)
        offset = None if offset is None or size is None else offset + size
    return out


def describe(decl: construct.Construct) -> dict[str, Any]:
    return {"size": _size(decl), "doc": (getattr(decl, "docs", "") or "").strip(), "fields": _fields(decl)}


def export_data() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for fmt in registry.formats():
        out[fmt.name] = {"format": fmt.name, "title": fmt.title, "variants": list(fmt.variants),
                         "declarations": {k: describe(v) for k, v in fmt.declarations.items()}}
    return out


def render(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def ksy_specs() -> tuple[dict[str, Ksy], dict[str, str]]:
    """The `.ksy` of every registered layout (`format/variant` -> Ksy), and the layouts Kaitai
    cannot express (`format/variant` -> why)."""
    from .ksy import Unsupported, generate
    specs: dict[str, Ksy] = {}
    failed: dict[str, str] = {}
    for key, layout in registry.layouts().items():
        fmt = registry.get_format(key)
        try:
            specs[key] = generate(key, layout, dict(fmt.declarations), fmt.extensions)
        except Unsupported as exc:
            failed[key] = str(exc)
    return specs, failed


def export(directory: Path) -> list[Path]:
    """Write every description; raises `Unsupported` naming the layouts Kaitai cannot express
    (after writing all the others)."""
    from .ksy import Unsupported
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in export_data().items():
        path = directory / f"{name}.json"
        path.write_text(render(data), encoding="utf-8")
        written.append(path)
    from . import output_schemas
    written += output_schemas.export(directory)
    specs, failed = ksy_specs()
    for ksy in specs.values():
        path = directory / f"{ksy.id}.ksy"
        path.write_text(ksy.text(), encoding="utf-8")
        written.append(path)
    if failed:
        raise Unsupported("; ".join(f"{key}: {why}" for key, why in failed.items()))
    return written
