"""`memschema schemas [--export DIR]`: every registered declaration (usable with `dump --as`)."""

from __future__ import annotations

from pathlib import Path

from .. import registry
from ..schemas import describe, export, export_data
from .common import EXIT_FINDINGS, EXIT_OK, add_command, err, print_envelope

EXAMPLES = """\
  memschema schemas                      # name, size in bytes (or "variable") and meaning of each
  memschema schemas --json               # every declaration with its fields (offset, size, type, doc)
  memschema schemas --export schemas_out # JSON descriptions, .ksy files and output schemas, as in schemas/"""


JSON_KEYS = {
    "formats": "per format: {format, title, variants, declarations}; each declaration {size, doc, fields}, each "
               "field {name, offset, size, type, doc} (offset/size null when variable)",
    "written": "with --export: the files written",
}


def add(sub) -> None:
    s = add_command(sub, "schemas", "list every registered declaration (for dump --as)", EXAMPLES,
                    JSON_KEYS,
                    description="List every registered declaration (`FORMAT.NAME`, usable with `dump --as`), "
                                "or write the language-neutral descriptions generated from them.")
    s.add_argument("--export", metavar="DIR", help="write one JSON description per format, one Kaitai Struct "
                                                   ".ksy per layout and the JSON Schemas of the outputs to DIR")
    s.set_defaults(func=run)


def run(args) -> int:
    from ..ksy import Unsupported
    if args.export:
        try:
            written = export(Path(args.export))
        except Unsupported as exc:
            err(f"not expressible as Kaitai Struct: {exc}")
            return EXIT_FINDINGS
        if args.json:
            print_envelope(written=[str(p) for p in written])
        else:
            print(f"wrote {len(written)} files to {args.export}")
        return EXIT_OK
    if args.json:
        print_envelope(formats=export_data())
        return EXIT_OK
    for name, decl in sorted(registry.declarations().items()):
        info = describe(decl)
        size = info["size"] if info["size"] is not None else "variable"
        print(f"{name:40} {size:>8}  {info['doc'] or ''}".rstrip())
    return EXIT_OK
