"""`memschema cleanup [DIR|FILE]...`: remove temporary files that an interrupted save left behind.

A save writes `.NAME.memschema-PID-RANDOM.tmp` beside NAME and renames it over NAME; a writer
killed in between leaves it.  It is stale when its process is gone or it is untouched for an hour
(`memschema.writes.is_stale`); a later save of NAME removes its own stale ones too.
"""

from __future__ import annotations

from ..writes import remove_stale, stale_temp_files
from .common import EXIT_OK, EXIT_UNREADABLE, err


def add(sub) -> None:
    s = sub.add_parser("cleanup", help="remove stale temporary files of interrupted saves")
    s.add_argument("paths", nargs="*", default=["."], metavar="DIR|FILE",
                   help="a directory (all its stale temporary files) or a memory file (its own); default .")
    s.add_argument("--dry-run", action="store_true", help="list them, remove nothing")
    s.set_defaults(func=run)


def run(args) -> int:
    status = EXIT_OK
    for path in args.paths:
        try:
            found = stale_temp_files(path) if args.dry_run else remove_stale(path)
        except OSError as exc:
            err(f"{path}: {exc.strerror or exc}")
            status = EXIT_UNREADABLE
            continue
        for tmp in found:
            print(f"{'stale' if args.dry_run else 'removed'} {tmp}")
    return status
