"""Turning command-line paths into the files a command reads: folders are walked recursively.

Rules (documented in docs/cli.md, "Folders"): a folder given on the command line is walked
recursively in name order; its sub-folders whose names start with "." (`.git`, `.venv`, ...) are
not entered and symbolic links to folders are not followed (no loops); every regular file found
is read, whatever its name (`memschema detect` says what each one is).  A file found in a folder
that is plainly not a memory file (text, JSON, zlib JSON, empty) is *skipped*: listed, but it does
not change the exit status; the same file named on the command line is an error (exit 2).
`-` (standard input) is passed through unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """A file to read: `name` as the user will see it, `explicit` when it was named, not found."""

    name: str
    explicit: bool


def expand(paths: list[str]) -> list[Target]:
    """The files behind `paths`, in command-line order, folders expanded recursively."""
    out: list[Target] = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            out.extend(Target(str(f), False) for f in _walk(Path(path)))
        else:
            out.append(Target(path, True))
    return out


def _walk(root: Path) -> list[Path]:
    files: list[Path] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(folder) / n for n in sorted(names) if os.path.isfile(os.path.join(folder, n)))
    return files


def has_folder(paths: list[str]) -> bool:
    return any(p != "-" and os.path.isdir(p) for p in paths)
