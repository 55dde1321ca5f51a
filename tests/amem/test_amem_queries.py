"""Queries: index answers agree with scans; inconsistent indexes are not trusted; top-k cosine."""

from __future__ import annotations

import numpy as np
from hypothesis import given

import memschema
from memschema.formats.amem import queries
from memschema.formats.amem import strategies as amem_st
from memschema.formats.amem.detect import AGENTIC, SPEC_V1
from memschema.formats.amem.model import Model, Node
from memschema.formats.amem.writer import write_agentic


def _scan_answers(doc, model):
    ids = model.node_ids()
    for t in range(6):
        want = sorted(i for i, n in zip(ids, model.nodes) if n.event_type == t)
        assert sorted(doc.by_type(t).tolist()) == want
    for s in range(4):
        want = sorted(i for i, n in zip(ids, model.nodes) if n.session_id == s)
        assert sorted(doc.by_session(s).tolist()) == want


@given(amem_st.models(AGENTIC))
def test_amem_agentic_queries_match_model(model):
    doc = memschema.load(write_agentic(model)[0])
    _scan_answers(doc, model)
    times = sorted((n.created_at, i) for i, n in zip(model.node_ids(), model.nodes))
    if times:
        lo, hi = times[0][0], times[len(times) // 2][0]
        assert doc.in_time_range(lo, hi).tolist() == [i for t, i in times if lo <= t <= hi]


@given(amem_st.models(SPEC_V1))
def test_amem_spec_queries_match_model(model):
    doc = memschema.load(amem_st.build_file(model, SPEC_V1))
    _scan_answers(doc, model)


def test_amem_inconsistent_type_index_falls_back_to_scan():
    model = Model(dimension=0, nodes=[Node("a", id=0, event_type=0), Node("b", id=1, event_type=1)])
    data, _ = write_agentic(model)
    doc = memschema.load(data)
    tag, at, length, body = doc.index_entries[0]
    # swap the ids of the two type groups: the index now lies
    body_at = at + 9
    lying = bytearray(data)
    lying[body_at + 9:body_at + 17], lying[body_at + 26:body_at + 34] = \
        data[body_at + 26:body_at + 34], data[body_at + 9:body_at + 17]
    bad = memschema.load(bytes(lying))
    assert not bad.index_consistent(1)
    assert bad.by_type(0).tolist() == [0]
    report = memschema.validate(bytes(lying))
    mismatch = [f for f in report.findings if f.code == "amem.index_mismatch"]
    assert mismatch and mismatch[0].path == "indexes.type_index" and mismatch[0].offset == body_at


def test_amem_top_k_skips_zero_vectors():
    vectors = np.array([[1, 0], [0, 0], [0.9, 0.1], [-1, 0]], "<f4")
    got = queries.top_k(np.array([10, 11, 12, 13]), vectors, [1, 0], k=3)
    assert [i for i, _ in got] == [10, 12, 13]
    assert got[0][1] == 1.0
    assert queries.top_k(np.array([1]), np.zeros((1, 2), "<f4"), [1, 0]) == []
    assert queries.top_k(np.array([1]), vectors[:1], [0, 0]) == []


def test_amem_similar_on_corpus_like_file():
    model = Model(dimension=3, nodes=[Node("a", id=5, vector=np.array([1, 0, 0], "<f4")), Node("b", id=9),
                                      Node("c", id=12, vector=np.array([0, 1, 0], "<f4"))])
    doc = memschema.load(write_agentic(model)[0])
    assert [i for i, _ in doc.similar([1, 0.1, 0], k=10)] == [5, 12]
