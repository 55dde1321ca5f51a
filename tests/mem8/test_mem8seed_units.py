"""Seed format units: importance encoding, signatures, TokenMap, append, reading orders, JSON conversion."""

from __future__ import annotations

import hashlib
import json
import math
import zlib

import pytest

import memschema
from memschema.formats.mem8.json_convert import convert_json_to_binary, rust_f64, serde_compact
from memschema.formats.mem8.seed import BLOCK_SIZE, CONTENT_AREA, HEADER_SIZE, seed_block, seed_header
from memschema.formats.mem8.seed_store import SeedDocument, decode_importance, encode_importance, wave_signature
from memschema.formats.mem8.tokens import TokenMap
from memschema.parsing import field_offset


def test_sizes_follow_the_declarations():
    assert (HEADER_SIZE, BLOCK_SIZE, CONTENT_AREA) == (30, 4096, 4024)
    assert [(sc.name, sc.sizeof()) for sc in seed_header.subcons] == [
        ("magic", 4), ("version", 1), ("flags", 1), ("block_count", 4), ("identity_freq", 8),
        ("temporal_phase", 8), ("crc32", 4)]
    assert seed_block.sizeof() == 72 + 4024


@pytest.mark.parametrize("value, raw", [
    (0.0, 0), (0.1, 6553), (0.25, 16383), (0.3, 19660), (0.5, 32767), (0.6, 39321), (0.75, 49151),
    (0.8, 52428), (0.9, 58981), (0.99999, 65534), (1.0, 65535), (1.5, 65535), (-0.5, 0), (math.nan, 0),
    (math.inf, 65535), (-math.inf, 0), (1e300, 65535), (0.9000000357627869, 58981)])
def test_importance_is_encoded_like_rust(value, raw):
    assert encode_importance(value) == raw


def test_importance_decoding_orders_like_upstream():
    assert decode_importance(65535) == 1.0
    assert decode_importance(0) == 0.0
    assert decode_importance(32767) < decode_importance(32768)


def test_wave_signature_example_from_the_format_document():
    assert wave_signature(b"First memory", 440.0).hex() == "0de17538e2044ae13f0a9e8a5f2130b5"


def test_token_map_reserved_and_dynamic_tokens():
    tokens = TokenMap()
    assert tokens.get_token("node_modules") == 0x80
    assert tokens.get_token(".rs") == 0x90
    assert tokens.get_token("Claude") == 0xFFFE
    assert tokens.get_token("Hue") == 0xFFFF
    first, second = tokens.get_token("custom_string"), tokens.get_token("another_string")
    assert first == 0x100 and second == 0x101
    assert tokens.get_token("custom_string") == first
    assert tokens.decode_token(0x80) == "node_modules"
    assert tokens.decode_token(first) == "custom_string"
    assert tokens.decode_token(0x7F) is None


def test_token_map_never_hands_out_reserved_or_overflowing_ids():
    tokens = TokenMap()
    tokens.next_id = 0xFFFD
    assert tokens.get_token("a") == 0xFFFD
    with pytest.raises(OverflowError):
        tokens.get_token("b")  # upstream would collide with Claude/Hue, then overflow u16


def test_append_then_reopen_reads_back_what_was_written(tmp_path):
    doc = SeedDocument.new()
    doc.append_block(b"First memory", 0.8, timestamp=10)
    doc.append_block(b"Second memory", 0.5, timestamp=11)
    doc.append_block(b"Important memory", 1.0, timestamp=12)
    path = tmp_path / "t.m8"
    doc.save(path)
    assert path.stat().st_size == HEADER_SIZE + 3 * BLOCK_SIZE
    again = memschema.load(path)
    assert again.header.block_count == 3
    assert [again.content(i) for i in range(3)] == [b"First memory", b"Second memory", b"Important memory"]
    assert next(iter(again.read_backwards())).index == 2
    assert [again.content(b.index) for b in again.read_by_importance(["Important"])][0] == b"Important memory"
    assert memschema.validate(path, strict=True).findings == []


def test_append_keeps_content_len_of_oversize_content_and_signs_the_full_content():
    doc = SeedDocument.new()
    content = bytes(range(256)) * 20
    block = doc.append_block(content, 0.5, timestamp=1)
    assert block.content_len == len(content) == 5120
    assert doc.content(0) == content[:CONTENT_AREA]
    assert block.wave_signature.tobytes() == hashlib.sha256(content + bytes.fromhex("0000000000807b40")).digest()[:16]
    report = memschema.validate(doc.build(), strict=True)
    assert [f.code for f in report.errors] == ["mem8.content_truncated"]


def test_append_refuses_after_a_torn_block_until_it_is_dropped():
    doc = SeedDocument.new()
    doc.append_block(b"x", 0.5, timestamp=1)
    torn = memschema.load(doc.build() + b"\x07" * 100)
    with pytest.raises(memschema.FormatError) as exc:
        torn.append_block(b"y", 0.5)
    assert exc.value.offset == HEADER_SIZE + BLOCK_SIZE
    assert torn.drop_trailing() == b"\x07" * 100
    torn.append_block(b"y", 0.5, timestamp=2)
    assert memschema.validate(torn.build()).findings == []


