"""`repair` of the MEM8 family on real bytes: seed (torn block, over-long content_len, block
count), native journals (torn tail, bad CRC record resealed or dropped, undecodable pairs), T8R
(torn tail, bad payload CRC, damaged header with resynchronisation), M8MEM (bad checksum byte,
truncated memory, trailing bytes).  Every repaired file validates; what was kept is exactly the
complete, intact units; every change names its offset in the damaged file."""

from __future__ import annotations

import random

import pytest
from corpus_support import require_corpus

import memschema
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.m8mem_store import M8MemDocument
from memschema.formats.mem8.native import PAIR_SIZE, native_pair
from memschema.formats.mem8.native_store import NativeDocument
from memschema.formats.mem8.seed import BLOCK_SIZE, HEADER_SIZE
from memschema.formats.mem8.seed_store import SeedDocument
from memschema.formats.mem8.t8r import FILE_HEADER_SIZE
from memschema.formats.mem8.t8r_store import T8RDocument
from memschema.parsing import field_offset

S = bincode.encode_string


def _changes(result) -> list[tuple[str, str, int]]:
    return [(c.action.value, c.code, c.offset) for c in result.changes]


# -- seed -------------------------------------------------------------------------------------------

def _seed(n=3) -> SeedDocument:
    doc = SeedDocument.new()
    for i in range(n):
        doc.append_block(f"memory {i}".encode(), 0.5, timestamp=1000 + i)
    return doc


def test_seed_torn_block_is_cut_and_the_count_rebuilt():
    data = _seed().build()
    torn = data[:-100]
    result = memschema.repair(torn)
    assert _changes(result) == [("cut", "mem8.trailing_partial_block", HEADER_SIZE + 2 * BLOCK_SIZE),
                                ("rebuilt", "mem8.block_count_mismatch", 6)]
    assert result.data == data[:HEADER_SIZE + 2 * BLOCK_SIZE][:6] + (2).to_bytes(4, "little") + \
        data[10:HEADER_SIZE + 2 * BLOCK_SIZE]
    assert result.kept == {"blocks": 2} and memschema.validate(result.data, strict=True).ok


def test_seed_over_long_content_len_keeps_the_stored_bytes():
    doc = _seed(1)
    doc.append_block(b"x" * 5000, 1.0)             # upstream stores 4024 bytes, open() then panics
    result = memschema.repair(doc.build())
    assert [c.code for c in result.changes] == ["mem8.content_truncated"]
    fixed = memschema.load(result.data)
    assert fixed.content(1) == b"x" * 4024 and memschema.validate(result.data, strict=True).ok


def test_seed_intact_file_is_left_as_it_is():
    data = _seed().build()
    result = memschema.repair(data)
    assert result.data == data and not result.changes and result.kept == {"blocks": 3}


# -- native journals --------------------------------------------------------------------------------

def _journal() -> bytes:
    doc = NativeDocument.new()
    doc.put("a", S("1"))
    doc.put("big", bincode.encode_bytes(random.Random(1).randbytes(9000)))   # 3 pairs
    doc.put("c", S("3"))
    doc.forget("a")
    return doc.build()


def _keys(data) -> list[tuple[str, bool]]:
    return [(r.key, r.tombstoned) for r in memschema.load(data).records]


def test_native_torn_tail_is_cut():
    data = _journal()
    result = memschema.repair(data[:-5000])
    assert _changes(result) == [("cut", "mem8.native.torn_tail", 5 * PAIR_SIZE)]
    assert _keys(result.data) == [("a", False), ("big", False), ("c", False)]
    assert result.data == data[:5 * PAIR_SIZE] and result.kept == {"records": 3, "pairs": 5}


def test_native_bad_seal_is_resealed_when_the_record_verifies():
    data = bytearray(_journal())
    data[PAIR_SIZE + field_offset(native_pair, "mem8.reserved") + 7] ^= 0xFF   # seal fails, payload intact
    data[3 * PAIR_SIZE + field_offset(native_pair, "raw8.magic")] ^= 0xFF      # a continuation pair's magic
    result = memschema.repair(bytes(data))
    assert _changes(result) == [("rebuilt", "mem8.native.crc_mismatch", PAIR_SIZE)]
    assert "bad_magic" in result.changes[0].message and result.changes[0].length == 3 * PAIR_SIZE
    assert result.data == _journal() and memschema.validate(result.data).ok


def test_native_record_whose_payload_is_damaged_is_dropped():
    data = bytearray(_journal())
    data[2 * PAIR_SIZE + 4096 + 100] ^= 0xFF       # inside the compressed bytes of "big" (pair 2)
    result = memschema.repair(bytes(data))
    dropped = [c for c in result.changes if c.action.value == "dropped"]
    assert [(c.offset, c.length) for c in dropped][0] == (PAIR_SIZE, 3 * PAIR_SIZE)
    assert _keys(result.data) == [("a", False), ("c", False), ("a", True)]
    assert memschema.validate(result.data).ok


