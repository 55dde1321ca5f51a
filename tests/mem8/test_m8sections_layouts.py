"""Sectioned layouts (current `M8\\x02\\x09`, legacy `MEM8`) and the m8 tool layout: detection
(the three-way `MEM8 01 00` rule), decoding through their layouts (Markqant text into its fields),
round trip, checks with their severities, paths and offsets."""

from __future__ import annotations

import pytest

import memschema
from memschema.errors import Severity
from memschema.formats.mem8.m8tool import m8tool_layout
from memschema.formats.mem8.m8tool_store import M8ToolDocument
from memschema.formats.mem8.sections import m8sections_section, markqant_text
from memschema.formats.mem8.sections_store import M8SectionsDocument
from memschema.formats.mem8.seed_store import SeedDocument
from memschema.parsing import field_offset

WAVE = dict(id=7, amplitude=200, frequency=440, phase=3, valence=-5, arousal=9, decay_tau=100,
            timestamp=1700000000, interference=0xDEADBEEF)
HEADER = 24                                                   # MEM8.md Part 4: the sectioned header
DATA_AT = field_offset(m8sections_section, "data")            # section_type u8 + size u32


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
    assert memschema.dump(doc) == data and doc.parsed.build() == data
    out = doc.to_json()
    assert out["sections"][0]["text"] == "# markqant\nhello"
    assert out["sections"][1]["type_name"] == "WaveMemory" and out["sections"][1]["waves"][1] == {**WAVE, "id": 8}
    assert out["real_file_size"] == len(data)


def test_markqant_text_is_decoded_into_its_fields():
    """MEM8.md Part 4's example: 3 tokens in the writer's map order, then encoded_len and the text."""
    example = bytes.fromhex("0300" "800300") + b"the" + bytes.fromhex("820300") + b"cat" + \
        bytes.fromhex("810700") + b"the cat" + bytes.fromhex("1e000000") + \
        b"\x81 in \x80 hat sat on \x80 mat with \x81"
    doc = M8SectionsDocument.new("current", timestamp=0)
    doc.add_section(0x09, example)
    data = doc.build()
    section = memschema.load(data).to_json()["sections"][0]
    mq = section["markqant"]
    assert (mq["token_count"], mq["encoded_len"]) == (3, 30)
    assert [(t["token"], bytes.fromhex(t["pattern"])) for t in mq["tokens"]] == \
        [(0x80, b"the"), (0x82, b"cat"), (0x81, b"the cat")]
    assert section["patterns"] == {"0x80": "the", "0x82": "cat", "0x81": "the cat"}
    assert section["text"] == "the cat in the hat sat on the mat with the cat"
    assert not memschema.validate(data).errors
    # explain names the fields of the section; the Markqant fields are a declaration of their own
    assert memschema.load(data).explain(HEADER + DATA_AT).leaf.path == "sections[0].data"
    value = memschema.parse_as("m8sections.markqant_text", example)["markqant_text"]
    assert value["tokens"][2]["pattern_len"] == 7


def test_markqant_writer_uses_patterns_and_refuses_what_upstream_cannot_read_back():
    doc = M8SectionsDocument.new("current", timestamp=0)
    doc.add_text("the cat in the hat", ["the", "cat", "the cat"])
    section = memschema.load(doc.build()).to_json()["sections"][0]
    assert bytes.fromhex(section["markqant"]["encoded"]) == b"\x82 in \x80 hat"   # longest match first
    with pytest.raises(ValueError):
        doc.add_text("Erinnerung \u2713")          # non-ASCII, no pattern: upstream's decoder fails on it
    doc.add_text("Erinnerung \u2713", ["\u2713"])   # a pattern covers it
    assert memschema.load(doc.build()).to_json()["sections"][1]["text"] == "Erinnerung \u2713"


def _markqant_findings(body: bytes):
    doc = M8SectionsDocument.new("current", timestamp=0)
    doc.add_section(0x09, body)
    return memschema.validate(doc.build())


