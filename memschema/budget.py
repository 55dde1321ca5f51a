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


class Keys:
    """The keys of a run of records, `(namespace, id)` pairs held as id columns: what `charge_run`
    and `charge_all` take for thousands of records without making a tuple for each (a record
    decoded alone is charged under the same pair, e.g. `("frame", offset)`)."""

    def __init__(self, *runs: tuple[str, np.ndarray]):
        self.runs = [(namespace, np.asarray(ids, np.int64)) for namespace, ids in runs]
        self._ends = np.cumsum([len(ids) for _, ids in self.runs], dtype=np.int64)

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    def __getitem__(self, i: int) -> tuple[str, int]:
        run = int(np.searchsorted(self._ends, i, side="right"))
        namespace, ids = self.runs[run]
        return namespace, int(ids[i - (int(self._ends[run - 1]) if run else 0)])

    def head(self, n: int) -> Keys:
        """The first `n` keys."""
        runs, left = [], n
        for namespace, ids in self.runs:
            if left <= 0:
                break
            runs.append((namespace, ids[:left]))
            left -= len(ids)
        return Keys(*runs)


def _pair(key: Hashable) -> tuple[str, int] | None:
    """`key` as a (namespace, id) pair, the way `Keys` hold keys, or None for any other key (an id
    may be a numpy integer: `("frame", np.int64(8))` is the key `("frame", 8)`, as in a set)."""
    if type(key) is tuple and len(key) == 2 and type(key[0]) is str and isinstance(key[1], (int, np.integer)):
        return key[0], int(key[1])
    return None


class Meter:
    """What one file has decoded so far, against its budget."""

    def __init__(self, budget: Budget, file_size: int):
        self.budget = budget
        self.record_limit = budget.max_record_bytes
        self.file_limit = budget.file_limit(file_size)
        self.used = 0
        self._charged: set[Hashable] = set()          # keys other than (namespace, id) pairs
        self._ids: dict[str, set[int]] = {}           # (namespace, id) keys, by namespace

    def _has(self, key: Hashable) -> bool:
        pair = _pair(key)
        return key in self._charged if pair is None else pair[1] in self._ids.get(pair[0], ())

    def _add(self, key: Hashable) -> None:
        pair = _pair(key)
        if pair is None:
            self._charged.add(key)
        else:
            self._ids.setdefault(pair[0], set()).add(pair[1])

    def check_record(self, size: int, path: str = "", offset: int | None = None, what: str = "record") -> None:
        """Refuse a single decoded unit larger than the per-record budget."""
        if size > self.record_limit:
            raise BudgetExceeded(f"{what} would decode to {size} bytes, over the per-record budget of "
                                 f"{self.record_limit} bytes (max_record_bytes, --max-record-bytes)", path, offset)

    def charge(self, size: int, path: str = "", offset: int | None = None, key: Hashable = None,
               what: str = "record") -> None:
        """Account for `size` decoded bytes before they are allocated; `key` names the record so
        that decoding it again costs nothing.  Raises `BudgetExceeded` (nothing is charged then)."""
        if key is not None and self._has(key):
            return
        self.check_record(size, path, offset, what)
        if self.used + size > self.file_limit:
            raise BudgetExceeded(f"{what} would decode to {size} more bytes after {self.used} already decoded "
                                 f"from this file, over its budget of {self.file_limit} bytes "
                                 "(max_decoded_bytes, --max-decoded-bytes)", path, offset)
        self.used += size
        if key is not None:
            self._add(key)

    def refund(self, size: int, key: Hashable) -> None:
        """Undo `charge` of a record that turned out not to be decoded (its charge was early)."""
        pair = _pair(key)
        charged = self._charged if pair is None else self._ids.get(pair[0], set())
        item = key if pair is None else pair[1]
        if item in charged:
            charged.discard(item)
            self.used -= size

    def charge_all(self, sizes, keys: Keys | list[Hashable]) -> bool:
        """Charge every record of a run (distinct `keys`) if all of them fit, else charge nothing:
        when it returns True, charging them one by one in any order would have refused none."""
        fresh = self._fresh(keys)
        sizes = np.asarray(sizes, np.int64)[fresh]
        if len(sizes) and (int(sizes.max()) > self.record_limit or self.used + int(sizes.sum()) > self.file_limit):
            return False
        self.used += int(sizes.sum())
        self._add_all(keys)
        return True

    def charge_run(self, sizes, keys: Keys | list[Hashable]) -> int:
        """`charge` each of a run of records (distinct `keys`) in turn, and stop before the first one
        it would refuse: how many were charged.  That one is left to `charge`, which names it."""
        fresh = self._fresh(keys)
        sizes = np.asarray(sizes, np.int64)
        used = self.used + np.cumsum(np.where(fresh, sizes, 0))
        refused = fresh & ((sizes > self.record_limit) | (used > self.file_limit))
        n = int(np.argmax(refused)) if refused.any() else len(keys)
        if n:
            self.used = int(used[n - 1])
            self._add_all(keys.head(n) if isinstance(keys, Keys) else keys[:n])
        return n

    def _fresh(self, keys: Keys | list[Hashable]) -> np.ndarray:
        """Which of `keys` are not charged yet."""
        if not isinstance(keys, Keys):
            return np.fromiter((not self._has(k) for k in keys), bool, len(keys))
        parts = []
        for namespace, ids in keys.runs:
            charged = self._ids.get(namespace)
            parts.append(np.ones(len(ids), bool) if not charged or charged.isdisjoint(ids.tolist()) else
                         np.fromiter((i not in charged for i in ids.tolist()), bool, len(ids)))
        return np.concatenate(parts) if parts else np.ones(0, bool)

    def _add_all(self, keys: Keys | list[Hashable]) -> None:
        if not isinstance(keys, Keys):
            for key in keys:
                self._add(key)
            return
        for namespace, ids in keys.runs:
            self._ids.setdefault(namespace, set()).update(ids.tolist())


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