def test_native_undecodable_pairs_are_dropped_one_by_one():
    data = bytearray(_journal())
    data[PAIR_SIZE + field_offset(native_pair, "raw8.payload") + 4] ^= 0xFF   # "big"'s frame header: extent unknown
    result = memschema.repair(bytes(data))
    assert {c.action.value for c in result.changes} == {"dropped"}
    assert [c.offset for c in result.changes] == [PAIR_SIZE, 2 * PAIR_SIZE, 3 * PAIR_SIZE]
    assert _keys(result.data) == [("a", False), ("c", False), ("a", True)] and memschema.validate(result.data).ok


def test_native_corpus_journal_torn_at_random_points():
    folder = require_corpus("mem8")
    files = [p for p in sorted(folder.glob("*.m8")) if memschema.detect(p).id == "mem8/native"]
    if not files:
        pytest.skip("no native journal in the corpus")
    rng = random.Random(3)
    for path in files:
        data = path.read_bytes()
        whole = memschema.load(data)
        for cut in sorted(rng.sample(range(PAIR_SIZE, len(data)), min(8, len(data) - PAIR_SIZE))):
            result = memschema.repair(data[:cut], format="mem8/native")
            assert result.ok, f"{path.name} cut at {cut}: {result.report}"
            kept = len(memschema.load(result.data).pairs)
            assert result.data == data[:kept * PAIR_SIZE] and kept <= len(whole.pairs)


# -- T8R ----------------------------------------------------------------------------------------------

def _t8r() -> tuple[bytes, list[int]]:
    doc = T8RDocument.new()
    for i in range(5):
        doc.put(f"k{i}", S(f"value {i}" * 10))
    return doc.build(), [f.offset for f in doc.frames]


def test_t8r_torn_tail_is_cut():
    data, offsets = _t8r()
    result = memschema.repair(data[:-4])
    assert _changes(result) == [("cut", "t8r.torn_tail", offsets[4])]
    assert result.data == data[:offsets[4]] and result.kept == {"frames": 4}


def test_t8r_bad_payload_crc_frame_is_dropped_the_rest_kept():
    data, offsets = _t8r()
    bad = bytearray(data)
    bad[offsets[2] + 20] ^= 0x01
    result = memschema.repair(bytes(bad))
    assert _changes(result) == [("dropped", "t8r.payload_crc_mismatch", offsets[2] + 16)]
    assert sorted(memschema.load(result.data).live()) == ["k0", "k1", "k3", "k4"]
    assert result.data == data[:offsets[2]] + data[offsets[3]:]


def test_t8r_damaged_frame_header_resynchronises_on_the_next_frame():
    data, offsets = _t8r()
    bad = bytearray(data)
    bad[offsets[1] + 1] ^= 0x10                    # compressed_len: header CRC fails, extent unknown
    result = memschema.repair(bytes(bad))
    assert _changes(result) == [("dropped", "t8r.header_crc_mismatch", offsets[1])]
    assert result.changes[0].length == offsets[2] - offsets[1]
    assert sorted(memschema.load(result.data).live()) == ["k0", "k2", "k3", "k4"]


def test_t8r_damaged_file_header_is_rebuilt():
    data, _ = _t8r()
    result = memschema.repair(b"T8R\x00\x09\x00\x00\x00" + data[FILE_HEADER_SIZE:], format="t8r")
    assert _changes(result) == [("rebuilt", "t8r.bad_magic", 0)] and result.data == data


# -- M8MEM ----------------------------------------------------------------------------------------------

def _m8mem() -> M8MemDocument:
    doc = M8MemDocument.new(1700000000)
    for i in range(3):
        doc.add_memory("insight", ["a", f"k{i}"], f"context {i}", "human", 1700000000 + i)
    return doc


def test_m8mem_bad_checksum_byte_is_rebuilt():
    data = bytearray(_m8mem().build())
    data[-1] ^= 0x5A
    result = memschema.repair(bytes(data))
    assert _changes(result) == [("rebuilt", "m8mem.checksum_mismatch", len(data) - 1)]
    assert result.data == _m8mem().build()


def test_m8mem_truncated_memory_is_dropped_and_count_rebuilt():
    doc = _m8mem()
    data = doc.build()
    result = memschema.repair(data[:-10])
    codes = [c.code for c in result.changes]
    assert codes == ["m8mem.length_past_end", "m8mem.mem_count", "m8mem.checksum_mismatch"]
    fixed = memschema.load(result.data)
    assert [bytes(m.context) for m in fixed.memories] == [b"context 0", b"context 1"]
    assert result.kept == {"memories": 2} and memschema.validate(result.data).ok


def test_m8mem_trailing_bytes_are_dropped():
    data = _m8mem().build()
    result = memschema.repair(data + b"junk")
    assert _changes(result) == [("dropped", "m8mem.trailing_bytes", len(data))] and result.data == data


def test_sectioned_layouts_have_no_repair():
    from memschema.formats.mem8.sections_store import M8SectionsDocument
    with pytest.raises(memschema.FormatError) as info:
        memschema.repair(M8SectionsDocument.new().build())
    assert info.value.code == "no_repair" and "m8sections" in str(info.value)