def test_read_by_importance_selection_rule():
    doc = SeedDocument.new()
    for i in range(25):
        doc.append_block(f"memory {i}{' needle' if i in (3, 21) else ''}".encode(), i / 100, timestamp=i)
    chosen = doc.select_by_importance(["needle"])
    # the 10 most important first, then only keyword blocks, stopping at 20 kept
    assert chosen[:10] == list(range(24, 14, -1))
    assert chosen[10:] == [3]
    assert len(doc.select_by_importance([])) == 10
    stable = SeedDocument.new()
    for i in range(4):
        stable.append_block(b"same", 0.5, timestamp=i)
    assert stable.select_by_importance([]) == [0, 1, 2, 3]


@pytest.mark.parametrize("x, text", [(1e16, "1e16"), (1e15, "1000000000000000.0"), (1e-7, "1e-7"),
                                     (1e-5, "0.00001"), (1.234e-5, "0.00001234"), (1.0, "1.0"), (0.0, "0.0"),
                                     (-0.0, "-0.0"), (-2.5, "-2.5"), (1.2345678901234568e17, "1.2345678901234568e17"),
                                     (5e-324, "5e-324"), (0.1, "0.1"), (123.456, "123.456")])
def test_numbers_are_printed_like_serde_json(x, text):
    assert rust_f64(x) == text


def test_compact_json_sorts_keys_at_every_level_and_keeps_utf8():
    value = {"z": [1, 2.0, {"b": True, "a": None}], "a": "é\n\"", "m": 10 ** 30}
    assert serde_compact(value) == '{"a":"é\\n\\"","m":1e30,"z":[1,2.0,{"a":null,"b":true}]}'


def test_conversion_of_plain_json_and_documents_without_contexts():
    doc = convert_json_to_binary(json.dumps({"contexts": [{"score": 0.25, "x": 1}, {"no": "score"}, 7]}).encode(),
                                 clock=lambda: 5)
    assert [b.importance for b in doc.blocks] == [16383, 32767, 32767]
    assert doc.content(2) == b"7"
    assert len(convert_json_to_binary(b"[1, 2]").blocks) == 0
    assert len(convert_json_to_binary(b'{"contexts": {"not": "an array"}}').blocks) == 0
    assert convert_json_to_binary(zlib.compress(b'{"contexts": [{"score": 1}]}', 9)).blocks[0].importance == 65535


@pytest.mark.parametrize("data, code", [
    (b"\xff\xfe not utf-8", "mem8.json.utf8"),
    (zlib.compress(b'{"contexts": []}', 1), "mem8.json.utf8"),  # 78 01: upstream reads it as text
    (b'{"contexts": [NaN]}', "mem8.json.invalid"),
    (b"{broken", "mem8.json.invalid"),
    (b"\x78\x9c\x00\x01garbage", "mem8.json.zlib"),
])
def test_conversion_errors_are_format_errors(data, code):
    with pytest.raises(memschema.FormatError) as exc:
        convert_json_to_binary(data)
    assert exc.value.code == code


def test_block_count_behind_the_file_is_a_warning_ahead_of_it_an_error():
    """A crash between writing a block and rewriting the header leaves block_count one short: the
    data is all there (warning).  A header counting more blocks than the file holds means blocks
    were lost, e.g. a file cut on a block boundary (error)."""
    doc = SeedDocument.new()
    for i in range(3):
        doc.append_block(b"memory %d" % i, 0.5, timestamp=i)
    data = doc.build()
    stale = bytearray(data)
    stale[field_offset(seed_header, "block_count")] = 2
    report = memschema.validate(bytes(stale))
    (f,) = report.findings
    assert report.ok and (f.code, f.path, f.offset) == ("mem8.block_count_mismatch", "header.block_count", 6)
    cut = memschema.validate(data[:-BLOCK_SIZE])
    (f,) = cut.findings
    assert not cut.ok and (f.code, f.severity.value, f.offset) == ("mem8.blocks_missing", "error", 6)


def test_contents_of_appended_blocks_come_from_the_table():
    doc = memschema.load(SeedDocument.new().build())
    doc.append_block(b"a", 0.5, timestamp=1)
    doc.append_block(b"bb" * 3000, 0.5, timestamp=2)
    assert doc.contents([1, 0]) == [(b"bb" * 3000)[:CONTENT_AREA], b"a"]
    assert memschema.load(doc.build()).contents() == [b"a", (b"bb" * 3000)[:CONTENT_AREA]]


def test_contents_are_the_blocks_contents_whatever_holds_the_bytes(tmp_path):
    """`contents` slices bytes and a mapped file directly, and copies from a view otherwise: each
    gives `content(i)`, as bytes, in the order asked."""
    doc = SeedDocument.new()
    for i in range(5):
        doc.append_block(b"memory %d " % i * (i * 900 + 1), 0.5, timestamp=i)
    data = doc.build()
    path = tmp_path / "seed.m8"
    path.write_bytes(data)
    order = [4, 0, 2, 3, 1]
    want = [memschema.load(data).content(i) for i in order]
    assert want[0] == (b"memory 4 " * 3601)[:CONTENT_AREA]
    for source in (data, bytearray(data), memoryview(data), path):
        got = memschema.load(source).contents(order)
        assert got == want and all(type(c) is bytes for c in got), type(source)
