"""Hypothesis properties: whole stores from the writer validate, round-trip and hold the state a
dict model predicts; every broken file reports its finding code."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.formats.rvf.strategies import broken_files, store_from_ops, valid_files


@given(valid_files())
def test_valid_files_validate_and_round_trip(data):
    report = memschema.validate(data)
    assert report.ok, str(report)
    assert memschema.dump(memschema.load(data)) == data
    assert memschema.load(data).to_json()["format"] == "rvf"


@given(broken_files())
def test_broken_files_report_their_code(case):
    data, code = case
    report = memschema.validate(data)
    assert code in report.codes(), f"expected {code}, got:\n{report}"
    assert memschema.dump(memschema.load(data)) == data   # what cannot be decoded is still kept


_op = st.one_of(st.tuples(st.just("ingest"), st.lists(st.integers(0, 30), min_size=1, max_size=5)),
                st.tuples(st.just("delete"), st.lists(st.integers(0, 30), min_size=1, max_size=3)),
                st.tuples(st.just("reopen"), st.just([])))


@given(st.integers(1, 5), st.lists(_op, max_size=8), st.integers(0, 1000))
def test_state_matches_a_model(dim, ops, seed):
    data = store_from_ops(dim, "cosine", ops, seed)
    rng = np.random.default_rng(seed)
    live, deleted, epoch = {}, set(), 0
    for kind, ids in ops:
        if kind == "ingest":
            vectors = rng.standard_normal((len(ids), dim)).astype(np.float32)
            for i, v in zip(ids, vectors):
                live[i] = v
            epoch += 1
        elif kind == "delete":
            deleted |= {i for i in ids if i in live}
            epoch += 1
    doc = memschema.load(data)
    assert doc.epoch == epoch and doc.dimension == dim and doc.metric == "cosine"
    expected = {i: v for i, v in live.items() if i not in deleted}
    assert sorted(doc.ids.tolist()) == sorted(expected)
    for row, i in enumerate(doc.ids.tolist()):
        np.testing.assert_array_equal(doc.matrix[row], expected[i])
    assert doc.deleted_ids == sorted(deleted)
    assert doc.witness_chain_ok
