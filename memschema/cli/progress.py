"""A one-line progress indicator on stderr, shown only when stderr is a terminal.

Long operations are many files or big files: the line says which file of how many is being read
(and its size when it is big); it is rewritten in place at most ten times a second and erased after
each file (before the command prints that file's result), so output redirected to a file or a pipe
never contains it and terminal output is never interleaved with it.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

BIG_FILE = 64 << 20     # a single file this large gets a line of its own
REFRESH_S = 0.1


class Progress:
    def __init__(self, total: int, verb: str, stream: TextIO | None = None):
        self.total, self.verb = total, verb
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_tty(self.stream)
        self.done = 0
        self.shown = False
        self._last = 0.0

    def start(self, name: str) -> None:
        """Announce that `name` is being read (the `done`-th file of `total`)."""
        if not self.enabled:
            return
        size = _size(name)
        big = size >= BIG_FILE
        if not big and self.total < 2:
            return
        now = time.monotonic()
        if not big and now - self._last < REFRESH_S:
            return
        self._last = now
        count = f"[{self.done + 1}/{self.total}] " if self.total > 1 else ""
        extra = f" ({size / (1 << 20):.0f} MiB)" if big else ""
        line = f"{count}{self.verb} {name}{extra}"
        width = _columns()
        if len(line) > width - 1:
            line = "…" + line[-(width - 2):]
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self.shown = True

    def finish_one(self) -> None:
        """The file is read: erase the line before the command prints its result."""
        self.done += 1
        self.clear()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _size(name: str) -> int:
    try:
        return os.stat(name).st_size
    except (OSError, ValueError):
        return 0


def _columns() -> int:
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        columns = 0
    return max(20, columns or 80)  # a terminal that reports no width (a bare pty) gets 80
