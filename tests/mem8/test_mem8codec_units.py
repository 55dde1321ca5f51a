"""The native journal's codecs, each on its own: CRC seals, LZW tokens, bincode, zlib bounds,
locations (examples from MEM8.md 2.4-2.6)."""

from __future__ import annotations

import random
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memschema.formats.mem8.codecs import CodecError, bincode, token_lzw, zlib_frame
from memschema.formats.mem8.codecs.crc_seal import seal_crc
from memschema.formats.mem8.codecs.location import location
from memschema.formats.mem8.native_store import Wave

# -- CRC seal ---------------------------------------------------------------------------------------

@given(st.binary(min_size=16, max_size=200), st.integers(0, 12))
def test_seal_ignores_its_own_bytes(data, at):
    zeroed = data[:at] + bytes(4) + data[at + 4:]
    assert seal_crc(data, at) == zlib.crc32(zeroed)


# -- token codec ------------------------------------------------------------------------------------

def test_lzw_example_from_the_spec():
    assert token_lzw.encode(b"abababab").hex() == "616280028202" + "62"
    assert token_lzw.decode(bytes.fromhex("61628002820262"), 8) == b"abababab"


def test_lzw_empty():
    assert token_lzw.encode(b"") == b""
    assert token_lzw.decode(b"", 0) == b""


@given(st.binary(max_size=3000) | st.text(alphabet="ab", max_size=3000).map(str.encode))
def test_lzw_round_trip(data):
    assert token_lzw.decode(token_lzw.encode(data), len(data)) == data


def test_lzw_dictionary_full():
    """Past 65536 entries no code is added; encoder and decoder stay in step."""
    data = bytes(range(256)) * 600 + b"tail"
    assert token_lzw.decode(token_lzw.encode(data), len(data)) == data


@pytest.mark.parametrize(("tokens", "raw_len", "why"), [
    ("61", 0, "exceed"),                 # output longer than raw_len
    ("61", 2, "decode to 1"),            # output shorter
    ("80", 1, "ends inside"),            # truncated varint
    ("80808001", 1, "longer than 3"),    # a 4th varint byte
    ("ffff7f", 1, "not below"),          # value >= 65536
    ("8002", 2, "not in the dictionary"),  # code 256 with no previous code
    ("61ff03", 3, "not in the dictionary"),
])
def test_lzw_errors(tokens, raw_len, why):
    with pytest.raises(CodecError, match=why) as info:
        token_lzw.decode(bytes.fromhex(tokens), raw_len)
    assert info.value.code == "tokens"


# -- bincode ------------------------------------------------------------------------------------------

def test_bincode_examples_from_the_spec():
    assert bincode.encode_string("original").hex() == "086f726967696e616c"
    assert (bincode.encode_varint(2) + bincode.encode_varint(42) + bincode.encode_varint(7)).hex() == "022a07"
    assert bincode.encode_bytes(bytes(20000))[:3].hex() == "fb204e"
    assert bincode.NONE == b"\x00" and bincode.encode_some(b"\x05") == b"\x01\x05"


@given(st.integers(0, 2**64 - 1))
def test_varint_round_trip(n):
    raw = bincode.encode_varint(n)
    assert bincode.decode_varint(raw, 0) == (n, len(raw))


@given(st.text(max_size=300), st.binary(max_size=300))
def test_record_round_trip(key, value):
    assert bincode.decode_record(bincode.encode_record(key, value)) == (key, value)


@pytest.mark.parametrize(("raw", "code"), [
    ("", "bincode"), ("05616263", "bincode"), ("fe", "bincode"), ("fb01", "bincode"),
    ("01ff00", "bincode"),               # key not UTF-8
    ("016100ff", "trailing_bytes"),
    ("0161fdffffffffffffffff", "bincode"),   # value length beyond the record (and the 64 MiB limit)
])
def test_record_errors(raw, code):
    with pytest.raises(CodecError) as info:
        bincode.decode_record(bytes.fromhex(raw))
    assert info.value.code == code


# -- zlib frame ---------------------------------------------------------------------------------------

def test_deflate_is_level_1():
    assert zlib_frame.deflate(b"x")[:2] == b"\x78\x01"


def test_inflation_is_bounded_by_three_raw_len():
    bomb = zlib.compress(bytes(10_000_000), 9)
    with pytest.raises(CodecError, match="3\\*raw_len") as info:
        zlib_frame.inflate(bomb, 100)
    assert info.value.code == "zlib"


@pytest.mark.parametrize(("stream", "code"), [
    (zlib.compress(b"abc")[:-3], "zlib"), (b"\x00\x01", "zlib"), (zlib.compress(b"abc") + b"!", "trailing_bytes"),
])
def test_inflate_errors(stream, code):
    with pytest.raises(CodecError) as info:
        zlib_frame.inflate(stream, 3)
    assert info.value.code == code


# -- location and wave --------------------------------------------------------------------------------

def test_location_example_from_the_spec():
    assert location("committed") == 15957142639088932556
    assert location("committed").to_bytes(8, "little").hex() == "cc962289af2873dd"


@pytest.mark.parametrize(("wave", "fields"), [
    (Wave(0.73, -0.5, 0.8), (730, 1000, 52428, -16384)),
    (Wave(), (1000, 1000, 32768, 0)),
    (Wave(440, -0.25, 0.9), (65120, 148, 58982, -8192)),
    (Wave(65535, 1, 1), (65535, 1, 65535, 32767)),
    (Wave(0, -1, 0), (0, 1000, 0, -32767)),
])
def test_wave_quantisation(wave, fields):
    q = wave.quantised()
    assert (q["freq_numerator"], q["freq_denominator"], q["arousal_q16"], q["valence_q15"]) == fields


