"""RVF corpus files: dump ⊇ expected JSON (whole files and `--as` structures), byte-identical
round trip, hashes verify, state and witnesses as upstream reports them."""

from __future__ import annotations

import numpy as np
import pytest
from corpus_support import assert_contains, assert_same_bytes, cli_dump_json, corpus_where, expected_for, require_corpus

import memschema
from memschema.formats.rvf.segment import seg_type_name

ALL = corpus_where("rvf", format="rvf")
RUNTIME = corpus_where("rvf", format="rvf", dialect="runtime")
STRUCTURES = [n for n in corpus_where("rvf", dialect="spec") if n.endswith(".bin") and "segment" not in n]


def _expected(name):
    path = require_corpus("rvf") / name
    return path, expected_for(path)


def _dump(path, kind=None):
    return cli_dump_json(path, "--as", f"rvf.{kind}") if kind and kind != "segments" else cli_dump_json(path)


@pytest.mark.parametrize("name", ALL)
def test_dump_json_contains_expected(name):
    path, expected = _expected(name)
    assert_contains(expected, _dump(path, expected.get("kind")), name)


@pytest.mark.parametrize("name", [n for n in ALL if n.endswith(".rvf") or "segment" in n])
def test_round_trip_is_byte_identical(name):
    path, _ = _expected(name)
    assert_same_bytes(memschema.dump(memschema.load(path)), path.read_bytes(), name)


@pytest.mark.parametrize("name", [n for n in ALL if n.endswith(".rvf") or "segment" in n])
def test_hashes_verify_and_file_validates(name):
    path, _ = _expected(name)
    doc = memschema.load(path)
    bad = [s.path for s in doc.segments if doc.hash_ok(s) is False]
    assert not bad, f"{name}: hash mismatch in {bad}"
    report = memschema.validate(path)
    assert report.ok, f"{name}: {report}"


@pytest.mark.parametrize("name", RUNTIME)
def test_state_matches_what_rvf_node_reported(name):
    path, expected = _expected(name)
    doc = memschema.load(path)
    reopened = expected["rvf_node_reopened"]
    assert doc.epoch == reopened["status"]["currentEpoch"], name
    assert doc.metric == reopened["metric"], name
    assert doc.dimension == reopened["dimension"], name
    assert sorted(int(i) for i in doc.ids) == reopened["live_ids"], name
    assert bytes(doc.identity.file_id).hex() == reopened["fileId"], name
    assert bytes(doc.identity.parent_id).hex() == reopened["parentId"], name
    assert doc.identity.lineage_depth == reopened["lineageDepth"], name
    directory = [(s["id"], s["offset"], s["payloadLength"], s["segType"]) for s in reopened["segments"]]
    ours = [(int(e.seg_id), int(e.offset), int(e.payload_length), seg_type_name(e.seg_type))
            for e in doc.latest.value.segment_dir]
    assert ours == directory, name
    # vector rule of the corpus: v[id][j] = id + j*0.125
    if len(doc.ids):
        want = doc.ids.astype(np.float32)[:, None] + np.arange(doc.dimension, dtype=np.float32) * 0.125
        np.testing.assert_array_equal(doc.matrix, want, err_msg=name)
    assert doc.matrix.dtype == np.float32 and doc.matrix.shape == (len(doc.ids), doc.dimension)


@pytest.mark.parametrize("name", STRUCTURES)
def test_single_structures_through_the_api(name):
    path, expected = _expected(name)
    kind = expected["kind"]
    out = memschema.parse_as(f"rvf.{kind}", path)
    assert out["kind"] == kind and kind in out
    if kind == "level0_root":
        assert out[kind]["root_checksum_ok"] is True
    if kind == "witness_chain":
        assert out["witness_chain_ok"] is True


def test_spec_parent_hash_and_witness_action_hash():
    folder = require_corpus("rvf")
    from memschema.formats.rvf.hashes import shake256
    root = (folder / "spec_level0root.bin").read_bytes()
    assert shake256(root, 32).hex() == expected_for(folder / "spec_level0root.bin")["spec_parent_hash"]
    rec = expected_for(folder / "spec_lineage_record.bin")["witness_action_hash"]
    chain = memschema.parse_as("rvf.witness_chain", folder / "spec_witness_chain_2.bin")
    assert chain["witness_chain"][0]["action_hash"] == rec
