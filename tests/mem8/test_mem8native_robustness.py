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
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.m8mem_store import M8MemDocument
from memschema.formats.mem8.mutators import reseal
from memschema.formats.mem8.native import t8r_frame_header
from memschema.formats.mem8.native_store import NativeDocument, payload_pairs
from memschema.formats.mem8.record_frame import FRAME_HEADER_SIZE, header_crc
from memschema.formats.mem8.strategies import broken_files, valid_files
from memschema.formats.mem8.t8r_store import T8RDocument
from memschema.strategies import decoder_mutations, decoder_mutators, exercise_bounded
from memschema.strategies.mutate import change_bytes

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


# -- hostile files of issue 10: zlib + token-LZW bombs ----------------------------------------------------

HOSTILE_RSS_MIB, HOSTILE_SECONDS = 256, 20


@pytest.mark.parametrize("kind, size", [("t8r", 24_000), ("t8r", 191_000), ("native", 392_000)])
@pytest.mark.parametrize("call", ["validate", "dump"])
def test_record_bombs_stay_small(tmp_path, kind, size, call):
    """Each record of these files decodes to 64 MiB (upstream's limit); before issue 10 they took
    gigabytes.  Now the first record fits the 64 MiB file budget and every further one is an error
    finding, one record in memory at a time."""
    from hostile import native_bomb, probe, t8r_bomb
    path = tmp_path / f"bomb.{kind}"
    path.write_bytes(t8r_bomb(size) if kind == "t8r" else native_bomb(size))
    got = probe(path, call)
    assert got["rc"] == 0 and "exception" not in got, got
    assert got["children_rss_mib"] < HOSTILE_RSS_MIB and got["seconds"] < HOSTILE_SECONDS, got
    if call == "validate":
        assert got["codes"] == [("t8r." if kind == "t8r" else "mem8.native.") + "budget_exceeded"], got


def test_bomb_findings_name_record_offset_and_budget():
    from hostile import t8r_bomb
    data = t8r_bomb(24_000)
    report = memschema.validate(data)
    first = report.findings[0]
    assert (first.code, first.path) == ("t8r.budget_exceeded", "frames[1].compressed")
    assert first.offset == memschema.load(data).frames[1].offset + FRAME_HEADER_SIZE
    assert "over its budget of 67108864 bytes" in first.message


# -- fuzzing hooks: re-sealed mutations reach the decoders (issue 10 item 7) ---------------------------------

def _journals() -> dict[str, bytes]:
    native, t8r = NativeDocument.new(), T8RDocument.new()
    for i in range(3):
        for doc in (native, t8r):
            doc.put(f"key{i}", bincode.encode_bytes(bytes(range(200)) * (i + 1)))
    return {"mem8.native.": native.build(), "t8r.": t8r.build()}


CHECKSUM_CODES = ("crc_mismatch", "header_crc_mismatch", "payload_crc_mismatch", "checksum_mismatch")


@pytest.mark.parametrize("mutator, layer", [("zlib", "zlib"), ("tokens", "tokens"), ("bincode", "bincode"),
                                            ("raw_len", "tokens")])
def test_layer_mutations_pass_the_checksums_and_reach_their_decoder(mutator, layer):
    """Only the named decoder emits `<prefix><layer>`: seeing it proves the bytes got there."""
    for prefix, data in _journals().items():
        codes = set()
        for seed in range(30):
            out = decoder_mutators("t8r" if prefix == "t8r." else "mem8")[mutator](data, random.Random(seed))
            codes |= memschema.validate(out).codes()
        assert prefix + layer in codes, (prefix, mutator, codes)
        assert not any(c.endswith(CHECKSUM_CODES) for c in codes), (prefix, mutator, codes)


def test_reseal_fixes_what_plain_byte_changes_break():
    """The same random changes: without reseal the CRCs stop them; with it the decoders see them."""
    for data in _journals().values():
        plain, sealed = set(), set()
        for seed in range(60):
            changed = change_bytes(data, random.Random(seed), keep_length=True)
            plain |= memschema.validate(changed).codes()
            sealed |= memschema.validate(reseal(changed)).codes()
        assert any(c.endswith(CHECKSUM_CODES) for c in plain)
        assert not any(c.endswith(CHECKSUM_CODES) for c in sealed), sealed
    m8mem = M8MemDocument.new(1, 0)
    m8mem.add_memory("insight", ["a"], "context", "human", 1)
    data = bytearray(m8mem.build())
    data[data.index(b"context")] ^= 0x20        # 'c' -> 'C': the text changes, the XOR byte no longer fits
    assert "m8mem.checksum_mismatch" in memschema.validate(bytes(data)).codes()
    assert "m8mem.checksum_mismatch" not in memschema.validate(reseal(bytes(data))).codes()


@pytest.mark.parametrize("fmt", ["mem8", "t8r", "m8mem"])
@given(data=st.data())
def test_decoder_mutations_never_crash(fmt, data):
    variant = {"mem8": "native_journal", "t8r": "t8r", "m8mem": "m8mem"}[fmt]
    mutation = data.draw(decoder_mutations(valid_files(variant), fmt))
    exercise_bounded(mutation.data, fmt)
