"""`memschema schemas [--export DIR]`: every registered declaration (usable with `dump --as`)."""

from __future__ import annotations

from pathlib import Path

from .. import registry
from .common import EXIT_FINDINGS, EXIT_OK, err


def add(sub) -> None:
    s = sub.add_parser("schemas", help="list every registered declaration (for dump --as)")
    s.add_argument("--export", metavar="DIR",
                   help="write one JSON description per format and one Kaitai Struct .ksy per layout to DIR")
    s.set_defaults(func=run)


def run(args) -> int:
    from ..ksy import Unsupported
    from ..schemas import describe, export
    if args.export:
        try:
            written = export(Path(args.export))
        except Unsupported as exc:
            err(f"not expressible as Kaitai Struct: {exc}")
            return EXIT_FINDINGS
        print(f"wrote {len(written)} files to {args.export}")
        return EXIT_OK
    for name, decl in sorted(registry.declarations().items()):
        info = describe(decl)
        size = info["size"] if info["size"] is not None else "variable"
        print(f"{name:40} {size:>8}  {info['doc'] or ''}".rstrip())
    return EXIT_OK
