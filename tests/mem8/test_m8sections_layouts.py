"""Sectioned layouts (current `M8\\x02\\x09`, legacy `MEM8`) and the m8 tool layout: detection
(the three-way `MEM8 01 00` rule), decoding, round trip, checks."""

from __future__ import annotations

import pytest

import memschema
from memschema.formats.mem8.sections_store import M8SectionsDocument, M8ToolDocument, real_file_size
from memschema.formats.mem8.seed_store import SeedDocument

WAVE = dict(id=7, amplitude=200, frequency=440, phase=3, valence=-5, arousal=9, decay_tau=100,
            timestamp=1700000000, interference=0xDEADBEEF)


def _sections(variant: str) -> bytes:
    doc = M8SectionsDocument.new(variant, timestamp=1700000000)
    doc.add_text("# markqant\nhello")
    doc.add_waves([WAVE, {**WAVE, "id": 8}])
    return doc.build()


@pytest.mark.parametrize("variant", ["current", "legacy_mem8"])
def test_sections_detect_decode_round_trip(variant):
    data = _sections(variant)
    found = memschema.detect(data)
    assert (found.format, found.variant) == ("m8sections", variant)
    doc = memschema.load(data)
    assert memschema.dump(doc) == data
    out = doc.to_json()
    assert out["sections"][0]["text"] == "# markqant\nhello"
    assert out["sections"][1]["type_name"] == "WaveMemory" and out["sections"][1]["waves"][1] == {**WAVE, "id": 8}
    assert out["real_file_size"] == len(data)


def test_wrong_file_size_field_is_a_warning():
    data = _sections("current")
    report = memschema.validate(data)
    (finding,) = report.findings
    assert report.ok and (finding.code, finding.path, finding.offset) == \
        ("m8sections.file_size_field", "header.file_size", 8)
    doc = memschema.load(data)
    doc.fields.header.file_size = real_file_size(doc.fields.sections)
    assert not memschema.validate(doc.build()).findings


def test_sections_checks():
    data = _sections("current")
    assert "m8sections.crc_missing" in memschema.validate(data[:-4], format="m8sections").codes()
    assert "m8sections.trailing_bytes" in memschema.validate(data + b"x", format="m8sections").codes()
    doc = M8SectionsDocument.new("current", 0)
    doc.add_section(0x0B, bytes(31))
    doc.add_section(0x42, b"?")
    codes = memschema.validate(doc.build()).codes()
    assert {"m8sections.wave_size", "m8sections.unknown_section"} <= codes


def _tool() -> bytes:
    doc = M8ToolDocument.new()
    doc.add_section(b"META", b'{"a":1}')
    doc.add_section(b"DATA", bytes(range(40)))
    return doc.build()


def test_m8tool_detect_decode_round_trip():
    data = _tool()
    assert memschema.detect(data).format == "m8tool"
    doc = memschema.load(data)
    assert memschema.dump(doc) == data and not memschema.validate(data).findings
    entries = doc.to_json()["entries"]
    assert [e["id_text"] for e in entries] == ["META", "DATA"] and entries[1]["data_hex"] == bytes(range(40)).hex()


def test_m8tool_checks():
    doc = memschema.load(_tool())
    doc.fields.entries[1].offset -= 4
    codes = memschema.validate(doc.build(), format="m8tool").codes()
    assert {"m8tool.crc_mismatch", "m8tool.section_overlap"} <= codes
    doc.fields.entries[1].size = 10_000
    assert "m8tool.section_extent" in memschema.validate(doc.build(), format="m8tool").codes()


def test_three_way_mem8_01_00_rule():
    """Seed, m8 tool and legacy sections all start `MEM8 01 00`; a torn seed still reads as seed."""
    seed = SeedDocument.new()
    seed.append_block(b"x", 0.5, timestamp=1)
    data = seed.build()
    heads = {_tool()[:6], _sections("legacy_mem8")[:6], data[:6]}
    assert heads == {b"MEM8\x01\x00"}
    assert memschema.detect(data).id == "mem8/seed"
    assert memschema.detect(data[:-7]).id == "mem8/seed"
    assert memschema.detect(_tool()).id == "m8tool"
    assert memschema.detect(_sections("legacy_mem8")).id == "m8sections/legacy_mem8"
