"""`memschema` command line: detect, inspect, dump, validate, explain, convert, repair, schemas, export,
demo (+ format commands).

Exit codes: 0 success / no errors, 1 a file has validation errors, 2 a file is unreadable or not a
memory file (or bad usage).  Each command lives in a module of its own with `add(subparsers)`.
"""

from __future__ import annotations

import argparse

from .. import registry
from . import convert, demo, detect, dump, explain, export, inspect, repair, schemas, validate
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, err

COMMANDS = (detect, inspect, dump, validate, explain, convert, repair, schemas, export, demo)

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_UNREADABLE", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="memschema", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"memschema {__import__('memschema').__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(sub)
    for fmt in registry.formats():
        fmt.add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        err(f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
