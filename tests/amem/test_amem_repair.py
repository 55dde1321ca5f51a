"""`repair` of `.amem` brains (both layouts) on real bytes: a truncated index is rebuilt by the
writer, a node whose content blob does not decode is kept with empty content (its id, vector and
edges survive), a truncated file keeps every complete node record, damaged records are dropped;
the results validate and an intact file comes back untouched."""

from __future__ import annotations

import numpy as np
import pytest
from corpus_support import require_corpus

import memschema
from memschema.formats.amem import agentic, spec_v1
from memschema.formats.amem.model import Edge, Model, Node
from memschema.formats.amem.writer import write_agentic, write_spec
from memschema.parsing import parse


def _model() -> Model:
    t0 = 1_767_225_600_000_000
    return Model(dimension=4, nodes=[
        Node("User prefers Rust for systems work", 0, 1, 0.95, t0, id=0, vector=np.array([1, 0, 0, 0], "<f4")),
        Node("Use LZ4 for content compression", 1, 1, 0.9, t0 + 10**6, id=1, vector=np.array([0, 1, 0, 0], "<f4")),
        Node("Benchmarks showed mmap beats read()", 5, 2, 0.8, t0 + 2 * 10**6, id=2),
    ], edges=[Edge(0, 1, 0, 1.0, t0 + 3 * 10**6), Edge(1, 2, 1, 0.5, t0 + 4 * 10**6)])


def _contents(data) -> list[str]:
    doc = memschema.load(data)
    return [doc.content(i) for i in range(doc.node_count)]


def test_truncated_index_is_rebuilt_by_the_writer():
    data, _ = write_agentic(_model())
    result = memschema.repair(data[:-9])
    assert result.ok and result.data == data
    assert {c.code for c in result.changes} == {"amem.indexes", "amem.header"}
    assert result.kept == {"nodes": 3, "edges": 2}


def test_a_bad_blob_keeps_its_node_with_empty_content():
    data, _ = write_agentic(_model())
    h = parse(agentic.header, data, 0)
    bad = bytearray(data)
    bad[h.content_block_offset + 6] ^= 0xFF         # inside node 0's LZ4 block
    result = memschema.repair(bytes(bad))
    assert result.ok, str(result.report)
    emptied = [c for c in result.changes if c.action.value == "emptied"]
    assert [(c.path, c.offset) for c in emptied] == [("content[0]", h.content_block_offset)]
    doc = memschema.load(result.data)
    assert _contents(result.data) == ["", "Use LZ4 for content compression", "Benchmarks showed mmap beats read()"]
    assert doc.ids.tolist() == [0, 1, 2] and len(doc.edges) == 2 and doc.vector(0) is not None


def test_a_file_cut_in_the_edge_table_keeps_every_node_record():
    data, _ = write_agentic(_model())
    h = parse(agentic.header, data, 0)
    result = memschema.repair(data[:h.edge_table_offset + 10])
    assert result.ok, str(result.report)
    doc = memschema.load(result.data)
    assert doc.ids.tolist() == [0, 1, 2] and len(doc.edges) == 0
    assert _contents(result.data) == ["", "", ""]              # the blobs were after the cut
    dropped = [c for c in result.changes if c.action.value == "dropped"]
    assert (dropped[0].path, dropped[0].offset) == ("edges[0]", h.edge_table_offset)


def test_unknown_event_type_drops_the_node_and_its_edges():
    data, _ = write_agentic(_model())
    bad = bytearray(data)
    bad[memschema.load(data).node_offset(1, "event_type")] = 9
    result = memschema.repair(bytes(bad))
    assert result.ok, str(result.report)
    codes = [c.code for c in result.changes if c.action.value == "dropped"]
    assert codes == ["amem.unknown_event_type", "amem.dangling_edge", "amem.dangling_edge"]
    assert memschema.load(result.data).ids.tolist() == [0, 2]


def test_spec_layout_truncated_and_bad_frame():
    data, _ = write_spec(_model())
    h = parse(spec_v1.header, data, 0)
    result = memschema.repair(data[:-5])
    assert result.ok and result.data == data
    bad = bytearray(data)
    bad[h.content_offset + h.content_length - 3] ^= 0xFF    # the frame's end mark: every block decoded
    result = memschema.repair(bytes(bad))
    assert result.ok and _contents(result.data) == _contents(data)
    assert [(c.action.value, c.code, c.offset) for c in result.changes][0] == ("emptied", "amem.bad_lz4",
                                                                               h.content_offset)
    bad = bytearray(data)
    bad[h.content_offset + 4] ^= 0xFF                       # the frame descriptor: nothing decodes
    result = memschema.repair(bytes(bad))
    assert result.ok, str(result.report)
    assert _contents(result.data) == ["", "", ""] and len(memschema.load(result.data).edges) == 2


def test_intact_files_are_left_as_they_are():
    for data in (write_agentic(_model())[0], write_spec(_model())[0]):
        result = memschema.repair(data)
        assert result.data == data and not result.changes


def test_corpus_brains_truncated_at_every_section():
    folder = require_corpus("amem")
    for path in sorted(folder.glob("*.amem")):
        data = path.read_bytes()
        whole = memschema.load(data)
        for cut in sorted({len(data) // 4, len(data) // 2, len(data) - 1}):
            if cut < agentic.HEADER_SIZE:
                continue
            result = memschema.repair(data[:cut], format=f"amem/{whole.variant}")
            assert result.ok, f"{path.name} cut at {cut}: {result.report}"
            assert memschema.load(result.data).node_count <= whole.node_count


def test_a_dimension_that_would_rebuild_gigabytes_is_refused():
    data, _ = write_agentic(_model())
    bad = bytearray(data)
    bad[8:12] = (0xFFFFFFFF).to_bytes(4, "little")
    with pytest.raises(memschema.FormatError) as info:
        memschema.repair(bytes(bad), format="amem/agentic-memory")
    assert info.value.code == "amem.bad_dimension" and info.value.offset == 8
