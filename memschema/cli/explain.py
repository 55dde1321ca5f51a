"""`memschema explain FILE OFFSET...` and `memschema hexdump FILE`: what each byte of a file is."""

from __future__ import annotations

import argparse

from .. import explain as ex
from ..errors import FormatError
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, add_command, err, print_envelope

EXPLAIN_EXAMPLES = """\
  memschema explain seed.m8 0x26                    # the field at byte 0x26 of the file
  memschema explain --json seed.m8 0 0x1e 0x26      # several offsets, as JSON"""

EXPLAIN_KEYS = {
    "file": "the file explained",
    "format": "its format id", "variant": "its variant (layout/dialect)",
    "offsets": "one entry per offset: {offset, kind (field|gap|tail|error|past_end), path, start, size, value, "
               "value_truncated, doc, hex, sections, findings, parsing_stopped}",
}

HEXDUMP_EXAMPLES = """\
  memschema hexdump seed.m8 --length 128            # the first 128 bytes, one line per field
  memschema hexdump --json seed.m8 --from 0x1e --length 64"""

HEXDUMP_KEYS = {
    "file": "the file shown", "format": "its format id", "variant": "its variant (layout/dialect)",
    "rows": "one per field or gap in file order: {offset, size, path, kind, hex, value, message, findings}",
    "parsing_stopped": "{path, offset, message} where the layout stops parsing a damaged file, else null",
}


def offset(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an offset (decimal, or 0x hex)") from None
    if value < 0:
        raise argparse.ArgumentTypeError("offsets are not negative")
    return value


def add(sub) -> None:
    s = add_command(sub, "explain", "the field at each byte offset (path, span, bytes, value, findings)",
                    EXPLAIN_EXAMPLES, EXPLAIN_KEYS,
                    description="For each OFFSET (decimal or 0x hex): the innermost field that holds it, its "
                    "span, raw bytes and decoded value, and any finding there. On a damaged file, fields are "
                    "explained up to where parsing stops, and that place is named.")
    s.add_argument("file")
    s.add_argument("offsets", nargs="+", type=offset, metavar="OFFSET")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    s.set_defaults(func=run_explain)

    s = add_command(sub, "hexdump", "annotated byte map: one line per field, gaps and findings marked",
                    HEXDUMP_EXAMPLES, HEXDUMP_KEYS,
                    description="One line per field (offset, bytes, field path, decoded value); bytes no field "
                    "explains are shown as gaps, findings under the field they concern.")
    s.add_argument("file")
    s.add_argument("--from", dest="start", type=offset, default=0, metavar="OFFSET")
    s.add_argument("--length", type=offset, default=None, metavar="N")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    s.set_defaults(func=run_hexdump)


def run_explain(args) -> int:
    try:
        opened = ex.open_explained(args.file, args.format)
    except FormatError as exc:
        err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    answers = ex.explain_opened(opened, args.offsets)
    if args.json:
        print_envelope(file=opened.name, format=opened.detection.format, variant=opened.detection.variant,
                       offsets=answers)
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
        stopped = opened.stopped
        print_envelope(file=opened.name, format=opened.detection.format, variant=opened.detection.variant,
                       rows=[ex.row_json(opened, i) for i in items],
                       parsing_stopped=None if stopped is None else
                       {"path": stopped.path, "offset": stopped.offset, "message": stopped.message})
    else:
        print(f"{opened.name}: {opened.detection.id}")
        for item in items:
            print(ex.row_text(opened, item))
        if opened.stopped is not None:
            print(f"parsing stopped at {opened.stopped.path} offset {opened.stopped.offset}: "
                  f"{opened.stopped.message}")
    return EXIT_FINDINGS if any(f.is_error for f in opened.findings) else EXIT_OK
