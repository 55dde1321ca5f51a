"""AMEM-WAL.md §2.4: the worked example's hash and record, built by memschema's writer; the hashed
timestamp form; serde_json's number forms as upstream's serde_json printed them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import memschema
from memschema.formats.amem_log.block_json import (
    format_timestamp,
    hash_timestamp,
    make_block,
    parse_timestamp,
    rust_f32,
    serde_block,
)
from memschema.formats.amem_log.document import ImmortalLogDocument
from memschema.formats.mem8.json_convert import rust_f64

UPSTREAM = Path(__file__).parent / "upstream"
HELLO = {"type": "text", "text": "Hello", "role": "user", "tokens": None}
WHEN = datetime(2026, 2, 25, 12, 0, 0, tzinfo=UTC)


def test_reference_example_hash_and_record():
    block = make_block(bytes(32), 0, "user_message", HELLO, WHEN, 123456789)
    assert bytes(block["hash"]).hex() == "6cc81a177822f0412207bf43650ffc0395fead519eac2aba6b6d5be88f85175b"
    assert block["timestamp"] == "2026-02-25T12:00:00.123456789Z" and block["size_bytes"] == 58
    doc = ImmortalLogDocument.new()
    doc.append("user_message", HELLO, WHEN, 123456789)
    data = doc.build()
    assert data[:4] == bytes.fromhex("73010000") and len(data) == 4 + 371
    assert data[4:] == serde_block(block)
    loaded = memschema.load(data)
    assert loaded.detection.id == "amem_log/immortal_log" and memschema.validate(data, strict=True).findings == []
    assert loaded.blocks()[0]["content"] == HELLO


@pytest.mark.parametrize(("text", "hashed"), [
    ("2026-02-25T12:00:00.123456789Z", "2026-02-25T12:00:00.123456789+00:00"),
    ("2026-02-25T12:00:00Z", "2026-02-25T12:00:00+00:00"),
    ("2026-02-25T12:00:00.120Z", "2026-02-25T12:00:00.120+00:00"),
    ("2026-02-25T12:00:00.123400Z", "2026-02-25T12:00:00.123400+00:00"),
    ("2026-02-25T14:30:00.5+02:30", "2026-02-25T12:00:00.500+00:00"),   # chrono converts to UTC, AutoSi digits
])
def test_hashed_timestamp_is_chronos_to_rfc3339(text, hashed):
    assert hash_timestamp(text) == hashed
    assert format_timestamp(*parse_timestamp(hashed)) == hashed.replace("+00:00", "Z")


def test_number_forms_match_upstreams_serde_json():
    rows = [line.split("\t") for line in (UPSTREAM / "serde_floats.tsv").read_text().splitlines()]
    assert len(rows) == 20
    for source, f32, f64 in rows:
        assert (rust_f32(float(source)), rust_f64(float(source))) == (f32, f64), source
