"""Hypothesis, both layouts: random valid model -> build -> load -> same model; dump -> same bytes;
no validation errors; conversion keeps what both layouts hold and reports the rest."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.amem import strategies as amem_st
from memschema.formats.amem.detect import AGENTIC, SPEC_V1
from memschema.formats.amem.model import Edge, Model, Node
from memschema.formats.amem.writer import write_agentic, write_spec


def _model_round_trip(layout: str, model: Model) -> None:
    data = amem_st.build_file(model, layout)
    doc = memschema.load(data)
    assert doc.detection.id == f"amem/{layout}"
    assert doc.to_model().key() == model.key()
    assert memschema.dump(doc) == data
    forced = memschema.load(data, format=f"amem/{layout}")
    assert memschema.dump(forced) == data
    report = memschema.validate(data)
    assert report.ok, str(report)


@given(amem_st.models(AGENTIC))
def test_amem_agentic_model_round_trip(model):
    _model_round_trip(AGENTIC, model)


@given(amem_st.models(SPEC_V1))
def test_amem_spec_model_round_trip(model):
    _model_round_trip(SPEC_V1, model)


@given(amem_st.valid_files())
def test_amem_valid_files_validate_clean_and_dump_identically(data):
    assert memschema.validate(data).ok
    assert memschema.dump(memschema.load(data)) == data


@given(amem_st.models(AGENTIC))
def test_amem_agentic_to_spec_and_back_keeps_shared_fields(model):
    if model.dimension == 0:     # spec-v1 needs a positive dimension: refused, not guessed
        with pytest.raises(FormatError):
            memschema.convert(write_agentic(model)[0], "amem/spec-v1")
        return
    spec, findings = memschema.convert(write_agentic(model)[0], "amem/spec-v1")[:2]
    assert memschema.detect(spec).id == "amem/spec-v1"
    back, _, target = memschema.convert(spec, "amem/agentic-memory")
    assert target == "amem/agentic-memory"
    got = memschema.load(back).to_model()
    assert [n.content for n in got.nodes] == [n.content for n in model.nodes]
    assert [n.event_type for n in got.nodes] == [n.event_type for n in model.nodes]
    assert [n.created_at // 10**6 for n in got.nodes] == [n.created_at // 10**6 for n in model.nodes]
    codes = {f.code for f in findings}
    if any(n.created_at % 10**6 for n in model.nodes):
        assert "amem.time_truncated" in codes
    if any(n.id != i for i, n in enumerate(model.nodes)):
        assert "amem.explicit_id_dropped" in codes


def test_amem_spec_to_agentic_reports_metadata():
    model = Model(dimension=2, nodes=[Node("a", metadata={"x": "y"}), Node("b", event_type=9)],
                  edges=[Edge(0, 1, 8)])
    spec, _ = write_spec(model)
    out, findings, _ = memschema.convert(spec, "amem/agentic-memory")
    codes = {f.code for f in findings}
    assert {"amem.metadata_dropped", "amem.unknown_event_type", "amem.unknown_edge_type"} <= codes
    assert memschema.detect(out).id == "amem/agentic-memory"


@given(st.integers(0, 5))
def test_amem_save_is_atomic_and_identical(tmp_path_factory, n):
    model = Model(dimension=3, nodes=[Node(f"node {i}", id=i, vector=np.ones(3, "<f4") * (i + 1)) for i in range(n)])
    data, _ = write_agentic(model)
    path = tmp_path_factory.mktemp("amem") / "brain.amem"
    memschema.save(memschema.load(data), path)
    assert path.read_bytes() == data
