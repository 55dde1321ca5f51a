"""Damaged native / M8MEM / T8R files: truncations and byte flips of the corpus files, the broken
files of `strategies.broken_files()`, and hostile lengths give findings or FormatError only, never
another exception, a hang or a huge allocation."""

from __future__ import annotations

import json
import random
import zlib

import pytest
from construct import Container
from corpus_support import corpus_where, require_corpus
from hypothesis import given

import memschema
from memschema.errors import FormatError
from memschema.formats.mem8.native import t8r_frame_header
from memschema.formats.mem8.native_store import payload_pairs
from memschema.formats.mem8.record_frame import header_crc
from memschema.formats.mem8.strategies import broken_files, valid_files
from memschema.formats.mem8.t8r_store import T8RDocument

ST8_V1 = bytes.fromhex("53543801")   # MEM8.md 2.6: the application magic 'ST8\x01' (version 1)

FILES = corpus_where("mem8", format="mem8", variant="native") + corpus_where("mem8", format="m8mem")
FORCED = (None, "mem8/native", "t8r", "m8mem", "m8sections", "m8tool")


def _exercise(data: bytes, fmt=None) -> None:
    memschema.validate(data, format=fmt)
    try:
        doc = memschema.load(data, format=fmt)
    except FormatError:
        return
    json.dumps(doc.to_json())
    doc.summary()
    assert memschema.dump(doc) == data, f"{fmt}: load -> dump lost bytes"


def _variants(original: bytes, seed: int):
    rnd = random.Random(seed)
    cuts = sorted({rnd.randrange(len(original)) for _ in range(25)} | set(range(0, 30, 3)))
    yield from ((f"truncated to {c}", original[:c]) for c in cuts)
    for i in range(60):
        b = bytearray(original)
        at = rnd.randrange(len(b))
        b[at] ^= rnd.randrange(1, 256)
        yield f"byte {at} flipped (#{i})", bytes(b)


@pytest.mark.parametrize("name", FILES)
def test_truncations_and_flips(name):
    original = (require_corpus("mem8") / name).read_bytes()
    for what, data in _variants(original, len(name)):
        for fmt in FORCED:
            try:
                _exercise(data, fmt)
            except FormatError:
                pass
            except Exception as exc:   # noqa: BLE001 - the failure names file, damage and format
                pytest.fail(f"{name} {what}, format {fmt}: {type(exc).__name__}: {exc}")


@given(broken_files())
def test_broken_files_report_their_code(case):
    data, code = case
    report = memschema.validate(data)
    assert code in report.codes(), f"{code} missing: {report}"
    finding = next(f for f in report.findings if f.code == code)
    assert finding.offset is not None and finding.path


@given(valid_files())
def test_valid_files_validate_clean_and_round_trip(data):
    report = memschema.validate(data)
    assert report.ok and not report.warnings, str(report)
    assert memschema.dump(memschema.load(data)) == data


def _frame(compressed_len: int, raw_len: int, compressed: bytes = b"") -> bytes:
    h = Container(compressed_len=compressed_len, raw_len=raw_len, payload_crc32=zlib.crc32(compressed),
                  header_crc32=0)
    h.header_crc32 = header_crc(h)
    return t8r_frame_header.build(h) + compressed


def test_huge_frame_lengths_are_checked_before_use():
    """A sound header claiming 64 MiB of compressed bytes is a torn tail, not an allocation."""
    data = payload_pairs(1, ST8_V1 + _frame(64 << 20, 64 << 20))
    report = memschema.validate(data)
    assert "mem8.native.torn_tail" in report.codes()
    over = payload_pairs(1, ST8_V1 + _frame((64 << 20) + 1, 5))
    assert "mem8.native.frame_length" in memschema.validate(over).codes()


def test_zlib_bomb_in_a_record_is_capped():
    bomb = zlib.compress(bytes(50_000_000), 9)
    data = payload_pairs(1, ST8_V1 + _frame(len(bomb), 10, bomb))
    assert "mem8.native.zlib" in memschema.validate(data).codes()
    t8r = T8RDocument.new().build() + _frame(len(bomb), 10, bomb)
    assert "t8r.zlib" in memschema.validate(t8r).codes()


def test_m8mem_huge_count_is_refused_before_looping():
    data = b"M8MEM\x01" + (0xFFFFFFFF).to_bytes(4, "little") + bytes(12) + b"\x00"
    with pytest.raises(FormatError) as info:
        memschema.load(data)
    assert (info.value.code, info.value.path, info.value.offset) == ("m8mem.count_past_end", "header.mem_count", 6)
