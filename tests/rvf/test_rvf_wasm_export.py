"""The wasm_export dialect against the real `@ruvector/rvf-wasm` 0.1.9: its exports decode exactly
(dialect, every vector, the wrapped u16 count of large stores), and the files memschema writes in
that dialect are the bytes rvf-wasm writes and open in it."""

from __future__ import annotations

import numpy as np
import pytest

import memschema
from memschema.formats.rvf.wasm_export import export_bytes

DIM = 4


def rule(ids, dim=DIM):
    return np.asarray(ids, dtype=np.float32)[:, None] + np.arange(dim, dtype=np.float32) * 0.125


def test_writer_refuses_what_rvf_wasm_would_wrap():
    with pytest.raises(ValueError, match="u16"):
        export_bytes(np.arange(1 << 16), np.zeros((1 << 16, 1)), 1)


def test_memschema_export_decodes_as_wasm_export():
    data = export_bytes([5, 9, 2], rule([5, 9, 2]), DIM)
    doc = memschema.load(data)
    assert doc.dialect == "wasm_export" and doc.epoch == 1 and doc.dimension == DIM
    assert doc.ids.tolist() == [5, 9, 2]
    np.testing.assert_array_equal(doc.matrix, rule([5, 9, 2]))
    assert memschema.validate(data).findings == []
    assert memschema.dump(doc) == data


@pytest.mark.interop
def test_rvf_wasm_export_decodes_exactly(rvf_wasm, tmp_path):
    path = tmp_path / "w.rvf"
    ids = list(range(1, 41))
    out = rvf_wasm([{"op": "create", "dim": DIM, "metric": 2}, {"op": "ingest", "ids": ids},
                    {"op": "delete", "ids": [3, 5, 99]}, {"op": "status"}, {"op": "export", "path": str(path)}])
    assert out[2]["result"] == 2
    live = [i for i in ids if i not in (3, 5)]
    doc = memschema.load(path)
    assert memschema.detect(path).variant == "wasm_export"
    assert doc.dialect == "wasm_export" and doc.dimension == DIM and doc.epoch == 1
    assert doc.ids.tolist() == live and len(doc.ids) == out[3]["result"]["count"]
    np.testing.assert_array_equal(doc.matrix, rule(live))
    assert doc.latest.value.total_vectors == len(live)
    report = memschema.validate(path)
    assert report.findings == [], str(report)
    assert memschema.dump(doc) == path.read_bytes()
    # memschema's writer gives the very bytes rvf-wasm wrote
    assert export_bytes(live, rule(live), DIM) == path.read_bytes()


@pytest.mark.interop
def test_rvf_wasm_wraps_the_count_of_large_stores(rvf_wasm, tmp_path):
    path = tmp_path / "big.rvf"
    n = (1 << 16) + 3
    vectors = [[float(i)] for i in range(n)]
    out = rvf_wasm([{"op": "create", "dim": 1}, {"op": "ingest", "ids": list(range(n)), "vectors": vectors},
                    {"op": "export", "path": str(path)}, {"op": "open", "path": str(path)}])
    doc = memschema.load(path)
    assert doc.dialect == "wasm_export" and len(doc.ids) == n       # every record the writer meant
    np.testing.assert_array_equal(doc.matrix[:, 0], np.arange(n, dtype=np.float32))
    assert out[3]["result"]["status"]["count"] == 3                  # rvf-wasm's reader loses the rest
    codes = [(f.code, f.offset) for f in memschema.validate(path).findings if f.is_error]
    assert codes == [("rvf.wasm_count_wrapped", 64)], codes


@pytest.mark.interop
def test_memschema_export_opens_in_rvf_wasm(rvf_wasm, tmp_path):
    path = tmp_path / "ours.rvf"
    ids = [7, 1, 300, 42, 2**40]
    path.write_bytes(export_bytes(ids, rule(ids), DIM))
    out = rvf_wasm([{"op": "open", "path": str(path)},
                    {"op": "query", "vectors": rule(ids).tolist(), "k": len(ids)}])
    opened = out[0]["result"]
    assert opened["status"]["count"] == len(ids) and opened["status"]["dimension"] == DIM
    assert [(s["id"], s["segType"], s["offset"]) for s in opened["segments"]] == [(1, 1, 0), (2, 5, 64 + 6 + 5 * 24)]
    for want, hits in zip(ids, out[1]["result"]):
        assert hits[0]["id"] == want and hits[0]["distance"] == 0
