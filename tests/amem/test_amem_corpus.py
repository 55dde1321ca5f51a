"""Every corpus `.amem` file: dump ⊇ expected JSON, byte-identical round trip, no validation errors,
and the writer reproduces what the upstream writer wrote (given the original LZ4 blobs)."""

from __future__ import annotations

import json

import pytest
from corpus_support import assert_contains, corpus_files, expected_for, require_corpus

import memschema
from memschema import cli
from memschema.formats.amem.writer import write_agentic

FILES = corpus_files("amem")


@pytest.fixture(params=FILES)
def corpus_file(request):
    return require_corpus("amem") / request.param


def test_amem_dump_contains_expected(corpus_file):
    doc = memschema.load(corpus_file)
    assert_contains(expected_for(corpus_file), json.loads(json.dumps(doc.to_json())), corpus_file.name)


def test_amem_round_trip_is_byte_identical(corpus_file):
    raw = corpus_file.read_bytes()
    assert memschema.dump(memschema.load(corpus_file)) == raw, corpus_file.name
    assert memschema.dump(memschema.load(raw)) == raw, corpus_file.name


def test_amem_detected_as_agentic_memory(corpus_file):
    assert memschema.detect(corpus_file).id == "amem/agentic-memory"


def test_amem_corpus_validates_without_errors_or_warnings(corpus_file):
    report = memschema.validate(corpus_file)
    problems = [str(f) for f in report.findings if f.severity.value != "info"]
    assert not problems, f"{corpus_file.name}: {problems}"


def test_amem_writer_reproduces_upstream_bytes(corpus_file):
    """Our writer (offsets, edge scan, indexes, BM25 term index, doc lengths) gives the upstream
    bytes when it reuses the stored blobs; 0.1-writer files lack tags 5/6 and differ only there."""
    raw = corpus_file.read_bytes()
    doc = memschema.load(corpus_file)
    legacy = doc.header.flags == 0 and doc.node_count > 0     # 0.1 writer: no tags 5/6
    out, findings = write_agentic(doc.to_model(), blobs=doc.kept_blobs(), term_index=not legacy)
    assert not findings
    assert out == raw, corpus_file.name


def test_amem_recompressed_file_is_valid_and_decodes_the_same(corpus_file):
    """python-lz4 encodes differently from lz4_flex, but the content survives."""
    doc = memschema.load(corpus_file)
    model = doc.to_model()
    out, _ = write_agentic(model)
    again = memschema.load(out)
    assert again.to_model().key() == model.key()
    assert memschema.validate(out).ok


def test_amem_cli_dump_inspect_validate(corpus_file, capsys):
    assert cli.main(["dump", "--json", str(corpus_file)]) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert_contains(expected_for(corpus_file), dumped, corpus_file.name)
    assert cli.main(["inspect", str(corpus_file)]) == 0
    text = capsys.readouterr().out
    assert "indexes:" in text and "agentic-memory" in text
    assert cli.main(["validate", str(corpus_file)]) == 0


def test_amem_convert_both_ways(corpus_file, tmp_path, capsys):
    spec = tmp_path / "spec.amem"
    back = tmp_path / "back.amem"
    assert cli.main(["convert", str(corpus_file), str(spec), "--to", "amem/spec-v1"]) == 0
    assert memschema.detect(spec).id == "amem/spec-v1"
    assert memschema.validate(spec).ok
    assert cli.main(["convert", str(spec), str(back)]) == 0
    assert memschema.detect(back).id == "amem/agentic-memory"
    original = memschema.load(corpus_file).to_model()
    returned = memschema.load(back).to_model()
    assert [n.content for n in returned.nodes] == [n.content for n in original.nodes]
    assert [n.event_type for n in returned.nodes] == [n.event_type for n in original.nodes]
    assert [(e.source, e.target, e.edge_type) for e in returned.edges] == \
        [(e.source, e.target, e.edge_type) for e in original.edges]
