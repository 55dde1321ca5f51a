"""Append-only journals (native ST8 pair files, T8R): the loaded bytes stay untouched, new bytes
queue in `pending`, and `commit` writes them without ever rewriting or cutting the user's file."""

from __future__ import annotations

import os

from ...source import append_safely, atomic_write


class AppendOnly:
    """Mixin for a Document with `data` (the loaded bytes) and `pending` (queued new bytes)."""

    data: object
    pending: bytearray

    def build(self) -> bytes:
        return bytes(self.data) + bytes(self.pending)

    def commit(self, path: str | os.PathLike) -> None:
        """Write the queued bytes: a new (or empty) file atomically (temporary file + rename), an
        existing one by an append that refuses if the file changed since it was read and cuts
        back its own bytes on failure."""
        if not os.path.exists(path) or (os.path.getsize(path) == 0 and not len(self.data)):
            atomic_write(path, self.build())
        elif self.pending:
            append_safely(path, bytes(self.pending), len(self.data))
        self.data, self.pending = self.build(), bytearray()
