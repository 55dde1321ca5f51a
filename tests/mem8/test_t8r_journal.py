"""T8R journals: write, read back, append safely, torn tails, checks, hypothesis round trips."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native import t8r_frame_header
from memschema.formats.mem8.record_frame import (
    FRAME_HEADER_SIZE,
    FRAME_HEADERS,
    MAX_FRAME_LEN,
    header_crc,
    header_problems,
    trusted,
)
from memschema.formats.mem8.strategies import t8r_journals
from memschema.formats.mem8.t8r import FILE_HEADER_SIZE
from memschema.formats.mem8.t8r_store import COMPRESSED_AT, T8RDocument, open_journal
from memschema.parsing import build, parse

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


def _journal(n: int) -> bytes:
    doc = T8RDocument.new()
    for i in range(n):
        doc.put(f"k{i}", S(f"value {i}" * 50))
    return doc.build()


def test_open_decodes_nothing_and_a_frame_decodes_when_asked(monkeypatch):
    from memschema.formats.mem8 import record_frame
    inflated = []
    real = record_frame.zlib_frame.inflate
    monkeypatch.setattr(record_frame.zlib_frame, "inflate", lambda data, n: inflated.append(n) or real(data, n))
    doc = memschema.load(_journal(5))
    assert len(doc.frames) == 5 and not inflated
    assert doc.frames[-1].key == "k4" and doc.frames[-1].value == S("value 4" * 50) and len(inflated) == 1
    with pytest.raises(IndexError):
        doc.frames[5]
    assert [f.key for f in doc.frames[1:3]] == ["k1", "k2"]
    assert not memschema.validate(_journal(5)).findings


def test_checking_a_frame_keeps_its_key_not_its_value():
    doc = memschema.load(_journal(3))
    frame = doc.frames[0]
    assert frame.problem is None and frame.crc_ok
    assert frame._value is None          # validation holds one value at a time
    assert frame.key == "k0" and frame.value == S("value 0" * 50)


def test_a_bad_frame_header_in_the_middle_ends_the_replay_there():
    from memschema.formats.mem8.t8r import t8r_frame
    from memschema.parsing import field_offset
    data = bytearray(_journal(4))
    doc = memschema.load(bytes(data))
    third = doc.frames[2].offset
    data[third + field_offset(t8r_frame, "header.header_crc32")] ^= 0x01
    broken = memschema.load(bytes(data))
    assert len(broken.frames) == 3 and [f.key for f in broken.frames[:2]] == ["k0", "k1"]
    found = {f.code: (f.path, f.offset) for f in memschema.validate(bytes(data)).findings}
    assert found["t8r.header_crc_mismatch"] == ("frames[2].header.header_crc32",
                                                third + field_offset(t8r_frame, "header.header_crc32"))
    assert found["t8r.undecoded"] == ("frames[2]", third)
    assert broken.live() == {"k0": S("value 0" * 50), "k1": S("value 1" * 50)}




_LENGTHS = st.one_of(st.integers(0, 3), st.integers(MAX_FRAME_LEN - 1, MAX_FRAME_LEN + 1), st.integers(0, 2**32 - 1))
_HEADERS = st.fixed_dictionaries({"compressed_len": _LENGTHS, "raw_len": _LENGTHS,
                                  "payload_crc32": st.integers(0, 2**32 - 1),
                                  "header_crc32": st.one_of(st.none(), st.integers(0, 2**32 - 1))})


@given(st.lists(_HEADERS, max_size=12))
def test_the_header_table_check_is_header_problems_on_each(heads):
    """`trusted` (every frame header of a journal at once) says what `header_problems` says of each
    header: sound or not (lengths in range, header CRC)."""
    rows = []
    for fields in heads:   # header_crc32 None: the right CRC, so that the lengths decide
        raw = build(t8r_frame_header, {**fields, "header_crc32": fields["header_crc32"] or 0}, "header")
        rows.append(raw if fields["header_crc32"] is not None else
                    build(t8r_frame_header, {**fields, "header_crc32": header_crc(parse(t8r_frame_header, raw, 0,
                                                                                        "header"))}, "header"))
    table = np.frombuffer(b"".join(rows), FRAME_HEADERS)
    expected = [not header_problems(parse(t8r_frame_header, row, 0, "header"), row) for row in rows]
    assert trusted(table).tolist() == expected


def _damage_payload(data: bytes, doc: T8RDocument, i: int, keep_crc: bool) -> bytes:
    """Flip a byte inside frame i's compressed bytes; `keep_crc`: rewrite its payload CRC (and so
    its header CRC) so that the damage reaches zlib."""
    frame = doc.frames[i]
    out = bytearray(data)
    at = frame.offset + COMPRESSED_AT + 3
    out[at] ^= 0x5A
    if keep_crc:
        header = dict(frame.header)
        header["payload_crc32"] = zlib.crc32(out[frame.offset + COMPRESSED_AT:at + frame.header.compressed_len - 3])
        header["header_crc32"] = header_crc(header)
        out[frame.offset:frame.offset + FRAME_HEADER_SIZE] = build(t8r_frame_header, header, "frame")
    return bytes(out)


@pytest.mark.parametrize("n", [7, 700])   # one batch, and one split between threads
def test_batch_decoding_gives_what_frames_give_one_by_one(n):
    """`live` and `validate` decode the placed frames as a batch; a frame the batch refuses is made
    and decoded alone.  Both must give what decoding every frame as a `Frame` gives: the same live
    view, the same findings (code, path, offset), also when frames are made during the batch."""
    data = _journal(n)
    data = _damage_payload(data, memschema.load(data), 2, keep_crc=False)
    data = _damage_payload(data, memschema.load(data), n - 2, keep_crc=True)
    one_by_one = memschema.load(data)
    frames = list(one_by_one.frames)
    expected_live = {f.key: f.value for f in frames if f.key is not None}
    expected = [(p.code, p.path, p.offset) for p in (f.problem for f in frames) if p is not None]
    assert [c for c, _, _ in expected] == ["t8r.payload_crc_mismatch", "t8r.zlib"]

    assert memschema.load(data).live() == expected_live
    found = memschema.validate(data).findings
    assert [(f.code, f.path, f.offset) for f in found] == expected

    doc = memschema.load(data)              # frames made before the batch: it decodes the others
    assert doc.frames[0].key == "k0" and doc.frames[n - 3].key == f"k{n - 3}"
    assert [(f.code, f.path, f.offset) for f in doc.check()] == expected

    doc = memschema.load(data)
    seen = []
    for k, entry in enumerate(doc.entries()):
        if k == 0:
            assert doc.frames[4].key == "k4"     # made while the batch is being handed out
        seen.append(entry.key)
    assert seen == [f.key for f in frames]
