"""Decoding budgets: the most bytes one record, and one file, may decode to.

A small file can declare gigabytes of decoded content: an LZ4 size prefix, a zlib stream, a run of
LZW tokens, or many records that share one compressed blob.  Every decoder asks the file's `Meter`
before it allocates.  A record may not decode to more than `max_record_bytes`; the records of one
file together not to more than `max_decoded_bytes` (by default the larger of 64 MiB and 64 × the
file's size: real memory files compress a few times, never 64 times).  A record is charged once,
however often a lazy document decodes it again and however many records share its bytes; so the
budget bounds the work and the memory a file can cause, not how often it is read.

Streams (pipes, FIFOs, `-`) are read into memory, up to `max_stream_bytes`.

Set a budget per call (`load(..., budget=Budget(...))`, also `validate`, `dump`, `detect`), for a
block of code (`with memschema.budget.using(Budget(...)):`), or on the command line
(`--max-record-bytes`, `--max-decoded-bytes`, `--max-stream-bytes`).
"""

from __future__ import annotations

import contextlib
import re
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from .errors import FormatError

MiB = 1 << 20
FILE_FLOOR = 64 * MiB      # the per-file budget is never below this
FILE_RATIO = 64            # ... and grows with the file: RATIO × its size


@dataclass(frozen=True)
class Budget:
    """Limits on decoding; None for `max_decoded_bytes` means max(FILE_FLOOR, FILE_RATIO × file size)."""

    max_record_bytes: int = 64 * MiB           # upstream's own record limit (MEM8 journals: 64 MiB)
    max_decoded_bytes: int | None = None
    max_stream_bytes: int = 1024 * MiB

    def file_limit(self, file_size: int) -> int:
        if self.max_decoded_bytes is not None:
            return self.max_decoded_bytes
        return max(FILE_FLOOR, FILE_RATIO * file_size)

    def meter(self, file_size: int) -> Meter:
        return Meter(self, file_size)


class BudgetExceeded(FormatError):
    """Decoding a record would pass the budget; `code` is `budget_exceeded` (formats prefix it)."""

    def __init__(self, message: str, path: str = "", offset: int | None = None):
        super().__init__(message, path, offset, "budget_exceeded")


class Meter:
    """What one file has decoded so far, against its budget."""

    def __init__(self, budget: Budget, file_size: int):
        self.budget = budget
        self.record_limit = budget.max_record_bytes
        self.file_limit = budget.file_limit(file_size)
        self.used = 0
        self._charged: set[Hashable] = set()

    def check_record(self, size: int, path: str = "", offset: int | None = None, what: str = "record") -> None:
        """Refuse a single decoded unit larger than the per-record budget."""
        if size > self.record_limit:
            raise BudgetExceeded(f"{what} would decode to {size} bytes, over the per-record budget of "
                                 f"{self.record_limit} bytes (max_record_bytes, --max-record-bytes)", path, offset)

    def charge(self, size: int, path: str = "", offset: int | None = None, key: Hashable = None,
               what: str = "record") -> None:
        """Account for `size` decoded bytes before they are allocated; `key` names the record so
        that decoding it again costs nothing.  Raises `BudgetExceeded` (nothing is charged then)."""
        if key is not None and key in self._charged:
            return
        self.check_record(size, path, offset, what)
        if self.used + size > self.file_limit:
            raise BudgetExceeded(f"{what} would decode to {size} more bytes after {self.used} already decoded "
                                 f"from this file, over its budget of {self.file_limit} bytes "
                                 "(max_decoded_bytes, --max-decoded-bytes)", path, offset)
        self.used += size
        if key is not None:
            self._charged.add(key)

    def refund(self, size: int, key: Hashable) -> None:
        """Undo `charge` of a record that turned out not to be decoded (its charge was early)."""
        if key in self._charged:
            self._charged.discard(key)
            self.used -= size

    def charge_all(self, sizes, keys: list[Hashable]) -> bool:
        """Charge every record of a run (distinct `keys`) if all of them fit, else charge nothing:
        when it returns True, charging them one by one in any order would have refused none."""
        charged = self._charged
        fresh = _fresh(charged, keys)
        sizes = np.asarray(sizes, np.int64)[fresh]
        if len(sizes) and (int(sizes.max()) > self.record_limit or self.used + int(sizes.sum()) > self.file_limit):
            return False
        self.used += int(sizes.sum())
        charged.update(keys)
        return True

    def charge_run(self, sizes, keys: list[Hashable]) -> int:
        """`charge` each of a run of records (distinct `keys`) in turn, and stop before the first one
        it would refuse: how many were charged.  That one is left to `charge`, which names it."""
        charged = self._charged
        fresh = _fresh(charged, keys)
        sizes = np.asarray(sizes, np.int64)
        used = self.used + np.cumsum(np.where(fresh, sizes, 0))
        refused = fresh & ((sizes > self.record_limit) | (used > self.file_limit))
        n = int(np.argmax(refused)) if refused.any() else len(keys)
        if n:
            self.used = int(used[n - 1])
            self._charged.update(keys[:n])
        return n


def _fresh(charged: set, keys: list) -> np.ndarray:
    """Which of `keys` are not charged yet."""
    if charged.isdisjoint(keys):
        return np.ones(len(keys), bool)
    return np.fromiter((k not in charged for k in keys), bool, len(keys))


DEFAULT = Budget()
_budget: ContextVar[Budget | None] = ContextVar("memschema_budget", default=None)
_meter: ContextVar[Meter | None] = ContextVar("memschema_meter", default=None)


def current() -> Budget:
    """The budget in force (`using`, or the defaults)."""
    return _budget.get() or DEFAULT


@contextlib.contextmanager
def using(budget: Budget | None) -> Iterator[Budget]:
    """Make `budget` the one in force inside the block (None: leave it as it is)."""
    if budget is None:
        yield current()
        return
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


@contextlib.contextmanager
def metering(meter: Meter) -> Iterator[Meter]:
    """Decoders inside the block charge `meter` (the file being loaded)."""
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


def meter_for(data) -> Meter:
    """The meter of the file being loaded, or a new one for `data` under the budget in force."""
    active = _meter.get()
    return active if active is not None else current().meter(len(data))


class SpanCache:
    """A small LRU of decoded contents keyed by the span of their encoded bytes, so records sharing
    one blob decode it once; bounded in entries and in total bytes (an entry larger than the
    bound is not kept)."""

    def __init__(self, max_entries: int = 64, max_bytes: int = 32 * MiB):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self.size = 0

    def get(self, key: Hashable):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: Hashable, value, size: int) -> None:
        if size > self.max_bytes or key in self._items:
            return
        self._items[key] = value
        self._sizes[key] = size
        self.size += size
        while len(self._items) > self.max_entries or self.size > self.max_bytes:
            old, _ = self._items.popitem(last=False)
            self.size -= self._sizes.pop(old)


_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(i?b?)\s*$", re.I)


def parse_size(text: str) -> int:
    """'64M', '1GiB', '4096' -> bytes (binary multiples), for the command line."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (e.g. 4096, 64M, 1G)")
    return int(m.group(1)) << (10 * "_kmgt".index(m.group(2).lower() or "_"))
