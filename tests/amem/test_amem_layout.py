"""Issue 9 for AMEM: each layout is declared once.  A field added to the node record (one line, in a
temporary copy of the package) reaches `dump --json`, the writer, `explain`, `hexdump`, validation
and conversions with no other edit; `explain` names the fields at the offsets AMEM.md gives."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_support import require_corpus

import memschema
from memschema import cli
from memschema.explain import open_explained, rows
from memschema.formats.amem.model import Cluster, Edge, Model, Node
from memschema.formats.amem.writer import write_spec

PACKAGE = Path(memschema.__file__).resolve().parent

# (declaration module, the line the new field follows, where the writer is called, node record size)
ADDED = {
    "agentic-memory": ("agentic.py", '"access_count" / Int32ul * "times the node was accessed",', "write_agentic", 72),
    "spec-v1": ("spec_v1.py", '"confidence" / Float32l * "confidence score",', "write_spec", 64),
}

SCRIPT = r"""
import json, sys
import memschema
from memschema.dtypes import struct_dtype
from memschema.explain import open_explained, rows
from memschema.formats.amem import agentic, spec_v1
from memschema.formats.amem.model import Model, Node
from memschema.formats.amem import writer

layout, write = sys.argv[1], getattr(writer, sys.argv[2])
node_decl = agentic.node_record if layout == "agentic-memory" else spec_v1.node_record
model = Model(dimension=2, nodes=[Node("first node", id=0, created_at=10**6, extra={"priority": 9}),
                                  Node("second node", id=1, created_at=2 * 10**6)])
data, findings = write(model)
doc = memschema.load(data)
offset = doc.offset_of("nodes[0].priority")
answer = doc.explain(offset)
hexdump = [(r.path, r.offset, getattr(r, "value", None)) for r in rows(open_explained(data))]
other = "amem/spec-v1" if layout == "agentic-memory" else "amem/agentic-memory"
converted, dropped, _ = memschema.convert(data, other)
again = writer.write_agentic(doc.to_model(), blobs=doc.kept_blobs())[0] if layout == "agentic-memory" else \
    writer.write_spec(doc.to_model())[0]
print(json.dumps({
    "record_size": struct_dtype(node_decl).itemsize, "detected": doc.detection.id,
    "json": [n["priority"] for n in doc.to_json()["nodes"]],
    "explain": [offset, answer.leaf.path, answer.leaf.value, answer.leaf.doc],
    "hexdump": [row for row in hexdump if row[0] and row[0].endswith(".priority")],
    "validate": [str(f) for f in memschema.validate(data).findings if f.severity.value == "error"],
    "dump_identical": memschema.dump(doc) == data, "rewritten_identical": again == data,
    "converted_ok": memschema.validate(converted).ok,
    "conversion_findings": [(f.code, f.path) for f in dropped]}))
