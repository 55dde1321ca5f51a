"""`memschema dump --json FILE`: every field as JSON, or one declaration with `--as`."""

from __future__ import annotations

from .. import api
from ..errors import FormatError
from .common import EXIT_OK, EXIT_UNREADABLE, err, print_json


def add(sub) -> None:
    s = sub.add_parser("dump", help="every field as JSON (bytes as hex)")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="JSON output (the default and only form)")
    s.add_argument("--as", dest="as_decl", metavar="FORMAT.DECLARATION",
                   help="parse the bytes as one declaration (see `memschema schemas`)")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    s.set_defaults(func=run)


def run(args) -> int:
    try:
        if args.as_decl:
            out = api.parse_as(args.as_decl, args.file)
        else:
            out = api.load(args.file, format=args.format).json_stream()
    except FormatError as exc:
        err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    except KeyError as exc:
        err(str(exc.args[0]))
        return EXIT_UNREADABLE
    print_json(out)  # JSON is the only dump form; --json is accepted for clarity
    return EXIT_OK
