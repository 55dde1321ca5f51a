"""What every command shares: exit codes and the way messages and JSON are printed."""

from __future__ import annotations

import json
import sys

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


def err(msg: str) -> None:
    print(f"memschema: {msg}", file=sys.stderr)


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write("\n")


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
