"""Issue 11 for AMEM: findings under the severity policy, on real corpus bytes (agentic-memory) and on
the hand-checked reference layout (spec-v1).  error = upstream cannot read the file as its writer
meant (a reference that points nowhere, data lost or unreachable); warning = intact but off (an
index upstream rebuilds, padding, order); AMEM-VERSIONS.md for version 0."""

from __future__ import annotations

import struct

import pytest
from corpus_support import require_corpus

import memschema
from memschema.formats.amem.model import Edge, Model, Node
from memschema.formats.amem.writer import write_spec


def corpus(name: str) -> bytes:
    return (require_corpus("amem") / name).read_bytes()


def put(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value):]


def findings(data: bytes, code: str) -> list:
    return [f for f in memschema.validate(data).findings if f.code == code]


def test_amem_dangling_edge_is_an_error():
    raw = corpus("small_d8.amem")
    bad = put(raw, 576, struct.pack("<Q", 999))          # edges[0].target_id (AMEM.md 2.3: edge table at 568)
    found = findings(bad, "amem.dangling_edge")
    assert [(f.severity.value, f.path, f.offset) for f in found] == [("error", "edges[0].target_id", 576)]
    assert not memschema.validate(bad).ok


def test_amem_node_id_that_orphans_edges_and_index_entries_is_an_error():
    raw = corpus("small_d8.amem")
    bad = put(raw, 64 + 72 * 3, struct.pack("<Q", 77))  # nodes[3].id: 3 -> 77
    report = memschema.validate(bad)
    errors = {(f.code, f.path) for f in report.errors}
    # the edges whose source or target was 3 now point nowhere
    assert ("amem.dangling_edge", "edges[7].source_id") in errors and ("amem.dangling_edge", "edges[1].target_id") \
        not in errors
    assert {p for c, p in errors if c == "amem.index_dangling"} >= {
        "indexes.type_index", "indexes.temporal_index", "indexes.session_index", "indexes.term_index"}
    # the indexes still disagree with the records (warnings: upstream rebuilds them)
    assert "amem.index_mismatch" in {f.code for f in report.warnings}


def test_amem_duplicate_node_id_is_an_error():
    raw = corpus("small_d8.amem")
    bad = put(raw, 64 + 72 * 4, struct.pack("<Q", 2))    # nodes[4].id = 2, like nodes[2]
    found = findings(bad, "amem.duplicate_id")
    assert [(f.severity.value, f.path, f.offset) for f in found] == [("error", "nodes[4].id", 64 + 72 * 4)]


@pytest.mark.parametrize("cut", [3, 30])
def test_amem_index_entry_past_eof_with_nodes_intact_is_a_warning(cut):
    raw = corpus("small_d8.amem")
    torn = raw[:-cut]                                    # inside tag 6 (doc lengths, at 2578)
    report = memschema.validate(torn)
    found = [f for f in report.findings if f.code == "amem.index_truncated"]
    assert [(f.severity.value, f.path, f.offset) for f in found] == [("warning", "index.tail", 2578)]
    assert report.ok, str(report)


def test_amem_torn_cluster_map_is_an_error():
    raw = corpus("clustered_d8.amem")
    torn = raw[:1546 + 50]                               # inside tag 4 (cluster map, at 1546): nothing rebuilds it
    found = findings(torn, "amem.index_truncated")
    assert [(f.severity.value, f.offset) for f in found] == [("error", 1546)]


def test_amem_version_zero_warns_as_amem_versions_describes():
    raw = corpus("small_d8.amem")
    report = memschema.validate(put(raw, 4, struct.pack("<I", 0)))
    [found] = [f for f in report.findings if f.code == "amem.version_zero"]
    assert (found.severity.value, found.path, found.offset) == ("warning", "header.version", 4)
    assert "rewrites it as version 1" in found.message and "strict" in found.message and "checkpoint" in found.message
    assert report.ok
    too_new = findings(put(raw, 4, struct.pack("<I", 2)), "amem.unsupported_version")
    assert [(f.severity.value, f.offset) for f in too_new] == [("error", 4)]
    assert ".corrupt.bak" in too_new[0].message


