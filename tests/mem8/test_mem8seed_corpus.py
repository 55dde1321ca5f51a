"""Seed-format corpus files: dump ⊇ expected JSON, byte-identical round trip, reader behaviour."""

from __future__ import annotations

import subprocess
import sys

import pytest
from corpus_support import assert_contains, assert_same_bytes, cli_dump_json, corpus_where, expected_for, require_corpus

import memschema
from memschema.formats.mem8.json_convert import convert_json_to_binary

SEED = corpus_where("mem8", format="mem8", variant="seed")
NOT_BINARY = corpus_where("mem8", format="not_binary")


def _expected(name):
    path = require_corpus("mem8") / name
    return path, expected_for(path)


@pytest.mark.parametrize("name", SEED)
def test_dump_json_contains_expected(name):
    path, expected = _expected(name)
    assert_contains(expected, cli_dump_json(path), name)


@pytest.mark.parametrize("name", SEED)
def test_round_trip_is_byte_identical(name):
    path, expected = _expected(name)
    assert_same_bytes(memschema.dump(memschema.load(path)), path.read_bytes(), name)


@pytest.mark.parametrize("name", SEED)
def test_reading_orders_match_upstream(name):
    path, expected = _expected(name)
    doc = memschema.load(path)
    assert doc.backwards_order() == expected["read_backwards_order"]
    assert [b.tobytes() for b in doc.read_backwards()] == [doc.blocks[i].tobytes() for i in doc.backwards_order()]
    stored = [bytes.fromhex(b["content_hex"]) for b in expected.get("blocks", [])]
    assert doc.contents(doc.backwards_order()) == stored[::-1] == [doc.content(i) for i in doc.backwards_order()]
    rbi = expected["read_by_importance"]
    assert doc.select_by_importance(rbi["keywords"]) == rbi["indices"], name


@pytest.mark.parametrize("name", NOT_BINARY)
def test_not_binary_detection(name):
    path, expected = _expected(name)
    found = memschema.detect(path)
    assert (found.format, found.variant) == ("not_binary", expected["variant"])
    assert not found.is_memory_file
    out = subprocess.run([sys.executable, "-m", "memschema.cli", "detect", str(path)], capture_output=True, text=True)
    assert out.returncode == 2 and "not a binary memory file" in out.stdout


def test_conversion_matches_upstream_output():
    """convert_json_to_binary of the zlib context file gives upstream's blocks; only timestamps differ."""
    src, expected = _expected("json_context_gather_input.zlib.m8")
    conv = expected["conversion"]
    upstream = memschema.load(src.with_name(conv["output_example"]))
    ours = convert_json_to_binary(src.read_bytes(), clock=iter(b.timestamp for b in upstream.blocks).__next__)
    assert ours.header.identity_freq == conv["identity_freq"]
    assert len(ours.blocks) == len(conv["blocks"])
    for block, want in zip(ours.blocks, conv["blocks"]):
        assert block.index == want["index"]
        assert block.content_len == want["content_len"]
        assert ours.content(block.index).hex() == want["content_hex"]
        assert block.importance == want["importance"]
        assert block.wave_signature.tobytes().hex() == want["wave_signature"]
    # with upstream's timestamps the whole file is byte-identical to upstream's output
    assert ours.build() == src.with_name(conv["output_example"]).read_bytes()


def test_cli_convert_writes_a_valid_seed_file(tmp_path):
    src, expected = _expected("json_context_gather_input.zlib.m8")
    out = tmp_path / "out.m8"
    res = subprocess.run([sys.executable, "-m", "memschema.cli", "convert", str(src), str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    doc = memschema.load(out)
    assert [doc.content(i).hex() for i in range(len(doc.blocks))] == \
        [b["content_hex"] for b in expected["conversion"]["blocks"]]
    assert memschema.validate(out).ok


def test_validation_policy_lenient_and_strict():
    path, _ = _expected("oversize_4025.m8")
    lenient = memschema.validate(path)
    strict = memschema.validate(path, strict=True)
    # content that was cut at write time is lost data: an error under both policies
    assert not lenient.ok and [f.code for f in lenient.errors] == ["mem8.content_truncated"]
    assert not strict.ok and [f.code for f in strict.errors] == ["mem8.content_truncated"]
    (finding,) = strict.errors
    assert (finding.path, finding.offset) == ("blocks[1].content_len", 30 + 4096 + 68)
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(path, strict=True)
    assert exc.value.path == "blocks[1].content_len" and exc.value.offset == 4194


@pytest.mark.parametrize("name", ["upstream_test_3blocks.m8", "varied.m8", "empty_header_only.m8",
                                  "from_json_zlib.m8"])
def test_clean_files_have_no_findings(name):
    path, _ = _expected(name)
    assert memschema.validate(path, strict=True).findings == []
