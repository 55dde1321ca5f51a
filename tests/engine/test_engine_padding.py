"""Engine: `dirty_padding` (memschema.padding), the word-at-a-time padding check the MEM8 seed and
native checks share, against byte-by-byte reading of the same views."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from memschema.padding import dirty_padding


def _bytewise(areas: np.ndarray, used: np.ndarray) -> list[tuple[int, int]]:
    out = []
    for i in range(len(areas)):
        start = max(0, min(areas.shape[1], int(used[i])))
        nonzero = np.flatnonzero(areas[i, start:])
        if len(nonzero):
            out.append((i, start + int(nonzero[0])))
    return out


@st.composite
def _areas(draw):
    """Rows of a table inside a buffer (unaligned, records longer than their areas, as in a file):
    content up to `used`, then zeros, with non-zero bytes dropped into some paddings."""
    n = draw(st.integers(0, 6))
    width = draw(st.sampled_from([5, 8, 13, 16, 24, 64, 4074, 4096]))
    record = width + draw(st.integers(0, 9))
    start = draw(st.integers(0, 7))
    buf = np.zeros(n * record + start + 1, np.uint8)
    areas = np.ndarray((n, width), np.uint8, buffer=buf, offset=start, strides=(record, 1))
    used = np.array(draw(st.lists(st.integers(-3, width + 3), min_size=n, max_size=n)), np.int64)
    for i in range(n):
        u = max(0, min(width, int(used[i])))
        areas[i, :u] = draw(st.binary(min_size=u, max_size=u).map(lambda b: np.frombuffer(b, np.uint8) | 1))
        if u < width and draw(st.booleans()):
            areas[i, draw(st.integers(u, width - 1))] = draw(st.integers(1, 255))
    return areas, used


@settings(max_examples=400, deadline=None)
@given(_areas())
def test_dirty_padding_is_the_first_nonzero_byte_past_used(case):
    areas, used = case
    assert list(dirty_padding(areas, used)) == _bytewise(areas, used)


def test_a_byte_just_past_used_inside_its_word_is_found():
    areas = np.zeros((3, 16), np.uint8)
    areas[0, :5] = 7            # clean: used 5
    areas[1, :5], areas[1, 5] = 7, 1    # dirty at 5, the word `used` falls inside
    areas[2, 15] = 9            # dirty at 15 with nothing used
    assert list(dirty_padding(areas, np.array([5, 5, 0]))) == [(1, 5), (2, 15)]
