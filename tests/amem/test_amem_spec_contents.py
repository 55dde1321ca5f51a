"""spec-v1 contents read in bulk (`SpecDocument.sound`, `contents`, the node check of `validate`)
must say exactly what reading node by node says: the same texts, the same first error, the same
findings at the same paths and offsets, and the same bytes charged to the budget."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.amem.model import Model, Node
from memschema.formats.amem.spec_checks import check_spec
from memschema.formats.amem.writer import write_spec

TEXTS = st.text(st.sampled_from("ab é€😀\n"), max_size=12)


def one_by_one(doc, metadata: bool = True) -> list:
    """Node by node, in order: content (then metadata), each a value or (code, path, offset)."""
    out = []
    for i in range(doc.node_count):
        for read in (doc.content, doc.metadata) if metadata else (doc.content,):
            try:
                out.append(read(i))
            except FormatError as exc:
                out.append((exc.code, exc.path, exc.offset))
    return out


def built(texts: list[str], metadata: list[bool], compress: bool) -> bytes:
    nodes = [Node(t, created_at=i * 10**6, metadata={"k": t} if m else None) for i, (t, m) in
             enumerate(zip(texts, metadata))]
    return write_spec(Model(dimension=2, nodes=nodes), compress=compress)[0]


@st.composite
def spec_files(draw):
    """A spec-v1 file whose node slices were moved about: into the middle of characters, past the
    block, onto metadata; and (uncompressed) a block byte replaced by one that is no UTF-8."""
    n = draw(st.integers(1, 12))
    texts = draw(st.lists(TEXTS, min_size=n, max_size=n))
    metadata = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    compress = draw(st.booleans())
    data = bytearray(built(texts, metadata, compress))
    doc = memschema.load(bytes(data))
    block = doc.header.content_uncompressed
    for i in draw(st.lists(st.integers(0, n - 1), max_size=4)):
        field = draw(st.sampled_from(["content", "metadata"]))
        offset = draw(st.one_of(st.integers(0, block + 2), st.just(2**64 - 3)))
        length = draw(st.integers(0, block + 2))
        struct.pack_into("<Q", data, doc.node_offset(i, f"{field}_offset"), offset)
        struct.pack_into("<I", data, doc.node_offset(i, f"{field}_length"), length)
    if not compress and block and draw(st.booleans()):
        data[doc.parsed.placed["content"].start + draw(st.integers(0, block - 1))] = 0xFF
    # the block is charged first, then the slices: some budgets run out among them
    return bytes(data), draw(st.one_of(st.none(), st.integers(block, 2 * block + 8)))


@settings(max_examples=300, deadline=None)
@given(spec_files())
def test_spec_contents_and_checks_match_node_by_node(case):
    data, max_decoded = case
    budget = memschema.Budget(max_decoded_bytes=max_decoded)
    texts = one_by_one(memschema.load(data, budget=budget), metadata=False)
    bulk = memschema.load(data, budget=budget)
    first_error = next((k for k, t in enumerate(texts) if isinstance(t, tuple)), len(texts))
    got = []
    try:
        got.extend(bulk.contents())
    except FormatError as exc:
        got.append((exc.code, exc.path, exc.offset))
    assert got == texts[:first_error + 1]

    alone = memschema.load(data, budget=budget)
    expected = one_by_one(alone)
    checked = memschema.load(data, budget=budget)
    findings = [(f.code, f.path, f.offset) for f in check_spec(checked)]
    problems = [x for x in expected if isinstance(x, tuple)]
    assert [f for f in findings if f in problems or f[0] in {p[0] for p in problems}] == problems
    assert checked.meter.used == alone.meter.used


@pytest.mark.parametrize("where", ["first", "last"])
def test_spec_a_slice_that_splits_a_character_is_found(where):
    data = bytearray(built(["é€😀", "ok"], [False, False], compress=False))
    doc = memschema.load(bytes(data))
    at = doc.node_offset(0, "content_offset" if where == "first" else "content_length")
    struct.pack_into("<Q" if where == "first" else "<I", data, at, 1 if where == "first" else 4)
    bulk = memschema.load(bytes(data))
    assert bulk.sound("content")["content"].tolist() == [False, True]
    found = [(f.code, f.path) for f in memschema.validate(bytes(data)).findings if f.code == "amem.bad_utf8"]
    assert found == [("amem.bad_utf8", "nodes[0].content_offset")]