def test_amem_unreadable_rebuildable_index_is_a_warning_and_cluster_dangling_an_error():
    raw = corpus("small_d8.amem")
    # tag 5 body at 1801 + 9: term_count (at body + 12) made huge: the body no longer parses
    bad = put(raw, 1810 + 12, struct.pack("<I", 0xFFFF))
    report = memschema.validate(bad)
    corrupt = [f for f in report.findings if f.code == "amem.index_corrupt"]
    assert corrupt and {f.severity.value for f in corrupt} == {"warning"}
    assert memschema.load(bad).to_json()["indexes"]["term_index_loaded"] is False
    clustered = corpus("clustered_d8.amem")
    doc = memschema.load(clustered)
    value, _, start = doc.index_body(4)
    k = next(k for k, c in enumerate(value.clusters) if len(c.node_ids))
    # AMEM.md 2.6 tag 4: u32 cluster_count, u32 dimension, per cluster {f32 centroid[dimension], u64 k, u64 ids[k]}
    at = start + 8 + sum(4 * value.dimension + 8 + 8 * len(c.node_ids) for c in value.clusters[:k]) + \
        4 * value.dimension + 8
    dangling = findings(put(clustered, at, struct.pack("<Q", 4242)), "amem.cluster_dangling")
    assert [(f.severity.value, f.path) for f in dangling] == [("error", f"indexes.cluster_map.clusters[{k}]")]


def test_amem_padding_and_order_are_warnings():
    raw = corpus("small_d8.amem")
    padded = findings(put(raw, 64 + 9, b"\x01"), "amem.nonzero_padding")     # nodes[0].padding
    assert [(f.severity.value, f.path, f.offset) for f in padded] == [("warning", "nodes[0].padding", 73)]
    e3, e4 = 568 + 32 * 3, 568 + 32 * 4                                          # edges (0, 6) and (1, 0)
    swapped = raw[:e3] + raw[e4:e4 + 32] + raw[e3:e4] + raw[e4 + 32:]
    assert {f.severity.value for f in findings(swapped, "amem.edges_unsorted")} == {"warning"}


def spec_file() -> bytes:
    model = Model(dimension=2, nodes=[Node("a", 0, 1), Node("b", 1, 1), Node("c", 2, 2)],
                  edges=[Edge(0, 1, 1), Edge(1, 2, 4)])
    return write_spec(model)[0]


def test_amem_spec_v1_severities():
    data = spec_file()
    doc = memschema.load(data)
    target = doc.edge_offset(1, "target")
    dangling = findings(put(data, target, struct.pack("<I", 9)), "amem.dangling_edge")
    assert [(f.severity.value, f.offset) for f in dangling] == [("error", target)]
    first, second = doc.edge_offset(0), doc.edge_offset(1)
    swapped = data[:first] + data[second:second + (second - first)] + data[first:second] + \
        data[second + (second - first):]
    assert {f.severity.value for f in findings(swapped, "amem.edges_unsorted")} == {"warning"}
    time_index = next(at for kind, at, _, _ in doc.index_scan[0] if kind == 3)
    entry = time_index + 8 + 8                           # entries[0].node_id
    mismatch = memschema.validate(put(data, entry, struct.pack("<I", 1)))
    assert {f.severity.value for f in mismatch.findings if f.code == "amem.index_mismatch"} == {"warning"}
    pointing_nowhere = findings(put(data, entry, struct.pack("<I", 99)), "amem.index_dangling")
    assert [(f.severity.value, f.offset) for f in pointing_nowhere] == [("error", time_index)]


def test_amem_writer_writes_version_1_and_side_copies_validate_as_brains(tmp_path):
    """AMEM-VERSIONS.md §5: always write 1 (an untouched version-0 file still dumps as it was);
    checkpoints, backups and .corrupt.bak copies are whole .amem files, recognised by content."""
    legacy = put(corpus("small_d8.amem"), 4, struct.pack("<I", 0))
    doc = memschema.load(legacy)
    assert memschema.dump(doc) == legacy
    from memschema.formats.amem.writer import write_agentic
    rewritten, _ = write_agentic(doc.to_model(), blobs=doc.kept_blobs())
    assert memschema.load(rewritten).header.version == 1
    for name in ("brain.v0.20260308123456.amem.checkpoint", "brain.amem.corrupt.bak", "brain.20260308.amem.bak"):
        copy = tmp_path / name
        copy.write_bytes(legacy)
        assert memschema.detect(copy).id == "amem/agentic-memory"
        assert "amem.version_zero" in memschema.validate(copy).codes()