@pytest.mark.parametrize("wave", [Wave(float("nan")), Wave(-1.0), Wave(70000.0), Wave(1, 1.5), Wave(1, 0, -0.1)])
def test_wave_out_of_range_is_refused(wave):
    with pytest.raises(ValueError):
        wave.quantised()


# -- streamed decoding (budgets, issue 10) --------------------------------------------------------------

def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    cuts = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(cuts, cuts[1:])]


@given(st.binary(max_size=2000) | st.text(alphabet="ab", max_size=4000).map(str.encode),
       st.lists(st.integers(0, 10_000), max_size=6))
def test_lzw_decodes_the_same_from_any_chunking(data, cuts):
    tokens = token_lzw.encode(data)
    assert bytes(token_lzw.decode_chunks(_chunks(tokens, cuts), len(data))) == data


def test_lzw_full_dictionary_is_applied_in_slices(monkeypatch):
    """Past 65536 entries every code is a copy of a fixed span: the numpy path, across chunks and
    across several gather slices, gives the same bytes as the greedy encoder's input."""
    monkeypatch.setattr(token_lzw, "GATHER", 4096)
    data = random.Random(5).randbytes(150_000) + b"tail" * 5000 + bytes(range(256)) * 900
    tokens = token_lzw.encode(data)
    assert len(token_lzw.read_varints(tokens)[0]) > token_lzw.MAX_CODES
    assert bytes(token_lzw.decode_chunks(_chunks(tokens, [7, 70_001, 123_457]), len(data))) == data


def test_lzw_overrun_in_the_full_dictionary_names_the_code():
    data = random.Random(6).randbytes(150_000)
    tokens = token_lzw.encode(data)
    _, starts = token_lzw.read_varints(tokens)
    with pytest.raises(CodecError, match="exceed") as info:
        token_lzw.decode(tokens, len(data) - 1)
    assert info.value.offset == int(starts[-1])      # the last code is the one that does not fit


def test_inflate_in_chunks_is_bounded_and_whole():
    data = bytes(range(256)) * 4000
    stream = zlib.compress(data)
    assert b"".join(zlib_frame.inflate_chunks(stream, len(data), chunk=1000)) == data
    with pytest.raises(CodecError, match="3\\*raw_len"):
        for _ in zlib_frame.inflate_chunks(stream, len(data) // 4, chunk=1000):
            pass


def _inflated(fn):
    try:
        return fn()
    except CodecError as exc:
        return exc.code, exc.offset


@given(st.binary(max_size=3000), st.integers(0, 4000), st.sampled_from(["whole", "cut", "extra", "noise"]))
def test_inflate_in_one_call_is_the_chunked_inflate(data, raw_len, damage):
    """The one-call path for small frames gives the chunked path's bytes, and its errors."""
    stream = {"whole": zlib.compress(data, 1), "cut": zlib.compress(data, 1)[:-2],
              "extra": zlib.compress(data, 1) + b"\x00", "noise": data}[damage]
    one = _inflated(lambda: zlib_frame.inflate(stream, raw_len))
    chunked = _inflated(lambda: b"".join(zlib_frame.inflate_chunks(stream, raw_len, chunk=zlib_frame.CHUNK)))
    assert one == chunked


@given(st.lists(st.binary(min_size=0, max_size=40), max_size=30), st.integers(0, 40))
def test_crc32_of_rows_is_zlibs(rows, width):
    """The vectorised CRC-32 (frame headers checked all at once) is zlib.crc32 of each row."""
    from memschema.formats.mem8.codecs.crc_seal import crc32_rows
    table = np.array([list((r + bytes(width))[:width]) for r in rows], np.uint8).reshape(len(rows), width)
    assert crc32_rows(table).tolist() == [zlib.crc32(bytes(row)) for row in table]


@settings(deadline=None)
@given(st.binary(min_size=0, max_size=300), st.data())
def test_crc_rows_is_seal_crc_of_each_row_with_and_without_c(data, draw):
    """`crc_rows` (block seals and frame headers in one call) is `seal_crc` / `zlib.crc32` of each
    row, through the C extension and through each fallback (short rows a column at a time, long
    rows one by one)."""
    from memschema.formats.mem8.codecs import crc_seal
    length = draw.draw(st.integers(0, len(data)))
    starts = draw.draw(st.lists(st.integers(0, len(data) - length), max_size=12))
    seal_at = draw.draw(st.one_of(st.none(), st.integers(0, max(0, length - 4)))) if length >= 4 else None
    want = [seal_crc(data[s:s + length], seal_at) if seal_at is not None else zlib.crc32(data[s:s + length])
            for s in starts]
    paths = [crc_seal._frames, None] if crc_seal._frames is not None else [None]
    for fast in paths:
        for short in (crc_seal._SHORT, -1):
            saved = crc_seal._frames, crc_seal._SHORT
            crc_seal._frames, crc_seal._SHORT = fast, short
            try:
                got = crc_seal.crc_rows(data, np.array(starts, np.int64), length, seal_at)
            finally:
                crc_seal._frames, crc_seal._SHORT = saved
            assert got.dtype == np.uint32 and got.tolist() == want, (fast, short, starts, length, seal_at)


def test_crc_rows_refuses_rows_past_the_data():
    from memschema.formats.mem8.codecs import crc_seal
    if crc_seal._frames is None:
        pytest.skip("the C extension is not built here")
    with pytest.raises(ValueError):
        crc_seal._frames.crc_rows(b"abcd", np.array([1], np.int64), 4, 0, 0)
