"""`memschema` command line: detect, inspect, dump, validate, explain, convert, repair, schemas, export,
demo, cleanup (+ format commands).

Exit codes: 0 success / no errors, 1 a file has validation errors, 2 a file is unreadable or not a
memory file (or bad usage), 70 an unexpected internal error (one line; `--debug` shows the
traceback), 130 interrupted (Ctrl-C), 141 the output pipe closed early.  Each command lives in a
module of its own with `add(subparsers)`; `build_parser` is also what docs/cli.md is generated from.
"""

from __future__ import annotations

import argparse
import traceback

from .. import budget, registry
from ..errors import FormatError
from . import cleanup, convert, demo, detect, dump, explain, export, inspect, repair, schemas, validate
from .common import (
    EXIT_CODES_HELP,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SOFTWARE,
    EXIT_UNREADABLE,
    err,
    guard_broken_pipe,
)

COMMANDS = (detect, inspect, dump, validate, explain, convert, repair, schemas, export, demo, cleanup)
NOT_READING = ("schemas", "cleanup")   # commands that decode no memory file: no decoding limits

__all__ = ["EXIT_FINDINGS", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_SOFTWARE", "EXIT_UNREADABLE", "build_parser", "main"]

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


def _size(text: str) -> int:
    try:
        return budget.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_limits(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("decoding limits (memschema.budget; sizes like 4096, 64M, 1G)")
    g.add_argument("--max-record-bytes", type=_size, metavar="N",
                   help=f"most bytes one record may decode to (default {budget.DEFAULT.max_record_bytes >> 20} MiB)")
    g.add_argument("--max-decoded-bytes", type=_size, metavar="N",
                   help=f"most bytes all records of one file may decode to (default: {budget.FILE_FLOOR >> 20} MiB "
                        f"or {budget.FILE_RATIO} x the file size, whichever is larger)")
    g.add_argument("--max-stream-bytes", type=_size, metavar="N",
                   help="most bytes read from a pipe, FIFO or - "
                        f"(default {budget.DEFAULT.max_stream_bytes >> 20} MiB)")


def _budget(args) -> budget.Budget | None:
    given = {name: getattr(args, name, None) for name in ("max_record_bytes", "max_decoded_bytes", "max_stream_bytes")}
    given = {k: v for k, v in given.items() if v is not None}
    return budget.Budget(**{**budget.DEFAULT.__dict__, **given}) if given else None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="memschema", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read, write and validate the binary memory files of AI-agent tools.",
        epilog=f"{formats_help()}\n\nexamples:\n{EXAMPLES}\n\n{EXIT_CODES_HELP}\n\n"
               "`memschema COMMAND --help` shows each command's options and examples.")
    p.add_argument("--version", action="version", version=f"memschema {__import__('memschema').__version__}")
    p.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error (exit 70)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add(sub)
    for fmt in registry.formats():
        fmt.add_commands(sub)
    for name, command_parser in sub.choices.items():
        command_parser.set_defaults(func=guard_broken_pipe(command_parser.get_default("func")))
        if name not in NOT_READING:
            _add_limits(command_parser)
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
        with budget.using(_budget(args)):
            return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            traceback.print_exc()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except FormatError as exc:          # raised while output was being produced (e.g. a file that changed)
        err(str(exc))
        return EXIT_UNREADABLE
    except OSError as exc:
        err(f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    except MemoryError:
        if args.debug:
            traceback.print_exc()
        err("out of memory (lower --max-decoded-bytes / --max-record-bytes, or run with --debug for the traceback)")
        return EXIT_SOFTWARE
    except Exception as exc:  # noqa: BLE001 - anything else is a bug: one line, its own exit code
        if args.debug:
            traceback.print_exc()
        err(f"internal error: {type(exc).__name__}: {exc} (run `memschema --debug ...` for the traceback)")
        return EXIT_SOFTWARE
