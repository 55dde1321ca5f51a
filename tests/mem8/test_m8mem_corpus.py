"""M8MEM: the corpus file (dump ⊇ expected, round trip, rebuilt by the writer), checks, writing."""

from __future__ import annotations

import pytest
from corpus_support import assert_contains, assert_same_bytes, cli_dump_json, corpus_where, expected_for, require_corpus
from hypothesis import given

import memschema
from memschema.errors import FormatError
from memschema.formats.mem8.m8mem_store import M8MemDocument, context_frequency, xor_checksum
from memschema.formats.mem8.strategies import m8mem_files

FILES = corpus_where("mem8", format="m8mem")


def _path(name):
    return require_corpus("mem8") / name


@pytest.mark.parametrize("name", FILES)
def test_dump_json_contains_expected(name):
    path = _path(name)
    assert_contains(expected_for(path), cli_dump_json(path), name)


@pytest.mark.parametrize("name", FILES)
def test_round_trip_and_clean(name):
    path = _path(name)
    assert_same_bytes(memschema.dump(memschema.load(path)), path.read_bytes(), name)
    report = memschema.validate(path, strict=True)
    assert report.ok and not report.findings, str(report)


@pytest.mark.parametrize("name", FILES)
def test_writer_reproduces_the_file(name):
    """The same --memory-anchor calls through memschema's writer give the same bytes."""
    path = _path(name)
    expected = expected_for(path)
    doc = M8MemDocument.new(expected["header"]["last_accessed"], expected["header"]["total_recalls"])
    for m in expected["memories"]:
        doc.add_memory(m["anchor_type"], m["keywords"], m["context"], m["origin"], m["timestamp"])
    assert_same_bytes(doc.build(), path.read_bytes(), name)


def test_frequency_formula():
    assert context_frequency(b"") == 20.0
    assert context_frequency(bytes([199])) == 219.0 and context_frequency(bytes([200])) == 20.0


def _doc() -> bytes:
    doc = M8MemDocument.new(1000)
    doc.add_memory("insight", ["k1", "k2"], "context text", "human", 1000)
    return doc.build()


def _codes(data: bytes) -> set[str]:
    return memschema.validate(data, format="m8mem").codes()


def test_checks():
    good = _doc()
    assert xor_checksum(good, len(good)) == 0 and not memschema.validate(good).findings
    assert "m8mem.checksum_mismatch" in _codes(good[:-1] + bytes([good[-1] ^ 1]))
    assert "m8mem.checksum_missing" in _codes(good[:-1])
    assert "m8mem.trailing_bytes" in _codes(good + b"zz")
    bad_version = bytearray(good)
    bad_version[5] = 2
    assert {"m8mem.version", "m8mem.checksum_mismatch"} <= _codes(bytes(bad_version))
    wrong_freq = M8MemDocument.parse(good, memschema.detect(good))
    wrong_freq.memories[0].frequency = 1.0
    wrong_freq.seal()
    assert _codes(wrong_freq.build()) == {"m8mem.frequency"}


def test_invalid_utf8_is_a_warning_with_its_offset():
    doc = M8MemDocument.new(0)
    doc.add_memory("a", ["ok"], "c", "o", 0)
    doc.memories[0].keywords.append(b"\xff\xfe")
    doc.seal()
    report = memschema.validate(doc.build())
    (finding,) = report.findings
    assert (finding.code, finding.path, finding.offset, report.ok) == \
        ("m8mem.invalid_utf8", "memories[0].keywords[1]", 22 + 2 + 1 + 3, True)
    assert memschema.load(doc.build()).to_json()["memories"][0]["keywords"][1] == "\ufffd\ufffd"


def test_truncated_memory_is_a_format_error_naming_the_field():
    good = _doc()
    with pytest.raises(FormatError) as info:
        memschema.load(good[:45])   # the context string is cut
    assert info.value.code == "m8mem.length_past_end" and info.value.path.startswith("memories[0]")


def test_over_long_fields_are_refused_by_the_writer():
    with pytest.raises(ValueError):
        M8MemDocument.new(0).add_memory("x" * 256, [], "", "o")


def test_save_is_atomic(tmp_path):
    doc = M8MemDocument.new(5)
    doc.add_memory("t", [], "c", "o", 5)
    doc.save(tmp_path / "memories.m8")
    assert memschema.load(tmp_path / "memories.m8").to_json()["memories"][0]["context"] == "c"


@given(m8mem_files())
def test_whole_file_round_trip(data):
    doc = memschema.load(data)
    assert memschema.dump(doc) == data
    again = M8MemDocument.new(doc.header.last_accessed, doc.header.total_recalls)
    for m in doc.to_json()["memories"]:
        again.add_memory(m["anchor_type"], m["keywords"], m["context"], m["origin"], m["timestamp"])
    assert again.build() == data
