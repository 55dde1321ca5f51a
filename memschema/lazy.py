"""Sequences whose items are made when first asked (a record parsed, a segment or frame object
built), indexed as a list is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


class LazySequence(Sequence):
    """Subclasses give `__len__` and `_item(i)` for 0 <= i < len; slices give lists, negative
    indices count from the end, anything else is an IndexError; iteration asks `_item` in order."""

    def _item(self, i: int) -> Any:
        raise NotImplementedError

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._item(k) for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"item {i} of {len(self)}")
        return self._item(i)

    def __iter__(self) -> Iterator:
        i = 0
        while i < len(self):      # asked each step: items appended meanwhile are given too
            yield self._item(i)
            i += 1
