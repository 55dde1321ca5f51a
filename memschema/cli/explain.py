"""`memschema explain FILE OFFSET...` and `memschema hexdump FILE`: what each byte of a file is."""

from __future__ import annotations

import argparse

from .. import explain as ex
from ..errors import FormatError
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, err, print_json


def offset(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an offset (decimal, or 0x hex)") from None
    if value < 0:
        raise argparse.ArgumentTypeError("offsets are not negative")
    return value


def add(sub) -> None:
    s = sub.add_parser("explain", help="the field at each byte offset (path, span, bytes, value, findings)",
                       description="For each OFFSET (decimal or 0x hex): the innermost field that holds it, its "
                       "span, raw bytes and decoded value, and any finding there. On a damaged file, fields are "
                       "explained up to where parsing stops, and that place is named.",
                       epilog="example: memschema explain brain.amem 0x240")
    s.add_argument("file")
    s.add_argument("offsets", nargs="+", type=offset, metavar="OFFSET")
    s.add_argument("--json", action="store_true")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    s.set_defaults(func=run_explain)

    s = sub.add_parser("hexdump", help="annotated byte map: one line per field, gaps and findings marked",
                       description="One line per field (offset, bytes, field path, decoded value); bytes no "
                       "field explains are shown as gaps, findings under the field they concern.",
                       epilog="example: memschema hexdump memories.m8 --from 0 --length 256")
    s.add_argument("file")
    s.add_argument("--from", dest="start", type=offset, default=0, metavar="OFFSET")
    s.add_argument("--length", type=offset, default=None, metavar="N")
    s.add_argument("--json", action="store_true")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    s.set_defaults(func=run_hexdump)


def run_explain(args) -> int:
    try:
        answers = ex.explain(args.file, args.offsets, args.format)
    except FormatError as exc:
        err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    if args.json:
        print_json(answers)
    else:
        for a in answers:
            print(_explanation_text(a))
    return EXIT_FINDINGS if any(a.get("findings") for a in answers) else EXIT_OK


def _explanation_text(a: dict) -> str:
    head = f"0x{a['offset']:x} ({a['offset']})"
    if a["kind"] == "past_end":
        return f"{head}: past the end of the file"
    span = f"{a['start']}..{a['start'] + a['size']} ({a['size']} bytes)"
    if a["kind"] == "field":
        text = f"{head}: {a['path']} = {a['value']!r}  [{span}, hex {a['hex']}]"
        if a.get("doc"):
            text += f"\n    {a['doc']}"
    else:
        text = f"{head}: [{a['kind']}] {a.get('path') or ''} {a.get('message', '')} [{span}]"
    for f in a.get("findings", []):
        text += f"\n    {f['severity']} {f['code']}: {f['message']}"
    if a.get("parsing_stopped"):
        s = a["parsing_stopped"]
        text += f"\n    (parsing stopped at {s['path']} offset {s['offset']}: {s['message']})"
    return text


def run_hexdump(args) -> int:
    try:
        opened = ex.open_explained(args.file, args.format)
    except FormatError as exc:
        err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    items = ex.rows(opened, args.start, args.length)
    if args.json:
        print_json({"file": opened.name, "format": opened.detection.format, "variant": opened.detection.variant,
                    "rows": [ex.row_json(opened, i) for i in items],
                    "parsing_stopped": None if opened.stopped is None else
                    {"path": opened.stopped.path, "offset": opened.stopped.offset,
                     "message": opened.stopped.message}})
    else:
        print(f"{opened.name}: {opened.detection.id}")
        for item in items:
            print(ex.row_text(opened, item))
        if opened.stopped is not None:
            print(f"parsing stopped at {opened.stopped.path} offset {opened.stopped.offset}: "
                  f"{opened.stopped.message}")
    return EXIT_FINDINGS if any(f.is_error for f in opened.findings) else EXIT_OK
