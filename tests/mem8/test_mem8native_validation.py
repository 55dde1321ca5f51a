"""Every validation rule of MEM8.md 2.9 on a journal broken in exactly that way (blocks re-sealed
where the rule is not the seal itself): the stable code, the field path and the absolute offset."""

from __future__ import annotations

import random
import zlib

import pytest
from construct import Container

import memschema
from memschema.formats.mem8.codecs import bincode, token_lzw
from memschema.formats.mem8.codecs.crc_seal import seal_crc
from memschema.formats.mem8.codecs.location import location
from memschema.formats.mem8.native import CRC_AT, PAIR_SIZE, native_pair, t8r_frame_header
from memschema.formats.mem8.native_store import payload_pairs, record_pairs, record_payload
from memschema.formats.mem8.record_frame import header_crc
from memschema.parsing import field_offset

ST8_V1 = bytes.fromhex("53543801")   # MEM8.md 2.6: the application magic 'ST8\x01' (version 1)

S = bincode.encode_string
BIG = bincode.encode_bytes(random.Random(1).randbytes(6000))   # a 2-pair record


def _journal() -> bytes:
    return record_pairs("a", S("x")) + record_pairs("big", BIG) + record_pairs("c", S("y"))


def _edit(data: bytes, k: int, reseal: bool = True, **changes) -> bytes:
    """Set fields of pair k (`mem8__flags=...`, `raw8__payload_len=...`) and re-seal both blocks."""
    pair = native_pair.parse(data[k * PAIR_SIZE:(k + 1) * PAIR_SIZE])
    for key, value in changes.items():
        lane, name = key.split("__")
        pair[lane][name] = value
    raw = bytearray(native_pair.build(pair))
    if reseal:
        for start in (0, PAIR_SIZE // 2):
            block = raw[start:start + PAIR_SIZE // 2]
            raw[start + CRC_AT:start + CRC_AT + 4] = seal_crc(block, CRC_AT).to_bytes(4, "little")
    return data[:k * PAIR_SIZE] + bytes(raw) + data[(k + 1) * PAIR_SIZE:]


def _frame(raw: bytes, compressed: bytes | None = None) -> bytes:
    """An ST8 payload for arbitrary record bytes `raw` (sound lengths and CRCs)."""
    compressed = zlib.compress(token_lzw.encode(raw), 1) if compressed is None else compressed
    h = Container(compressed_len=len(compressed), raw_len=len(raw), payload_crc32=zlib.crc32(compressed),
                  header_crc32=0)
    h.header_crc32 = header_crc(h)
    return ST8_V1 + t8r_frame_header.build(h) + compressed


def _zero_length_frame() -> bytes:
    h = Container(compressed_len=0, raw_len=1, payload_crc32=0, header_crc32=0)
    h.header_crc32 = header_crc(h)
    return ST8_V1 + t8r_frame_header.build(h)


def _at(k: int, path: str) -> int:
    return k * PAIR_SIZE + field_offset(native_pair, path)


def _finding(data: bytes, code: str):
    report = memschema.validate(data)
    found = [f for f in report.findings if f.code == code]
    assert found, f"{code} not reported; got: {report}"
    return found[0], report


def _payload(data, k):
    raw8 = native_pair.parse(data[k * PAIR_SIZE:(k + 1) * PAIR_SIZE]).raw8
    return raw8.payload


BROKEN = {
    # code: (bytes, path, offset, is_error)
    "crc_mismatch": lambda d: (_edit(d, 1, reseal=False, mem8__unknown_24=5), "pairs[1].mem8.crc32",
                               _at(1, "mem8.crc32"), True),
    "bad_magic": lambda d: (_edit(d, 2, raw8__magic=0x12345678), "pairs[2].raw8.magic", _at(2, "raw8.magic"), True),
    "bad_lane": lambda d: (_edit(d, 3, raw8__lane=0), "pairs[3].raw8.lane", _at(3, "raw8.lane"), True),
    "bad_version": lambda d: (_edit(d, 1, mem8__version=2), "pairs[1].mem8.version", _at(1, "mem8.version"), True),
    "bad_kind": lambda d: (_edit(d, 0, mem8__kind=3), "pairs[0].mem8.kind", _at(0, "mem8.kind"), True),
    "location_mismatch": lambda d: (_edit(d, 0, raw8__location=7), "pairs[0].raw8.location",
                                    _at(0, "raw8.location"), True),
    "zero_freq_denominator": lambda d: (_edit(d, 0, mem8__freq_denominator=0), "pairs[0].mem8.freq_denominator",
                                        _at(0, "mem8.freq_denominator"), True),
    "payload_len": lambda d: (_edit(d, 3, raw8__payload_len=4075), "pairs[3].raw8.payload_len",
                              _at(3, "raw8.payload_len"), True),
    "short_chunk": lambda d: (_edit(d, 1, raw8__payload_len=4000), "pairs[1].raw8.payload_len",
                              _at(1, "raw8.payload_len"), True),
    "chain_location": lambda d: (_edit(d, 2, mem8__location=9, raw8__location=9), "pairs[2].mem8.location",
                                 _at(2, "mem8.location"), True),
    "not_st8": lambda d: (_edit(d, 3, raw8__payload=b"XX" + _payload(d, 3)[2:]), "pairs[3].raw8.payload",
                          _at(3, "raw8.payload"), True),
    "header_crc_mismatch": lambda d: (_edit(d, 3, raw8__payload=_payload(d, 3)[:8] + b"\xff" + _payload(d, 3)[9:]),
                                      "pairs[3].raw8.payload.frame.header_crc32", _at(3, "raw8.payload") + 16, True),
    "payload_crc_mismatch": lambda d: (_edit(d, 0, raw8__payload=_payload(d, 0)[:25] + b"\xff" +
                                             _payload(d, 0)[26:]), "pairs[0].raw8.payload.compressed",
                                       _at(0, "raw8.payload") + 20, True),
    "state": lambda d: (_edit(d, 0, mem8__state=1), "pairs[0].mem8.state", _at(0, "mem8.state"), False),
    "nonzero_reserved": lambda d: (_edit(d, 0, mem8__unknown_32=b"\x01" + bytes(10)), "pairs[0].mem8.unknown_32",
                                   _at(0, "mem8.unknown_32"), False),
    "unknown_flags": lambda d: (_edit(d, 0, mem8__flags=0x10), "pairs[0].mem8.flags", _at(0, "mem8.flags"), False),
    "unknown_26": lambda d: (_edit(d, 0, mem8__unknown_26=0), "pairs[0].mem8.unknown_26",
                             _at(0, "mem8.unknown_26"), False),
    "chain_flag": lambda d: (_edit(d, 0, mem8__flags=2), "pairs[0].mem8.flags", _at(0, "mem8.flags"), False),
    # the second pair of the 2-pair record tombstoned, the first not: reported at the record's first pair
    "tombstone_flag": lambda d: (_edit(d, 2, mem8__flags=3), "pairs[1].mem8.flags", _at(1, "mem8.flags"), False),
}


@pytest.mark.parametrize("code", sorted(BROKEN))
def test_rule(code):
    data, path, offset, is_error = BROKEN[code](_journal())
    finding, report = _finding(data, "mem8.native." + code)
    assert (finding.path, finding.offset, finding.is_error) == (path, offset, is_error), str(finding)
    assert report.ok is not is_error


def test_clean_journal_has_no_findings():
    assert not memschema.validate(_journal()).findings


@pytest.mark.parametrize(("code", "payload"), [
    ("zlib", _frame(bincode.encode_record("k", S("v")), b"\x78\x01garbage")),
    ("tokens", _frame(bincode.encode_record("k", S("v")), zlib.compress(b"\x80", 1))),
    ("bincode", _frame(b"\x05ab")),
    ("trailing_bytes", _frame(bincode.encode_record("k", S("v")) + b"!")),
    ("frame_length", _zero_length_frame()),
])
def test_record_layer_errors(code, payload):
    data = record_pairs("a", S("x")) + payload_pairs(location("k"), payload)
    finding, report = _finding(data, "mem8.native." + code)
    assert finding.is_error and finding.offset is not None and finding.offset >= PAIR_SIZE
    assert not report.ok


def test_location_must_match_the_key():
    data = payload_pairs(123, record_payload("k", S("v")))
    finding, _ = _finding(data, "mem8.native.key_location_mismatch")
    assert (finding.path, finding.offset) == ("pairs[0].mem8.location", 0)


def test_a_newer_st8_version_is_unknown_not_raw():
    """ST8 with version byte 2 is a record this reader cannot decode (`st8_version`, error), not a
    raw payload: the file stays an ST8 journal, the records around it decode."""
    newer = b"ST8\x02" + _frame(bincode.encode_record("k", S("v")))[len(ST8_V1):]
    data = record_pairs("a", S("x")) + payload_pairs(location("k"), newer) + record_pairs("c", S("y"))
    finding, report = _finding(data, "mem8.native.st8_version")
    assert (finding.path, finding.offset, finding.is_error) == \
        ("pairs[1].raw8.payload.version", _at(1, "raw8.payload") + 3, True)
    assert "unknown ST8 version 2" in finding.message and not report.ok
    assert "mem8.native.not_st8" not in report.codes()
    doc = memschema.load(data)
    assert doc.application == "st8" and doc.live() == {"a": S("x"), "c": S("y")}
    assert [r.version for r in doc.records] == [1, 2, 1]
    first = memschema.load(payload_pairs(location("k"), newer))
    assert first.application == "st8" and "mem8.native.st8_version" in memschema.validate(first).codes()


@pytest.mark.parametrize("n", [6, 600])   # one batch, and one split between threads
def test_batch_decoding_gives_what_records_give_one_by_one(n):
    """Validation and `live` decode records in batches; a record a batch refuses is decoded alone.
    Both must give what `decode_record` gives record by record: the same findings (code, path,
    offset) and the same live view, whatever layer is damaged."""
    from memschema.formats.mem8.native_records import decode_record
    damaged = {1: _frame(bincode.encode_record("k1", S("v")), b"\x78\x01garbage"),
               3: _frame(bincode.encode_record("k3", S("v")) + b"!"),
               n - 2: _frame(bincode.encode_record("k", S("v")))}          # its location is not its key's
    data = b"".join(payload_pairs(location(f"k{i}" if i != n - 2 else "elsewhere"), damaged[i])
                    if i in damaged else record_pairs(f"k{i}", BIG if i % 4 == 0 else S(f"value {i}"))
                    for i in range(n))                 # every fourth record spans two pairs
    doc = memschema.load(data)
    crc_ok = doc.block_crc_ok
    one_by_one = [decode_record(doc.table, r, crc_ok) for r in doc.index]
    expected = [(r.problem.code, r.problem.path, r.problem.offset) for r in one_by_one if r.problem is not None]
    assert [c for c, _, _ in expected] == ["mem8.native.zlib", "mem8.native.trailing_bytes",
                                           "mem8.native.key_location_mismatch"]
    found = [(f.code, f.path, f.offset) for f in memschema.validate(data).findings]
    assert found == expected
    assert memschema.load(data).live() == {r.key: r.value for r in one_by_one if r.key is not None}


@pytest.mark.parametrize(("records", "nbytes"), [(1024, 32 << 20), (7, 32 << 20), (1024, 9000)])
def test_codec_problems_of_runs_are_the_records_problems(monkeypatch, records, nbytes):
    """Validation decodes the sound runs of the record index from their columns, batch by batch
    (records and compressed bytes per batch bounded), without making their records: its problems
    are those `decode_record` gives one record at a time, in file order, damaged records among
    the runs included."""
    from memschema.formats.mem8 import native_records
    from memschema.formats.mem8.native_records import decode_record
    monkeypatch.setattr(native_records, "MAX_BATCH_RECORDS", records)
    monkeypatch.setattr(native_records, "MAX_BATCH_BYTES", nbytes)
    n = 40
    damaged = {5: _frame(bincode.encode_record("k5", S("v")), b"\x78\x01garbage"),
               17: _frame(bincode.encode_record("k17", S("v")) + b"!"),
               30: _frame(bincode.encode_record("k", S("v")))}          # its location is not its key's
    data = b"".join(payload_pairs(location(f"k{i}" if i != 30 else "elsewhere"), damaged[i])
                    if i in damaged else record_pairs(f"k{i}", BIG if i % 4 == 0 else S(f"value {i}"))
                    for i in range(n))
    doc = memschema.load(data)
    assert doc.index._runs, "the index holds no run: the test would not reach the column path"
    problems = [(p.code, p.path, p.offset) for p in doc.codec_problems()]
    made = {i for i, item in enumerate(doc.index._items) if item is not None}
    assert made <= set(damaged), f"records {sorted(made - set(damaged))} decode, yet were made"
    crc_ok = doc.block_crc_ok
    one_by_one = [decode_record(doc.table, r, crc_ok).problem for r in doc.index]
    assert problems == [(p.code, p.path, p.offset) for p in one_by_one if p is not None]
    assert [c for c, _, _ in problems] == ["mem8.native.zlib", "mem8.native.trailing_bytes",
                                           "mem8.native.key_location_mismatch"]
