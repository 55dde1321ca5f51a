"""What every command shares: exit codes and the way messages and JSON are printed."""

from __future__ import annotations

import sys

from ..jsonify import write_json

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


def err(msg: str) -> None:
    print(f"memschema: {msg}", file=sys.stderr)


def print_json(obj) -> None:
    """JSON on stdout; `jsonify.Stream`/`Hex` parts are produced while written."""
    write_json(obj, sys.stdout)
    sys.stdout.write("\n")
