"""Units: tokenizer rules, detection rules, LZ4 limits, per-record access by declared names."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.dtypes import struct_dtype
from memschema.errors import FormatError
from memschema.formats.amem import agentic, spec_v1
from memschema.formats.amem.compression import compress_block, decompress_block, decompress_frame
from memschema.formats.amem.model import Model, Node
from memschema.formats.amem.tokenizer import STOP_WORDS, tokenize
from memschema.formats.amem.writer import write_agentic, write_spec


def test_amem_tokenizer_rules():
    assert len(STOP_WORDS) == 68
    assert tokenize("The Quick, brown-fox; x 7 é 日 42") == ["quick", "brown", "fox", "é", "日", "42"]
    assert tokenize("ΣΊΣΥΦΟΣ") == ["σίσυφος"]      # final sigma, as Rust's to_lowercase
    assert tokenize("this is about it") == []
    assert tokenize("emoji 🚀 content") == ["emoji", "content"]


def test_amem_tokenizer_keeps_other_alphabetic_marks():
    pytest.importorskip("regex")
    assert tokenize("हिंदी") == ["हिंदी"]           # vowel signs and anusvara are Other_Alphabetic
    assert tokenize("हिन्दी") == ["हिन", "दी"]      # the virama is not alphabetic: Rust splits there
    assert tokenize("ⒶⒷ x") == ["ⓐⓑ"]              # circled letters (So, Other_Alphabetic)


def test_amem_dtypes_come_from_declarations():
    assert struct_dtype(agentic.node_record).itemsize == 72
    assert struct_dtype(agentic.edge_record).itemsize == 32
    assert struct_dtype(spec_v1.node_record).itemsize == 64
    assert struct_dtype(spec_v1.edge_record).itemsize == 13
    assert struct_dtype(agentic.node_record).fields["content_offset"][1] == 44


def test_amem_tables_are_zero_copy_views_with_declared_names(tmp_path):
    data, _ = write_agentic(Model(dimension=2, nodes=[Node("abc", id=7, session_id=3)]))
    path = tmp_path / "b.amem"
    path.write_bytes(data)
    doc = memschema.load(path)
    assert not doc.nodes.flags.owndata and not doc.vectors.flags.writeable
    assert doc.nodes[0]["id"] == 7 and doc.nodes.dtype.names[:2] == ("id", "event_type")
    rec = doc.record(0)
    assert rec.id == 7 and rec.event_type == "fact" and rec.session_id == 3


def test_amem_lz4_limits():
    blob = compress_block(b"abc" * 100)
    size = int.from_bytes(blob[:4], "little")
    assert decompress_block(blob[4:], size, "c", 0) == b"abc" * 100
    with pytest.raises(FormatError) as info:
        decompress_block(blob[4:], 10**12, "c", 0)
    assert info.value.code == "amem.bad_lz4_size"
    with pytest.raises(FormatError) as info:
        decompress_block(b"\xff\xff\xff", 50, "c", 0)
    assert info.value.code == "amem.bad_lz4"
    assert compress_block(b"") == bytes(5) and decompress_block(b"\0", 0, "c", 0) == b""
    import lz4.frame
    frame = lz4.frame.compress(b"x" * 1000)
    with pytest.raises(FormatError):
        decompress_frame(frame, 10, "c", 0)        # more output than declared: refused, capped


@pytest.mark.parametrize("layout", ["spec-v1", "agentic-memory"])
def test_amem_forced_layout(layout):
    model = Model(dimension=2, nodes=[Node("a", id=0)])
    data = (write_agentic(model) if layout == "agentic-memory" else write_spec(model))[0]
    other = "spec-v1" if layout == "agentic-memory" else "agentic-memory"
    assert memschema.load(data, format=f"amem/{layout}").variant == layout
    report = memschema.validate(data, format=f"amem/{other}")
    assert not report.ok                                 # the other reading is flagged, never a crash


def test_amem_empty_brain_is_120_bytes():
    data, _ = write_agentic(Model(dimension=128))
    assert len(data) == 120
    assert memschema.load(data).to_json()["indexes"]["tags"] == [1, 2, 3, 4]


def test_amem_vectors_are_float32_views():
    model = Model(dimension=3, nodes=[Node("a", id=0, vector=np.array([1, 2, 3], "<f4"))])
    doc = memschema.load(write_agentic(model)[0])
    assert doc.vectors.dtype == np.dtype("<f4") and doc.vectors.shape == (1, 3)


def _reference_term_index(ids: list[int], texts: list[str]) -> bytes:
    """Tag 5 the plain way (a Counter per node, construct builds the body): what the bulk collector
    must reproduce byte for byte."""
    from collections import Counter

    from memschema.formats.amem import agentic
    postings: dict[bytes, list] = {}
    total = 0
    for nid, text in zip(ids, texts):
        tokens = tokenize(text)
        total += len(tokens)
        for term, n in Counter(tokens).items():
            postings.setdefault(term.encode(), []).append({"node_id": nid, "tf": n})
    terms = [{"len": len(t), "term": t, "n": len(p), "postings": sorted(p, key=lambda x: x["node_id"])}
             for t, p in sorted(postings.items())]
    avg = float(np.float32(total) / np.float32(len(ids)))
    return agentic.term_index.build({"doc_count": len(ids), "avg_doc_length": avg, "term_count": len(terms),
                                     "terms": terms})


@given(st.lists(st.text(alphabet=st.sampled_from(list("ab ZΣς.\x00-é日Ⓐ7 \n")) | st.characters(), max_size=30),
                min_size=1, max_size=40))
def test_amem_bulk_term_index_equals_the_plain_one(texts):
    from memschema.formats.amem.indexes import TermCollector
    collector = TermCollector()
    collector.TEXTS, collector.BATCH = 7, 16          # several regex passes and counts
    for i, text in enumerate(texts):
        collector.add(i, text)
    assert collector.term_index_body() == _reference_term_index(list(range(len(texts))), texts)


@given(st.lists(st.text(alphabet=st.sampled_from(list("ab ZΣς.-é日Ⓐ7 \n,"))
                        | st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30),
                min_size=1, max_size=40), st.integers(1, 9))
def test_amem_term_index_from_joined_bytes_equals_the_plain_one(texts, per_join):
    """Validation hands the collector UTF-8 contents joined by JOINER, several at a time (ASCII
    split on bytes, the rest by the Unicode regex): the same tag 5 and 6 as text by text."""
    from memschema.formats.amem.indexes import TermCollector
    from memschema.formats.amem.tokenizer import JOINER
    collector = TermCollector()
    collector.BATCH = 16
    for at in range(0, len(texts), per_join):
        part = texts[at:at + per_join]
        collector.add_joined(list(range(at, at + len(part))), JOINER.join(part).encode())
    assert collector.term_index_body() == _reference_term_index(list(range(len(texts))), texts)
    assert collector.doc_lengths.tolist() == [len(tokenize(t)) for t in texts]
