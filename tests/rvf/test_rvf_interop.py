"""Interop with the real implementation (`@ruvector/rvf-node`, the rvf-runtime binding):
(a) rvf-node writes, memschema decodes the same state; (b) memschema writes, rvf-node reads it."""

from __future__ import annotations

import numpy as np
import pytest

import memschema
from memschema.formats.rvf.segment import seg_type_name
from memschema.formats.rvf.writer import RvfStore

pytestmark = pytest.mark.interop


def vec(id_, dim):
    return [id_ + j * 0.125 for j in range(dim)]


def _assert_same_state(doc, report, name):
    """memschema's view of a file equals what rvf-node reports on reopening it."""
    assert bytes(doc.identity.file_id).hex() == report["fileId"], name
    assert bytes(doc.identity.parent_id).hex() == report["parentId"], name
    assert doc.identity.lineage_depth == report["lineageDepth"], name
    assert doc.dimension == report["dimension"] and doc.metric == report["metric"], name
    ours = doc.runtime_status()
    theirs = report["status"]
    assert {k: theirs[k] for k in ours} == ours, name
    directory = [(int(e.seg_id), int(e.offset), int(e.payload_length), seg_type_name(e.seg_type))
                 for e in doc.latest.value.segment_dir]
    assert directory == [(s["id"], s["offset"], s["payloadLength"], s["segType"]) for s in report["segments"]], name


def _live_ids_by_query(rvf_node, path, doc):
    """Every vector memschema decodes, queried back through rvf-node: nearest is itself at 0."""
    vectors = [doc.matrix[i].tolist() for i in range(len(doc.ids))]
    results = rvf_node([{"op": "openReadonly", "path": str(path)},
                        {"op": "query", "vectors": vectors, "k": max(len(vectors), 1)}])[1]["result"]
    for row, hits in zip(doc.ids.tolist(), results):
        assert hits[0]["id"] == row and hits[0]["distance"] == pytest.approx(0, abs=1e-6)
    return sorted(h["id"] for h in results[0]) if results else []


def test_rvf_node_ingest_delete_reopen_append_derive(rvf_node, tmp_path):
    main, child = tmp_path / "main.rvf", tmp_path / "child.rvf"
    out = rvf_node([
        {"op": "create", "path": str(main), "dim": 4, "metric": "cosine"},
        {"op": "ingest", "ids": [1, 2, 3, 4, 5]},
        {"op": "delete", "ids": [2, 9]},
        {"op": "close"},
        {"op": "open", "path": str(main)},
        {"op": "ingest", "ids": [6, 7]},
        {"op": "derive", "path": str(child), "child": "child"},
        {"op": "ingest", "ids": [10, 11], "db": "child"},
        {"op": "close", "db": "child"},
        {"op": "close"},
        {"op": "openReadonly", "path": str(main)},
        {"op": "openReadonly", "path": str(child), "db": "c"},
    ])
    doc = memschema.load(main)
    assert memschema.validate(main).ok
    _assert_same_state(doc, out[-2]["result"], "main")
    assert sorted(doc.ids.tolist()) == [1, 3, 4, 5, 6, 7]
    assert doc.deleted_ids == [2]
    assert doc.epoch == out[5]["result"]["epoch"]
    np.testing.assert_array_equal(doc.matrix, [vec(i, 4) for i in doc.ids.tolist()])
    links = [w["link"] for w in doc.witnesses]
    assert links == ["genesis", "linked", "restart"]
    cdoc = memschema.load(child)
    _assert_same_state(cdoc, out[-1]["result"], "child")
    assert sorted(cdoc.ids.tolist()) == [10, 11]
    from memschema.formats.rvf.lineage_check import check_pair
    # the parent was appended to after derive(): ids and depth verify, parent_hash is stale
    result = check_pair(cdoc, doc)
    assert result["parent_id_matches_parent_file_id"] and result["lineage_depth_is_parent_plus_1"]


def test_rvf_node_compaction(rvf_node, tmp_path):
    path = tmp_path / "c.rvf"
    out = rvf_node([
        {"op": "create", "path": str(path), "dim": 3},
        {"op": "ingest", "ids": [1, 2, 3]},
        {"op": "delete", "ids": [2]},
        {"op": "ingest", "ids": [4]},
        {"op": "compact"},
        {"op": "close"},
        {"op": "openReadonly", "path": str(path)},
    ])
    doc = memschema.load(path)
    _assert_same_state(doc, out[-1]["result"], "compacted")
    assert sorted(doc.ids.tolist()) == [1, 3, 4] and doc.deleted_ids == []
    assert doc.epoch == out[4]["result"]["epoch"]
    # after compaction the last segment is a compact: WITNESS outside every directory
    assert doc.segments[-1] is not doc.latest.segment
    assert doc.witnesses[-1]["action"].startswith("compact:") and doc.witnesses[-1]["link"] == "restart"
    assert memschema.validate(path).ok


def test_memschema_writes_rvf_node_reads(rvf_node, tmp_path):
    path, child = tmp_path / "ours.rvf", tmp_path / "ours_child.rvf"
    store = RvfStore.create(path, 8, metric="l2", profile_id=1)
    store.ingest(list(range(1, 21)), [vec(i, 8) for i in range(1, 21)])
    assert store.delete([3, 5, 99])["deleted"] == 2
    store = RvfStore.open(path)
    store.ingest([30, 31], [vec(30, 8), vec(31, 8)])
    kid = store.derive(child)
    kid.ingest([100], [vec(100, 8)])
    doc = memschema.load(path)
    out = rvf_node([{"op": "openReadonly", "path": str(path)},
                    {"op": "openReadonly", "path": str(child), "db": "c"}])
    _assert_same_state(doc, out[0]["result"], "ours")
    _assert_same_state(memschema.load(child), out[1]["result"], "ours_child")
    ids = _live_ids_by_query(rvf_node, path, doc)
    assert ids == sorted(doc.ids.tolist())


def test_rvf_node_appends_to_a_memschema_store(rvf_node, tmp_path):
    path = tmp_path / "mixed.rvf"
    store = RvfStore.create(path, 4, metric="inner_product")
    store.ingest([1, 2], [vec(1, 4), vec(2, 4)])
    out = rvf_node([{"op": "open", "path": str(path)}, {"op": "ingest", "ids": [3]},
                    {"op": "delete", "ids": [1]}, {"op": "close"},
                    {"op": "openReadonly", "path": str(path)}])
    doc = memschema.load(path)
    _assert_same_state(doc, out[-1]["result"], "mixed")
    assert sorted(doc.ids.tolist()) == [2, 3] and doc.metric == "inner_product"
    store = RvfStore.open(path)
    store.ingest([4], [vec(4, 4)])
    assert rvf_node([{"op": "openReadonly", "path": str(path)}])[0]["result"]["status"]["currentEpoch"] == doc.epoch + 1
