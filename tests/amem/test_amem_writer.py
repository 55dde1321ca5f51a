"""The agentic-memory writer at its limits: words up to the content limit (issue 10 item 8: upstream
writes a term's length `as u16`, so a 65,536-byte term wraps and its reader drops the term index;
we write the same bytes and say so), and the edge_offset scan's stall rule (AMEM.md 2.8)."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import memschema
from memschema.formats.amem import agentic
from memschema.formats.amem.model import Edge, Model, Node
from memschema.formats.amem.writer import edge_scan, write_agentic

LIMIT = 65_536      # upstream's content limit per node (AMEM.md 2.4)


def term_entries(data: bytes) -> tuple[int, bytes]:
    doc = memschema.load(data)
    k = [e[0] for e in doc.index_entries].index(agentic.TAG_TERMS)
    return doc.parsed.offset_of(f"index[{k}].body"), bytes(doc.index_entries[k][3])


def test_amem_a_word_at_the_content_limit_is_written_as_upstream_writes_it():
    word = "w" * LIMIT
    data, findings = write_agentic(Model(dimension=0, nodes=[Node(word, id=0), Node("short words here", id=1)]))
    assert [f.code for f in findings] == ["amem.term_length_wrapped"]
    _, body = term_entries(data)
    # doc_count u64, avg f32, term_count u32, then terms by UTF-8 bytes: "here", "short", "words", then w*65536
    at = body.index(word.encode())
    assert struct.unpack_from("<H", body, at - 2)[0] == LIMIT % (1 << 16) == 0      # the u16 length wrapped
    assert struct.unpack_from("<I", body, at + LIMIT)[0] == 1                        # then one posting
    assert struct.unpack_from("<QI", body, at + LIMIT + 4) == (0, 1)
    doc = memschema.load(data)
    assert doc.content(0) == word
    # upstream's TermIndex::from_bytes reads length 0 here and fails further on: no term index after loading
    assert doc.index_value(agentic.TAG_TERMS) is None and doc.to_json()["indexes"]["term_index_loaded"] is False
    assert doc.to_json()["indexes"]["doc_lengths_loaded"] is True
    report = memschema.validate(data)
    assert report.ok, str(report)
    assert "amem.term_length_wrapped" in {f.code for f in report.warnings}
    assert "amem.term_index_mismatch" not in report.codes()          # it is exactly what the writer writes
    assert memschema.dump(doc) == data


def test_amem_a_word_that_fits_u16_is_an_ordinary_term():
    word = "é" * ((LIMIT - 1) // 2) + "x"                              # 65,535 UTF-8 bytes
    data, findings = write_agentic(Model(dimension=0, nodes=[Node(word, id=0)]))
    assert not findings
    doc = memschema.load(data)
    terms = doc.to_json()["indexes"]["term_index"]["terms"]
    assert list(terms) == [word] and terms[word] == [[0, 1]]
    assert memschema.validate(data).ok


def test_amem_a_word_that_lowercases_past_the_limit_wraps_too():
    word = "\u023a" * (LIMIT // 2)       # Ⱥ is 2 bytes, its lowercase ⱥ 3: a 65,536-byte content, a 98,304-byte term
    data, findings = write_agentic(Model(dimension=0, nodes=[Node(word, id=7)]))
    assert [f.code for f in findings] == ["amem.term_length_wrapped"]
    _, body = term_entries(data)
    term = word.lower().encode()
    assert struct.unpack_from("<H", body, body.index(term) - 2)[0] == len(term) % (1 << 16)
    assert memschema.validate(data).ok


def test_amem_edge_scan_stalls_at_a_source_that_is_no_node():
    # nodes 1, 2, 5; edges sorted by source: 1, 1, 3 (no such node), 5 -> node 5 gets nothing (AMEM.md 2.8)
    assert [list(x) for x in edge_scan([1, 2, 5], [1, 1, 3, 5])] == [[0, 2, 2], [2, 0, 0]]
    assert [list(x) for x in edge_scan([0, 0, 1], [0, 1])] == [[0, 1, 1], [1, 0, 1]]   # a repeated id: the run once
    data, _ = write_agentic(Model(dimension=0, nodes=[Node("a", id=1), Node("b", id=2), Node("c", id=5)],
                                  edges=[Edge(1, 2), Edge(1, 5), Edge(3, 1), Edge(5, 1)]))
    doc = memschema.load(data)
    size = agentic.edge_record.sizeof()
    assert doc.nodes["edge_offset"].tolist() == [0, 2 * size, 2 * size]
    assert doc.nodes["edge_count"].tolist() == [2, 0, 0]


def _scan_reference(ids, sources):
    """The writer's scan, edge by edge, as AMEM.md 2.8 states it."""
    first, counts, pos, k = [], [], 0, 0
    for node_id in ids:
        if k < len(sources) and sources[k] == node_id:
            run = k
            while k < len(sources) and sources[k] == node_id:
                k += 1
            first.append(run)
            counts.append(k - run)
            pos = k
        else:
            first.append(pos)
            counts.append(0)
    return first, counts


@settings(max_examples=300)
@given(st.lists(st.integers(0, 30), max_size=25), st.lists(st.integers(0, 30), max_size=40), st.booleans(),
       st.booleans())
def test_amem_edge_scan_is_the_writers_scan(ids, sources, sort_ids, sort_sources):
    """Ascending ids and sources take the numpy scan, anything else the loop: both are the scan."""
    ids = sorted(set(ids)) if sort_ids else ids
    sources = sorted(sources) if sort_sources else sources
    want = _scan_reference(ids, sources)
    for kind in (np.int64, np.uint64):
        got = edge_scan(np.asarray(ids, kind), np.asarray(sources, kind))
        assert [g.tolist() for g in got] == [list(w) for w in want], (ids, sources)
