"""`bounded_batches`: consecutive ranges covering every item, each within its bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memschema.batches import bounded_batches


@given(st.lists(st.integers(-5, 100), max_size=60), st.integers(1, 8), st.integers(0, 150))
def test_batches_cover_the_items_in_order_within_their_bounds(sizes, items, size):
    batches = list(bounded_batches(sizes, items, size))
    assert [a for a, _ in batches] == ([0] + [b for _, b in batches[:-1]] if sizes else [])   # back to back
    assert (batches[-1][1] if batches else 0) == len(sizes)                  # to the end
    for a, b in batches:
        held = sum(max(s, 0) for s in sizes[a:b])
        assert 1 <= b - a <= items
        assert held <= size or b - a == 1                                    # one item alone may be larger
        if b < len(sizes) and b - a < items:                                 # cut only where the next would not fit
            assert held + max(sizes[b], 0) > size
