"""`memschema demo [DIR]`: write sample files of every format with memschema's own writers, then
detect and validate them.

Without DIR the samples go to a new folder `memschema-samples-XXXXXXXX` in the system's temporary
folder (or, when that lies inside a git checkout, in the home folder): never into the current
folder, which is often a checkout.  The folder is printed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from .. import api, registry
from ..output import detection_json
from ..source import atomic_write
from .common import EXIT_UNREADABLE, REPORT_JSON, add_command, err, print_envelope
from .reporting import report_lines, report_status

EXAMPLES = """\
  memschema demo                 # a new folder memschema-samples-XXXXXXXX in the temporary folder
  memschema demo samples         # into ./samples (created if needed)
  memschema demo --json samples"""

PREFIX = "memschema-samples-"


JSON_KEYS = {
    "directory": "the folder the samples were written to",
    "files": "what `detect --json` says of each sample",
    "reports": "the validation report of each sample, " + REPORT_JSON,
}


def add(sub) -> None:
    s = add_command(sub, "demo", "write sample files of every format and validate them", EXAMPLES,
                    JSON_KEYS,
                    description="Write small sample files of every format with memschema's own writers, then "
                                "detect and validate them.  Without DIR a new folder is made in the temporary "
                                "folder (never inside a git checkout) and its path is printed.")
    s.add_argument("directory", nargs="?", metavar="DIR", help="where to write (default: a new folder, printed)")
    s.set_defaults(func=run)


def inside_checkout(path: Path) -> bool:
    """Whether `path` lies inside a git work tree (a `.git` folder or file in it or above it)."""
    path = path.resolve()
    return any((p / ".git").exists() for p in (path, *path.parents))


def default_directory() -> Path | None:
    """A new, empty folder for the samples outside any git checkout, or None if there is no such place."""
    for base in (Path(tempfile.gettempdir()), Path.home()):
        if base.is_dir() and os.access(base, os.W_OK) and not inside_checkout(base):
            return Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
    return None


def run(args: argparse.Namespace) -> int:
    if args.directory:
        out = Path(args.directory)
        out.mkdir(parents=True, exist_ok=True)
    else:
        out = default_directory()
        if out is None:
            err("the temporary folder and the home folder are inside git checkouts or not writable; "
                "name a folder: memschema demo DIR")
            return EXIT_UNREADABLE
    umask = os.umask(0)
    os.umask(umask)
    names = []
    for fmt in registry.formats():
        for name, data in fmt.samples().items():
            atomic_write(out / name, data)
            os.chmod(out / name, 0o666 & ~umask)  # an ordinary new file, as `cp` would make it
            names.append(str(out / name))
    if not names:
        err("no format has sample files")
        return EXIT_UNREADABLE
    reports = [api.validate(n) for n in names]
    status = max(report_status(r) for r in reports)
    if args.json:
        print_envelope(directory=str(out), files=[detection_json(n, api.detect(n)) for n in names],
                       reports=[r.to_json() for r in reports])
        return status
    print(f"wrote {len(names)} sample files to {out}{os.sep}")
    for report in reports:
        print("\n".join(report_lines(report)))
    return status
