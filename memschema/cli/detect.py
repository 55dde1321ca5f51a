"""`memschema detect FILE...`: the format id and variant of each file, or what it looks like."""

from __future__ import annotations

from .. import api
from .common import EXIT_OK, EXIT_UNREADABLE, err


def add(sub) -> None:
    s = sub.add_parser("detect", help="name the format of each file")
    s.add_argument("files", nargs="+")
    s.set_defaults(func=run)


def run(args) -> int:
    status = EXIT_OK
    for name in args.files:
        try:
            found = api.detect(name)
        except OSError as exc:
            err(f"{name}: {exc.strerror or exc}")
            status = EXIT_UNREADABLE
            continue
        if found.is_memory_file:
            print(f"{name}: {found.id} ({found.description})")
        else:
            what = found.variant or "nothing known"
            print(f"{name}: {found.id}: not a binary memory file (looks like {what}: {found.description})")
            status = max(status, EXIT_UNREADABLE)
    return status
