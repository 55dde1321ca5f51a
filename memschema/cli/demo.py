"""`memschema demo [DIR]`: write sample files of every format with memschema's own writers, then
detect and validate them."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import registry
from ..source import atomic_write
from . import detect, validate
from .common import EXIT_UNREADABLE


def add(sub) -> None:
    s = sub.add_parser("demo", help="write sample files of every format and validate them")
    s.add_argument("directory", nargs="?", default="memschema-samples")
    s.set_defaults(func=run)


def run(args) -> int:
    out = Path(args.directory)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for fmt in registry.formats():
        for name, data in fmt.samples().items():
            atomic_write(out / name, data)
            names.append(str(out / name))
    print(f"wrote {len(names)} sample files to {out}/")
    if not names:
        return EXIT_UNREADABLE
    status = detect.run(argparse.Namespace(files=names))
    return max(status, validate.run(argparse.Namespace(files=names, strict=False, format=None, json=False)))