"""


@pytest.mark.parametrize("layout", sorted(ADDED))
def test_amem_added_node_field_reaches_json_writer_explain_hexdump_and_conversions(layout, tmp_path):
    module, anchor, write, size = ADDED[layout]
    copy = tmp_path / "memschema"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / "formats" / "amem" / module
    text = source.read_text()
    assert text.count(anchor) == 1, f"{module}: the node record changed; update the anchor"
    source.write_text(text.replace(anchor, anchor + '\n    "priority" / Default(Int16ul, 7) * "a field added later",'))
    out = subprocess.run([sys.executable, "-c", SCRIPT, layout, write], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout)
    assert got["record_size"] == size + 2 and got["detected"] == f"amem/{layout}"
    assert got["json"] == [9, 7]                                     # dump --json: given value, declared default
    offset, path, value, doc = got["explain"]
    assert (path, value, doc) == ("nodes[0].priority", 9, "a field added later")
    assert ["nodes[0].priority", offset, 9] in got["hexdump"] and ["nodes[1].priority", offset + size + 2, 7] \
        in got["hexdump"]
    assert got["validate"] == [] and got["dump_identical"] and got["rewritten_identical"] and got["converted_ok"]
    # the other layout has no such field: the conversion says so, for the node whose value is not the default
    assert ["amem.field_dropped", "nodes[0].priority"] in got["conversion_findings"]
    assert ["amem.field_dropped", "nodes[1].priority"] not in got["conversion_findings"]


# AMEM.md Part 2 offsets in small_d8.amem (7 nodes, 10 edges): header fields at their table offsets,
# node N at 64 + 72·N, the edge table at 64 + 72·7 = 568, the content block at 568 + 32·10 = 888,
# vectors at feature_vec_offset 1207, the index block at 1207 + 4·8·7 = 1431.
REFERENCE_AGENTIC = {
    0x00: "header.magic", 0x04: "header.version", 0x08: "header.dimension", 0x0C: "header.flags",
    0x10: "header.node_count", 0x18: "header.edge_count", 0x20: "header.node_table_offset",
    0x28: "header.edge_table_offset", 0x30: "header.content_block_offset", 0x38: "header.feature_vec_offset",
    64 + 72 + 0: "nodes[1].id", 64 + 72 + 8: "nodes[1].event_type", 64 + 72 + 9: "nodes[1].padding",
    64 + 72 + 12: "nodes[1].created_at", 64 + 72 + 20: "nodes[1].session_id", 64 + 72 + 24: "nodes[1].confidence",
    64 + 72 + 28: "nodes[1].access_count", 64 + 72 + 32: "nodes[1].last_accessed",
    64 + 72 + 40: "nodes[1].decay_score", 64 + 72 + 44: "nodes[1].content_offset",
    64 + 72 + 52: "nodes[1].content_length", 64 + 72 + 56: "nodes[1].edge_offset",
    64 + 72 + 64: "nodes[1].edge_count", 64 + 72 + 71: "nodes[1].padding_tail",
    568: "edges[0].source_id", 576: "edges[0].target_id", 584: "edges[0].edge_type", 585: "edges[0].padding",
    588: "edges[0].weight", 592: "edges[0].created_at", 568 + 32 * 9 + 8: "edges[9].target_id",
    888: "content[0].uncompressed_size", 892: "content[0].block", 1207: "vectors[0][0]", 1211: "vectors[0][1]",
    1207 + 32 * 6 + 28: "vectors[6][7]", 1431: "index[0].tag", 1432: "index[0].length", 1440: "index[0].body",
}


def test_amem_explain_names_the_fields_at_the_reference_offsets(capsys):
    path = require_corpus("amem") / "small_d8.amem"
    doc = memschema.load(path)
    wrong = {off: doc.explain(off).leaf.path for off, want in REFERENCE_AGENTIC.items()
             if doc.explain(off).leaf.path != want}
    assert not wrong, f"small_d8.amem: explain names other fields at {wrong}"
    assert cli.main(["explain", "--json", str(path), "576", "0x38"]) == 0
    answers = json.loads(capsys.readouterr().out)["offsets"]
    assert [(a["path"], a["start"], a["size"], a["value"]) for a in answers] == \
        [("edges[0].target_id", 576, 8, 1), ("header.feature_vec_offset", 0x38, 8, 1207)]


def test_amem_spec_v1_explain_at_the_reference_offsets():
    """AMEM.md Part 1 on a small hand-checked file (test_amem_spec_offsets): 2 nodes, 2 edges."""
    model = Model(dimension=2, nodes=[Node("hi", 1, 5, 0.5, 1_700_000_000 * 10**6, metadata={"k": "v"}),
                                      Node("yo!", 4, 5, 1.0, -7 * 10**6)],
                  edges=[Edge(1, 0, 6, 0.25), Edge(0, 1, 1, 1.0)], clusters=[Cluster([0.5, 0.5], [0, 1])])
    data, _ = write_spec(model)
    doc = memschema.load(data)
    content = 64 + 64 * 2 + 13 * 2
    reference = {6: "header.flags", 52: "header.content_uncompressed", 56: "header.reserved",
                 64 + 12: "nodes[0].timestamp", 128 + 32: "nodes[1].vector_offset", 192: "edges[0].source",
                 196: "edges[0].target", 205 + 9: "edges[1].weight", content: "content.magic",
                 content + 4: "content.flg", doc.header.vector_offset + 4: "vectors[0][1]",
                 doc.header.index_offset: "indexes[0].index_type", doc.header.index_offset + 8: "indexes[0].bitsets[0]"}
    wrong = {off: doc.explain(off).leaf.path for off, want in reference.items() if doc.explain(off).leaf.path != want}
    assert not wrong, f"spec-v1 sample: explain names other fields at {wrong}"


def test_amem_hexdump_of_a_torn_index_shows_the_tail():
    raw = (require_corpus("amem") / "small_d8.amem").read_bytes()
    torn = raw[:-3]
    items = list(rows(open_explained(torn)))
    tail = [r for r in items if getattr(r, "kind", "") == "tail"]
    assert len(tail) == 1 and tail[0].path == "index.tail" and tail[0].end == len(torn)
    assert memschema.dump(memschema.load(torn)) == torn
