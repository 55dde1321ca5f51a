"""What every command shares: exit codes, help layout, and the way messages and JSON are printed."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import textwrap
from collections.abc import Callable

from ..jsonify import write_json
from ..output import envelope

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2
EXIT_SOFTWARE = 70      # sysexits EX_SOFTWARE: an unexpected internal error (a bug), not 1 nor 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away

EXIT_CODES_HELP = f"""exit codes:
  {EXIT_OK}    success: every file read, no finding of severity error
  {EXIT_FINDINGS}    a file has findings of severity error (validate, inspect, lineage)
  {EXIT_UNREADABLE}    a file could not be read, is not a memory file, or the command line is wrong
  {EXIT_SOFTWARE}   an unexpected internal error (one line; `memschema --debug ...` shows the traceback)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)
  {EXIT_BROKEN_PIPE}  the output pipe was closed before everything was written (e.g. `| head`)"""


# How the JSON outputs describe a finding and a report (docs/cli.md renders these).
FINDING_JSON = "{severity, code, message, path, offset}: offset is the absolute byte offset or null"
REPORT_JSON = ("{source, format, variant, ok, errors, warnings, findings}: errors/warnings are counts, "
               "findings a list of " + FINDING_JSON.split(":")[0])


def err(msg: str) -> None:
    print(f"memschema: {msg}", file=sys.stderr)


def print_json(obj: dict) -> None:
    """Print one top-level JSON object (`obj` already carries `memschema_output`); `jsonify.Stream`
    and `Hex` parts (a document's records) are produced while written."""
    write_json(obj, sys.stdout)
    sys.stdout.write("\n")


def print_envelope(**fields) -> None:
    print_json(envelope(**fields))


def add_command(sub, name: str, summary: str, examples: str, json_keys: dict[str, str], *,
                description: str = "", more: str = "") -> argparse.ArgumentParser:
    """A subcommand with `--json`, whose `--help` shows its description, examples and the exit codes.

    `examples` (one command a line, `# comment` allowed) and `json_keys` (top-level key -> meaning,
    besides `memschema_output`) are kept on the parser: docs/cli.md is generated from them and a
    test runs every example and checks every key.  `more` is extra help text shown after the examples."""
    parser = sub.add_parser(name, help=summary, description=textwrap.fill(description or summary, 79),
                            epilog=f"examples:\n{examples.rstrip()}\n\n{more}{EXIT_CODES_HELP}",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object: \"memschema_output\" (version of the shape), then "
                             + ", ".join(json_keys))
    parser.set_defaults(doc_examples=examples, doc_json_keys=json_keys)
    return parser


def add_all_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true",
                        help="list every finding (text output lists the first 10 of each code, then a count)")


def guard_broken_pipe(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a command; when the reader of stdout goes away, stop quietly with EXIT_BROKEN_PIPE.

    stdout is pointed at /dev/null so that the interpreter's final flush does not fail again."""
    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            status = func(args)
            sys.stdout.flush()
            return status
        except BrokenPipeError:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            except (OSError, ValueError):  # stdout without a file descriptor (captured)
                pass
            return EXIT_BROKEN_PIPE
    return run


def add_load_options(parser) -> None:
    """`--NAME VALUE` for every load option a format declares (`Format.load_options`)."""
    from .. import registry
    seen = set()
    for fmt in registry.formats():
        for name, text in fmt.load_options.items():
            if name not in seen:
                seen.add(name)
                parser.add_argument(f"--{name.replace('_', '-')}", dest=f"load_{name}", metavar="VALUE",
                                    help=f"{fmt.name}: {text}")


def load_options(args) -> dict:
    """The load options given on the command line."""
    return {k[len("load_"):]: v for k, v in vars(args).items() if k.startswith("load_") and v is not None}
