"""`memschema convert IN OUT [--to T]`: between formats and layouts."""

from __future__ import annotations

import sys

from .. import api
from ..errors import FormatError
from ..source import atomic_write
from .common import EXIT_OK, EXIT_UNREADABLE, err


def add(sub) -> None:
    s = sub.add_parser("convert", help="convert between formats/layouts (see --to)")
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--to", help="target format id; required when several conversions apply")
    s.set_defaults(func=run)


def run(args) -> int:
    try:
        data, findings, target = api.convert(args.input, args.to)
    except FormatError as exc:
        err(f"{args.input}: {exc}")
        return EXIT_UNREADABLE
    atomic_write(args.output, data)
    for f in findings:
        print(f"  {f}", file=sys.stderr)
    print(f"{args.input} -> {args.output} ({target}, {len(data)} bytes)")
    return EXIT_OK
