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