def test_markqant_errors_and_warnings_name_field_and_offset():
    base = HEADER + DATA_AT
    unknown = markqant_text.build({"token_count": 0, "tokens": [], "encoded_len": 3, "encoded": b"ab\x90"})
    (f,) = _markqant_findings(unknown).errors
    assert (f.code, f.path, f.offset) == ("m8sections.markqant_token", "sections[0].data.encoded", base + 2 + 4 + 2)
    short = markqant_text.build({"token_count": 0, "tokens": [], "encoded_len": 3, "encoded": b"abc"})[:-1]
    (f,) = _markqant_findings(short).errors
    assert (f.code, f.path, f.offset) == ("m8sections.markqant", "sections[0].data.encoded", base + 6)
    slack = markqant_text.build({"token_count": 0, "tokens": [], "encoded_len": 1, "encoded": b"a"}) + b"zz"
    report = _markqant_findings(slack)
    assert report.ok and ("m8sections.markqant_slack", base + 7) in {(f.code, f.offset) for f in report.findings}
    low = markqant_text.build({"token_count": 1, "tokens": [{"token": 0x41, "pattern_len": 1, "pattern": b"\xff"}],
                               "encoded_len": 0, "encoded": b""})
    codes = {(f.code, f.path, f.offset) for f in _markqant_findings(low).warnings}
    assert {("m8sections.markqant_token_range", "sections[0].data.tokens[0].token", base + 2),
            ("m8sections.invalid_utf8", "sections[0].data.tokens[0].pattern", base + 5)} <= codes


def test_upstreams_file_size_is_information_not_a_warning():
    data = _sections("current")
    report = memschema.validate(data)
    (finding,) = report.findings
    assert report.ok and not report.warnings
    assert (finding.severity, finding.code, finding.path, finding.offset) == \
        (Severity.INFO, "m8sections.file_size_field", "header.file_size", 8)
    doc = memschema.load(data)
    doc.fields.header.file_size = doc.real_file_size()
    assert not memschema.validate(doc.build()).findings


def test_sections_checks():
    data = _sections("current")
    missing = memschema.validate(data[:-4], format="m8sections")
    assert missing.ok and "m8sections.crc_missing" in {f.code for f in missing.warnings}
    assert "m8sections.trailing_bytes" in memschema.validate(data + b"x", format="m8sections").codes()
    doc = M8SectionsDocument.new("current", 0)
    doc.add_section(0x0B, bytes(31))
    doc.add_section(0x42, b"?")
    report = memschema.validate(doc.build())
    assert {"m8sections.wave_size", "m8sections.unknown_section"} <= report.codes()
    assert [f.code for f in report.errors] == ["m8sections.wave_size"]


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
    assert doc.explain(entries[1]["offset"]).leaf.path == "section_data[1]"


def _retabled(data: bytes, **changes) -> bytes:
    """The file with fields of entry 1 changed (and nothing else)."""
    parsed = m8tool_layout.parse(data)
    entries = parsed.entries.copy()
    for name, value in changes.items():
        entries[name][1] = value
    return m8tool_layout.build({"header": parsed.header, "entries": entries, "body": parsed.body})


def test_m8tool_checks():
    data = _tool()
    parsed = m8tool_layout.parse(data)
    overlapping = _retabled(data, offset=int(parsed.entries.offset[1]) - 4)
    codes = memschema.validate(overlapping, format="m8tool").codes()
    assert {"m8tool.crc_mismatch", "m8tool.section_overlap"} <= codes
    assert "m8tool.section_extent" in memschema.validate(_retabled(data, size=10_000), format="m8tool").codes()


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


def test_telling_a_seed_file_from_legacy_sections_walks_no_section(monkeypatch):
    """Row 9 of detection follows a seed file's bytes as legacy sections by their sizes alone: a
    seed header's u16 can declare 65,535 of them, and a 20 GiB seed file is detected in
    milliseconds (it took 0.5 s when each was walked)."""
    from memschema import walker
    from memschema.formats.mem8.detect import sections_end
    seed = SeedDocument.new()
    for i in range(40):
        seed.append_block(b"x" * (100 + i), 0.5, timestamp=i)
    data = seed.build()
    walked = []
    real = walker.Walker.walk
    monkeypatch.setattr(walker.Walker, "walk", lambda self, decl, pos, end, path, *rest:
                        walked.append(path) or real(self, decl, pos, end, path, *rest))
    assert memschema.detect(data).id == "mem8/seed"
    # the sizes are followed; only the section where the chain breaks is walked, for its error
    assert len({p.split(".")[0] for p in walked if p.startswith("sections[")}) == 1
    legacy = _sections("legacy_mem8")
    assert sections_end(legacy) == len(legacy) - 4 and memschema.detect(legacy).id == "m8sections/legacy_mem8"
