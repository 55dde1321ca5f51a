"""`memschema cleanup [DIR|FILE]...`: remove temporary files that an interrupted save left behind.

A save writes `.NAME.memschema-PID-RANDOM.tmp` beside NAME and renames it over NAME; a writer
killed in between leaves it.  It is stale when its process is gone or it is untouched for an hour
(`memschema.writes.is_stale`); a later save of NAME removes its own stale ones too.
"""

from __future__ import annotations

from ..writes import remove_stale, stale_temp_files
from .common import EXIT_OK, EXIT_UNREADABLE, add_command, err, print_envelope

EXAMPLES = """\
  memschema cleanup                       # stale temporary files of interrupted saves in this folder
  memschema cleanup --dry-run seed.m8     # only those of one file, listed, nothing removed"""


JSON_KEYS = {
    "files": "the stale temporary files found (removed unless --dry-run)",
    "removed": "false with --dry-run, else true",
}


def add(sub) -> None:
    s = add_command(sub, "cleanup", "remove stale temporary files of interrupted saves", EXAMPLES, JSON_KEYS,
                    description="Remove the temporary files `.NAME.memschema-PID-RANDOM.tmp` that a save "
                                "killed before its rename left behind: in a folder (all of them) or of one "
                                "file.  Only stale ones (their process is gone, or untouched for an hour).")
    s.add_argument("paths", nargs="*", default=["."], metavar="DIR|FILE",
                   help="a folder (its stale temporary files) or a memory file (its own); default: .")
    s.add_argument("--dry-run", action="store_true", help="list them, remove nothing")
    s.set_defaults(func=run)


def run(args) -> int:
    status, files = EXIT_OK, []
    for path in args.paths:
        try:
            found = stale_temp_files(path) if args.dry_run else remove_stale(path)
        except OSError as exc:
            err(f"{path}: {exc.strerror or exc}")
            status = EXIT_UNREADABLE
            continue
        files += [str(tmp) for tmp in found]
    if args.json:
        print_envelope(files=files, removed=not args.dry_run)
    else:
        for tmp in files:
            print(f"{'stale' if args.dry_run else 'removed'} {tmp}")
    return status
