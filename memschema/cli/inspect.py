"""`memschema inspect FILE`: a human summary of one file."""

from __future__ import annotations

from .. import api
from ..errors import FormatError
from .common import EXIT_OK, EXIT_UNREADABLE, add_load_options, err, load_options


def add(sub) -> None:
    s = sub.add_parser("inspect", help="human summary of a file")
    s.add_argument("file")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    add_load_options(s)
    s.set_defaults(func=run)


def run(args) -> int:
    try:
        doc = api.load(args.file, format=args.format, **load_options(args))
    except FormatError as exc:
        err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    print(f"{args.file}: {doc.detection}")
    for line in doc.summary():
        print(f"  {line}")
    report = api.validate(args.file, format=args.format or doc.detection.id, **load_options(args))
    print(f"  validation: {len(report.errors)} errors, {len(report.warnings)} warnings")
    return EXIT_OK
