"""Native MEM8/RAW8 corpus files: dump ⊇ expected JSON, byte-identical round trip, and the two
files reproduced by memschema's own writer from the operations that made them."""

from __future__ import annotations

import hashlib
import zlib

import pytest
from corpus_support import assert_contains, assert_same_bytes, cli_dump_json, corpus_where, expected_for, require_corpus

import memschema
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native_store import NativeDocument, Wave, payload_pairs

NATIVE = corpus_where("mem8", format="mem8", variant="native")
GOLDEN_SHA256 = ("416d597b", "83bc")   # upstream's golden vector, as quoted by MEM8.md / the issue


def _path(name):
    return require_corpus("mem8") / name


@pytest.mark.parametrize("name", NATIVE)
def test_dump_json_contains_expected(name):
    path = _path(name)
    assert_contains(expected_for(path), cli_dump_json(path), name)


@pytest.mark.parametrize("name", NATIVE)
def test_round_trip_is_byte_identical(name):
    path = _path(name)
    assert_same_bytes(memschema.dump(memschema.load(path)), path.read_bytes(), name)


@pytest.mark.parametrize("name", NATIVE)
def test_validates_clean(name):
    report = memschema.validate(_path(name), strict=True)
    assert report.ok and not report.warnings, str(report)


def test_golden_pair_reproduced_by_the_writer():
    """payload "exact source text", location 42, wave (0.73, -0.5, 0.8) -> upstream's golden vector."""
    original = _path("native_golden_pair.bin").read_bytes()
    built = payload_pairs(42, b"exact source text", Wave(0.73, -0.5, 0.8))
    digest = hashlib.sha256(built).hexdigest()
    assert digest.startswith(GOLDEN_SHA256[0]) and digest.endswith(GOLDEN_SHA256[1]), digest
    assert_same_bytes(built, original, "native_golden_pair.bin")


def test_golden_pair_is_a_raw_payload_file_upstream_refuses_as_a_journal():
    doc = memschema.load(_path("native_golden_pair.bin"))
    assert doc.application == "raw" and [p.data for p in doc.payloads] == [b"exact source text"]


def _replay_large_compressed(original_doc):
    """A `compress` that returns upstream's deflate stream for the large record's tokens (Python's
    zlib level 1 differs from miniz_oxide's there), and Python's zlib for everything else."""
    large = original_doc.records[1]
    raw = b"".join(original_doc.chunk(k) for k in range(large.pair_index, large.pair_index + large.pairs))
    stream = raw[20:20 + large.frame.compressed_len]
    tokens = zlib.decompress(stream)

    def compress(data: bytes) -> bytes:
        return stream if data == tokens else zlib.compress(data, 1)
    return compress


def _rebuild_record_store(compress=None):
    source = memschema.load(_path("native_record_store.m8"))
    large_value = source.records[1].value      # 20000 random bytes: taken from the file, not invented
    doc = NativeDocument.new()
    doc.put("committed", bincode.encode_string("original"))
    kwargs = {"compress": compress} if compress else {}
    doc.put("large", large_value, Wave(440, -0.25, 0.9), **kwargs)
    doc.forget("committed")
    return source, doc.build()


def test_record_store_rebuilt_from_its_three_operations():
    """Everything memschema computes itself (pairs, seals, waves, flags, frame headers, tokens,
    bincode, locations) is byte-identical; only the deflate stream of the 27908-byte token string
    of the large record comes from upstream (miniz_oxide level 1 != zlib level 1 there)."""
    source, _ = _rebuild_record_store()
    _, built = _rebuild_record_store(_replay_large_compressed(source))
    assert_same_bytes(built, _path("native_record_store.m8").read_bytes(), "native_record_store.m8")


def test_record_store_small_records_match_with_python_zlib():
    """With Python's own zlib level 1 the small records (and so their pairs) are byte-identical;
    the large record decodes to the same key and value."""
    original = _path("native_record_store.m8").read_bytes()
    source, built = _rebuild_record_store()
    assert built[:8192] == original[:8192] and built[-8192:] == original[-8192:]
    rebuilt = NativeDocument(source.detection, built)
    assert [(r.key, r.value, r.tombstoned) for r in rebuilt.records] == \
        [(r.key, r.value, r.tombstoned) for r in source.records]


def test_journal_live_view_and_tombstones():
    doc = memschema.load(_path("native_record_store.m8"))
    assert [(r.key, r.tombstoned) for r in doc.records] == [("committed", False), ("large", False),
                                                            ("committed", True)]
    assert list(doc.live()) == ["large"]
    value = doc.live()["large"]
    length, at = bincode.decode_varint(value, 0)
    assert length == 20000 and len(value) == at + length
