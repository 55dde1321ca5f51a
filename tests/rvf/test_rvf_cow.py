"""COW branch children written by rvf-node 0.2.3 (`branch()`, RVF.md 3.12): the COW_MAP body decodes,
`load(child)` finds the parent the COW_MAP names, `load(child, parent=...)` / `--parent` use the given
one, and the full view (parent live vectors ∩ MEMBERSHIP, overridden by the child's own) is what the
binding's queries return; a missing or wrong parent is an error finding."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import memschema
from memschema.cli import main as cli_main

pytestmark = pytest.mark.interop
DIM = 4


def vec(i):
    return [i + j * 0.125 for j in range(DIM)]


@pytest.fixture(scope="module")
def branch(rvf_node, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cow")
    parent, child, other = folder / "p.rvf", folder / "c.rvf", folder / "other.rvf"
    out = rvf_node([
        {"op": "create", "path": str(parent), "dim": DIM}, {"op": "ingest", "ids": [1, 2, 3, 4, 5]},
        {"op": "delete", "ids": [4]}, {"op": "freeze"},
        {"op": "branch", "path": str(child), "child": "c"},
        {"op": "ingest", "ids": [10, 2], "vectors": [vec(10), vec(100)], "db": "c"},
        {"op": "delete", "ids": [3], "db": "c"}, {"op": "close", "db": "c"}, {"op": "close"},
        {"op": "create", "path": str(other), "dim": DIM, "db": "o"}, {"op": "close", "db": "o"},
        {"op": "openReadonly", "path": str(child), "db": "r"},
        {"op": "query", "vectors": [vec(2)], "k": 10, "db": "r"},
    ])
    return folder, parent, child, other, out[-2]["result"], out[-1]["result"][0]


def test_cow_map_body_decodes(branch):
    _, parent, child, _, report, _ = branch
    doc = memschema.load(child)
    cow = doc.cow
    assert cow is not None and cow.parent_path == "p.rvf"
    body = cow.cow.body
    assert body.bytes_per_vector == 4 * DIM and body.map_len == len(memschema.parsing.build(
        memschema.formats.rvf.runtime_payloads.cow_map_map, body.map))
    assert [int(e.tag) for e in body.map.entries] == [1] and body.map.cluster_count == 1
    assert bytes(cow.cow.header.base_file_id) == bytes(memschema.load(parent).identity.file_id)
    assert [s["segType"] for s in report["segments"]].count("cow_map") == 3


def test_full_view_is_what_the_binding_queries(branch):
    _, _, child, _, _, hits = branch
    doc = memschema.load(child)
    assert sorted(doc.own_ids.tolist()) == [2, 10]
    view = dict(zip(doc.ids.tolist(), doc.matrix.tolist()))
    assert sorted(view) == sorted(h["id"] for h in hits) == [1, 2, 5, 10]
    assert view[2] == vec(100) and view[1] == vec(1)          # the child's record overrides the parent's
    for h in hits:
        d = float(np.sum((np.asarray(view[h["id"]], np.float32) - np.asarray(vec(2), np.float32)) ** 2))
        assert d == pytest.approx(h["distance"])
    assert [i for i, _ in doc.search(vec(2), 10)] == [h["id"] for h in hits]
    assert memschema.validate(child).findings == []
    assert memschema.dump(doc) == child.read_bytes()


def test_missing_and_wrong_parent_are_errors(branch, tmp_path):
    _, parent, child, other, _, _ = branch
    alone = tmp_path / "c.rvf"
    shutil.copy(child, alone)
    found = [(f.severity.value, f.code) for f in memschema.validate(alone).findings]
    assert found == [("error", "rvf.cow_parent_missing")]
    assert sorted(memschema.load(alone).ids.tolist()) == [2, 10]          # only what the file holds
    assert sorted(memschema.load(alone, parent=parent).ids.tolist()) == [1, 2, 5, 10]
    assert memschema.validate(alone, parent=parent).findings == []
    found = [(f.severity.value, f.code) for f in memschema.validate(child, parent=other).findings]
    assert found == [("error", "rvf.cow_parent_mismatch")]
    with pytest.raises(TypeError, match="load option"):
        memschema.load(child, format="rvf", parnet=parent)


def test_parent_option_on_the_command_line(branch, tmp_path, capsys):
    _, parent, child, _, _, _ = branch
    alone = tmp_path / "c.rvf"
    shutil.copy(child, alone)
    assert cli_main(["validate", str(alone)]) == 1
    assert cli_main(["validate", "--parent", str(parent), str(alone)]) == 0
    capsys.readouterr()
    assert cli_main(["dump", "--json", "--parent", str(parent), str(alone)]) == 0
    assert sorted(int(k) for k in __import__("json").loads(capsys.readouterr().out)["vectors"]) == [1, 2, 5, 10]
    assert cli_main(["inspect", "--parent", str(parent), str(alone)]) == 0
