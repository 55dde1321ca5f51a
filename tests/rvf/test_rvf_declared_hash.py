"""RVF.md 7, issue 11 item 4: a content hash is verified under the algorithm its segment's
`checksum_algo` declares.  The dialect is still inferred (it says what 0 means), but a hash that
only matches another rule is an error."""

from __future__ import annotations

import pytest
from corpus_support import require_corpus

import memschema
from memschema.formats.rvf import hashes
from memschema.formats.rvf.segment import segment_header
from memschema.parsing import build, locate


def _with_header(data: bytes, index: int, **fields) -> bytes:
    doc = memschema.load(data)
    seg = doc.segments[index]
    header = seg.header.copy()
    header.update(fields)
    return data[:seg.offset] + build(segment_header, header) + data[seg.offset + 64:]


def _payload(data: bytes, index: int) -> bytes:
    doc = memschema.load(data)
    return bytes(doc.payload(doc.segments[index]))


@pytest.fixture(scope="module")
def store() -> bytes:
    return (require_corpus("rvf") / "s02_basic_dim8_meta.rvf").read_bytes()


@pytest.mark.parametrize("index", [0, 1])      # the first segment (dialect evidence) and a VEC
def test_runtime_crc_under_a_declared_xxh3_is_an_error(store, index):
    data = _with_header(store, index, checksum_algo=1)
    doc = memschema.load(data)
    assert doc.dialect == "runtime" and doc.hash_algorithm(doc.segments[index]) == "xxh3_128"
    seg = doc.segments[index]
    found = [(f.severity.value, f.code, f.offset) for f in memschema.validate(data).findings]
    assert found == [("error", "rvf.hash_mismatch", seg.offset + locate(segment_header, seg.header, "content_hash"))]
    assert "crc32_rotated" in memschema.validate(data).findings[0].message


@pytest.mark.parametrize("algo, digest", [(1, hashes.xxh3_128_le), (2, hashes.shake256_128), (3, hashes.xxh3_128_le)])
def test_a_hash_under_the_declared_algorithm_verifies(store, algo, digest):
    data = _with_header(store, 1, checksum_algo=algo, content_hash=digest(_payload(store, 1)))
    assert memschema.load(data).dialect == "runtime"
    assert memschema.validate(data).findings == []


def test_unknown_algorithm_and_runtime_default(store):
    data = _with_header(store, 1, checksum_algo=9)
    assert [f.code for f in memschema.validate(data).findings] == ["rvf.checksum_algo_unknown"]
    doc = memschema.load(store)
    assert {doc.hash_algorithm(s) for s in doc.segments} == {"crc32_rotated"}
