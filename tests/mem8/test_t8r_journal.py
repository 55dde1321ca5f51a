"""T8R journals: write, read back, append safely, torn tails, checks, hypothesis round trips."""

from __future__ import annotations

import pytest
from hypothesis import given

import memschema
from memschema.errors import FormatError
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.strategies import t8r_journals
from memschema.formats.mem8.t8r import FILE_HEADER_SIZE
from memschema.formats.mem8.t8r_store import T8RDocument, open_journal

S = bincode.encode_string


def test_write_and_read(tmp_path):
    path = tmp_path / "file_index.t8"
    doc = open_journal(path)
    doc.put("a", S("1"))
    doc.put("b", S("2"))
    doc.commit(path)
    assert path.read_bytes()[:FILE_HEADER_SIZE] == b"T8R\x00\x01\x00\x00\x00"
    assert memschema.detect(path).format == "t8r"
    doc = open_journal(path)
    doc.forget("a")
    doc.commit(path)
    loaded = memschema.load(path)
    assert loaded.live() == {"b": S("2")}
    assert [(r["key"], r["tombstoned"]) for r in loaded.to_json()["records"]] == \
        [("a", False), ("b", False), ("a", True)]
    assert not memschema.validate(path).findings


def test_torn_tail_reported_and_kept(tmp_path):
    path = tmp_path / "j.t8"
    doc = T8RDocument.new()
    doc.put("a", S("1"))
    doc.put("b", S("2"))
    full = doc.build()
    path.write_bytes(full[:-3])
    report = memschema.validate(path)
    (torn,) = [f for f in report.findings if f.code == "t8r.torn_tail"]
    assert report.ok and "1 complete frames" in torn.message
    loaded = open_journal(path)
    assert memschema.dump(loaded) == full[:-3]
    with pytest.raises(FormatError):
        loaded.put("c", S("3"))
    assert path.read_bytes() == full[:-3]
    loaded.drop_torn_tail()
    loaded.put("c", S("3"))
    loaded.save(path)
    assert memschema.load(path).live() == {"a": S("1"), "c": S("3")}


def test_bad_magic_and_broken_frames():
    good = T8RDocument.new()
    good.put("k", S("v"))
    data = good.build()
    bad_version = data[:4] + b"\x02" + data[5:]
    assert "t8r.bad_magic" in memschema.validate(bad_version, format="t8r").codes()
    flipped = bytearray(data)
    flipped[-1] ^= 0xFF
    assert "t8r.payload_crc_mismatch" in memschema.validate(bytes(flipped)).codes()
    with pytest.raises(FormatError):
        memschema.load(data[:5], format="t8r")


@given(t8r_journals())
def test_round_trip(data):
    doc = memschema.load(data)
    assert memschema.dump(doc) == data
    again = T8RDocument.new()
    for f in doc.frames:
        again.put(f.key, f.value)
    assert again.build() == data
