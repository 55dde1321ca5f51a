"""Padding after a used length: the bytes a fixed-size area holds past the part in use, which a
writer leaves zero.  Checked a word at a time: eight times fewer comparisons than byte by byte,
and no temporaries the size of the areas."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

_WORD = np.dtype("<u8")   # little-endian whatever the host: byte j of a word is bits 8j .. 8j+7


def dirty_padding(areas: np.ndarray, used: np.ndarray) -> Iterator[tuple[int, int]]:
    """(row, index of its first non-zero byte past `used[row]`) for each row of `areas` (n × width
    bytes, a view of the file) that has one; `used` is clipped to the width."""
    n, width = areas.shape
    used = np.clip(np.asarray(used, np.int64), 0, width)
    if not n:
        return
    size = _WORD.itemsize
    whole = width - width % size if areas.strides[1] == 1 else 0   # the part read as words
    tail = areas[:, whole:]
    dirty = ((tail != 0) & (np.arange(whole, width)[None, :] >= used[:, None])).any(axis=1)
    if whole:
        # a non-zero word wholly past `used`, or in the word `used` falls inside, from byte used % size on
        words = areas[:, :whole].view(_WORD)
        nz = words != 0
        last = words.shape[1] - 1 - np.argmax(nz[:, ::-1], axis=1)
        dirty |= nz.any(axis=1) & (last >= -(-used // size))
        part = (used % size).astype(np.uint64)
        edge = words[np.arange(n), np.minimum(used // size, words.shape[1] - 1)]
        dirty |= (used < whole) & (part != 0) & ((edge >> (part * np.uint64(8))) != 0)
    rows = np.flatnonzero(dirty)
    for i in rows.tolist():
        start = int(used[i])
        yield i, start + int(np.argmax(areas[i, start:] != 0))
