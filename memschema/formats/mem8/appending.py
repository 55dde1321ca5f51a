"""Append-only journals (native ST8 pair files, T8R): the loaded bytes stay untouched, new records
queue as pieces (`memschema.journal.Journal`), and `commit` appends them the way smart-tree's
`RecordStore` does, under its writer lock (LOCKS.md 1.6): take the `flock`, replay the file as it
is *now*, cut a torn tail, append the whole records, fsync.  Records are independent appends, so
records another writer committed since this document was read stay, and ours follow them."""

from __future__ import annotations

import contextlib
import os

from ...errors import FormatError
from ...locking import Held
from ...publish import FileStamp, create_new
from ...source import append_safely
from .locks import RECORD_STORE_LOCK


class AppendOnly:
    """Mixin for a `Journal` document.  Subclasses may say what a new file starts with
    (`_file_prefix`) and refuse a file of another kind (`_check_kind`)."""

    origin: FileStamp | None = None
    _held: tuple[str, Held] | None = None

    # -- what the journal kinds say ---------------------------------------------------------
    def _file_prefix(self) -> bytes:
        """Bytes a new, empty journal file starts with (queued by `new()` as the first piece)."""
        return b""

    def _queued_records(self) -> bytes:
        """The pending records (a new journal's own file prefix, if queued, is not one)."""
        pending, prefix = self.pending, self._file_prefix()
        if not len(self.data) and prefix and self.committed == 0 and pending.startswith(prefix):
            return pending[len(prefix):]
        return pending

    def _check_kind(self, fresh) -> None:
        """FormatError when the file as it is now (`fresh`, loaded) is not a journal this
        document may append to; it is then left untouched."""

    def _complete_length(self, current: bytes) -> int:
        """Length of the complete records of `current` (upstream's replay)."""
        if not len(current):
            return 0
        fresh = type(self)(self.detection, current)
        self._check_kind(fresh)
        return len(current) if fresh.torn_tail is None else fresh.torn_tail.offset

    def _reset(self, data: bytes) -> None:
        self.data = data
        self.appended, self.committed, self._appended_size = [], 0, 0
        self.torn_tail = None
        self.reload()

    # -- the lock ---------------------------------------------------------------------------
    def hold(self, path: str | os.PathLike, timeout: float | None = None) -> Held:
        """Take the store's writer lock and keep it, as an upstream store handle does, until the
        returned lock is released (`with doc.hold(path): ...`); commits in between reuse it."""
        held = RECORD_STORE_LOCK.acquire(path, timeout)
        self._held = (os.path.realpath(path), held)
        return held

    def _locked(self, path, timeout: float | None):
        if self._held is not None and self._held[1].held and self._held[0] == os.path.realpath(path):
            return contextlib.nullcontext()
        return RECORD_STORE_LOCK.acquire(path, timeout)

    # -- committing -------------------------------------------------------------------------
    def commit(self, path: str | os.PathLike, *, timeout: float | None = None) -> dict:
        """Append the queued records to the journal at `path` under its writer lock (`LockHeld`
        when another writer holds it past `timeout`, default: fail at once as upstream).

        A missing file is created (never replacing one that appeared meanwhile); an existing
        one is replayed under the lock, a torn tail cut as upstream's open does, and the records
        appended after the last complete one; an append that fails is cut back.  Returns the
        offset and size of the appended records and how many torn bytes were cut."""
        records = self._queued_records()
        with self._locked(path, timeout):
            current = _read(path)
            cut = 0
            if current is None:
                offset = len(self._file_prefix())
                new = self._file_prefix() + records
                create_new(path, new, 0o600)
            else:
                try:
                    end = self._complete_length(current)
                except FormatError as exc:
                    raise FormatError(f"{path}: {exc.message}", exc.path, exc.offset, exc.code) from None
                head = self._file_prefix() if end == 0 else b""
                cut = len(current) - end
                if cut:
                    _truncate(path, end)
                if head or records:
                    append_safely(path, head + records, end)
                offset = end + len(head)
                new = current[:end] + head + records
            self.origin = FileStamp.of(path)
        self.source = os.fspath(path)
        self._reset(new)
        return {"offset": offset, "bytes": len(records), "torn_tail_cut": cut}


def _read(path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _truncate(path, length: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(length)
        fh.flush()
        os.fsync(fh.fileno())
