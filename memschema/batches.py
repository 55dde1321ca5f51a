"""Cutting a run of items into batches bounded by a number of items and by their bytes: what a
batch decoder holds at once stays bounded, whatever the file."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def bounded_batches(sizes, items: int, size: int) -> Iterator[tuple[int, int]]:
    """[first, stop) ranges covering `sizes` in order: at most `items` items each, and items while
    their sizes add up to at most `size` (one item at least, however large)."""
    ends = np.cumsum(np.maximum(np.asarray(sizes, np.int64), 0))
    first, n = 0, len(ends)
    while first < n:
        fits = int(np.searchsorted(ends, (ends[first - 1] if first else 0) + size, "right"))
        stop = min(n, first + items, max(fits, first + 1))
        yield first, stop
        first = stop
