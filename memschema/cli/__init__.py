"""`memschema` command line: detect, inspect, dump, validate, explain, convert, repair, schemas, export,
demo (+ format commands).

Exit codes: 0 success / no errors, 1 a file has validation errors, 2 a file is unreadable or not a
memory file (or bad usage), 141 the output pipe closed early.  Each command lives in a module of
its own with `add(subparsers)`; `build_parser` is also what docs/cli.md is generated from.
"""

from __future__ import annotations

import argparse

from .. import registry
from . import convert, demo, detect, dump, explain, export, inspect, repair, schemas, validate
from .common import EXIT_CODES_HELP, EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, err, guard_broken_pipe

COMMANDS = (detect, inspect, dump, validate, explain, convert, repair, schemas, export, demo)

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_UNREADABLE", "build_parser", "main"]

EXAMPLES = """\
  memschema demo samples && cd samples       # sample files of every format, validated
  memschema detect .
  memschema validate --strict seed.m8
  memschema inspect brain_agentic.amem
  memschema dump --json sample_store.rvf
  python -m memschema --help                 # the same command"""


def formats_help() -> str:
    """The registered formats with their variants and file extensions (for `--help`)."""
    lines = ["formats:"]
    for fmt in registry.formats():
        variants = f" (variants: {', '.join(fmt.variants)})" if fmt.variants else ""
        lines.append(f"  {fmt.name:11} {fmt.title}{variants}; files {' '.join(fmt.extensions)}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="memschema", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read, write and validate the binary memory files of AI-agent tools.",
        epilog=f"{formats_help()}\n\nexamples:\n{EXAMPLES}\n\n{EXIT_CODES_HELP}\n\n"
               "`memschema COMMAND --help` shows each command's options and examples.")
    p.add_argument("--version", action="version", version=f"memschema {__import__('memschema').__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add(sub)
    for fmt in registry.formats():
        fmt.add_commands(sub)
    for command_parser in sub.choices.values():
        command_parser.set_defaults(func=guard_broken_pipe(command_parser.get_default("func")))
    return p


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion when the optional `argcomplete` is installed (`pip install memschema[completion]`,
    then `eval "$(register-python-argcomplete memschema)"`); a no-op otherwise."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    _complete(parser)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        err(f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
