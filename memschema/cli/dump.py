"""`memschema dump --json FILE`: every field as JSON, or one declaration with `--as`."""

from __future__ import annotations

from .. import api
from ..errors import FormatError
from ..output import document_json, envelope
from .common import EXIT_OK, EXIT_UNREADABLE, add_command, add_load_options, err, load_options, print_json

EXAMPLES = """\
  memschema dump --json seed.m8
  memschema dump --json --format amem/spec-v1 brain_spec_v1.amem
  memschema dump --json --as rvf.lineage_record tests/corpus/rvf/spec_lineage_record.bin
  memschema dump --json sample_store.rvf | head -n 5      # a closed pipe ends the dump quietly, status 141"""


JSON_KEYS = {
    "format": "the format id, e.g. mem8, rvf, amem",
    "variant": "the detected layout or dialect (seed, native, runtime, agentic-memory, ...), null if none; "
               "absent with --as (nothing is detected)",
    "…": "every key of the format's dump (see the format's page); with --as: `kind` and the structure under "
         "the key named by it",
}


def add(sub) -> None:
    s = add_command(sub, "dump", "every field as JSON (bytes as hex)", EXAMPLES, JSON_KEYS,
                    description="Print every field of a memory file as JSON: `format` and `variant`, then the "
                                "format's own keys (byte strings as lowercase hex, integers exact, enum members "
                                "by name).  With --as, parse the bytes as one registered declaration.")
    s.add_argument("file")
    s.add_argument("--as", dest="as_decl", metavar="FORMAT.DECLARATION",
                   help="parse the bytes as one declaration (list: `memschema schemas`)")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    add_load_options(s)
    s.set_defaults(func=run)


def run(args) -> int:
    try:
        if args.as_decl:
            out = envelope(**api.parse_as(args.as_decl, args.file))
        else:
            out = document_json(api.load(args.file, format=args.format, **load_options(args)), stream=True)
    except FormatError as exc:
        err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    except KeyError as exc:
        err(str(exc.args[0]))
        return EXIT_UNREADABLE
    print_json(out)
    return EXIT_OK
