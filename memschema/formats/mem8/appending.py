"""Append-only journals (native ST8 pair files, T8R): the loaded bytes stay untouched, new records
queue as pieces (`memschema.journal.Journal`), and `commit` writes them without ever rewriting or
cutting the user's file."""

from __future__ import annotations

import os

from ...source import append_safely, atomic_write


class AppendOnly:
    """Mixin for a `Journal` document: `commit` writes what is pending."""

    def commit(self, path: str | os.PathLike) -> None:
        """Write the queued bytes: a new (or empty) file atomically (temporary file + rename), an
        existing one by an append that refuses if the file changed since it was read and cuts
        back its own bytes on failure."""
        if not os.path.exists(path) or (os.path.getsize(path) == 0 and not len(self.data)):
            atomic_write(path, self.build())
        elif self.pending:
            append_safely(path, self.pending, self.size_on_disk)
        self.mark_committed()
