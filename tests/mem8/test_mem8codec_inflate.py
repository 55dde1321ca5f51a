"""The record frames' own zlib decoder (`inflate_core.h`, reached as `_frames.inflate`) against
zlib: a stream zlib writes decodes to zlib's bytes without help, a damaged one decodes to what
zlib gives or is left to zlib, and each deflate construct a lenient decoder accepts but zlib
refuses (symbols 286/287 and distances 30/31 of the fixed code, too many codes, the unused half
of a one-code table, a missing end-of-block code, distances before the start) is left to zlib.
The streams of that last kind are written bit by bit here, with Adler-32 values that match what
a lenient decoder would make of them, so that the construct is the only thing wrong."""

from __future__ import annotations

import zlib

import pytest
from corpus_support import require_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

import memschema
from memschema.formats.mem8 import record_frame
from memschema.formats.mem8.codecs import zlib_frame
from memschema.formats.mem8.native_records import _compressed

pytestmark = pytest.mark.skipif(record_frame._frames is None, reason="the C batch decoder is not built here")

LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
               195, 227, 258]
LENGTH_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
             4097, 6145, 8193, 12289, 16385, 24577]
DIST_EXTRA = [0, 0, 0, 0] + [n for n in range(1, 14) for _ in (0, 1)]
FIXED_LITLEN = [8] * 144 + [9] * 112 + [7] * 24 + [8] * 8
FIXED_DIST = [5] * 32


def fast(stream: bytes, cap: int = 1 << 16) -> bytes | None:
    return record_frame._frames.inflate(stream, cap)


def zlib_verdict(stream: bytes, cap: int = 1 << 16) -> bytes | None:
    """What the frames' zlib layer accepts (zlib_frame.inflate's rules), or None."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(stream, cap + 1)
    except zlib.error:
        return None
    return out if d.eof and not d.unused_data and len(out) <= cap else None


def agrees(stream: bytes, cap: int = 1 << 16) -> bytes | None:
    """The fast decoder gives zlib's bytes or leaves the stream to zlib; zlib's verdict."""
    expected, got = zlib_verdict(stream, cap), fast(stream, cap)
    what = "refuses" if expected is None else "reads otherwise"
    assert got is None or got == expected, f"the fast path decoded a stream zlib {what}"
    return expected


class Bits:
    """A deflate bit stream: fields first bit first, Huffman codes most significant bit first."""

    def __init__(self):
        self.value, self.count = 0, 0

    def put(self, value: int, n: int) -> None:
        self.value |= value << self.count
        self.count += n

    def code(self, code: int, n: int) -> None:
        for i in reversed(range(n)):
            self.put((code >> i) & 1, 1)

    def align(self) -> None:
        self.count += -self.count % 8

    def bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


def canonical(lens: list[int]) -> dict[int, tuple[int, int]]:
    """symbol -> (code, length) of the canonical code with these lengths (RFC 1951 3.2.2)."""
    codes, code = {}, 0
    for length in range(1, 16):
        for sym, n in enumerate(lens):
            if n == length:
                codes[sym] = (code, length)
                code += 1
        code <<= 1
    return codes


def symbols(bits: Bits, litlen: list[int], dist: list[int], items: list) -> None:
    """`items`: bytes (literals), ("match", length, distance), ("sym", litlen symbol),
    ("dsym", distance symbol), ("raw", value, nbits), or "eob"."""
    ll, dd = canonical(litlen), canonical(dist)
    for item in items:
        if isinstance(item, bytes):
            for b in item:
                bits.code(*ll[b])
        elif item == "eob":
            bits.code(*ll[256])
        elif item[0] == "match":
            _, length, distance = item
            i = max(k for k, base in enumerate(LENGTH_BASE) if base <= length and (k < 28 or length == 258))
            bits.code(*ll[257 + i])
            bits.put(length - LENGTH_BASE[i], LENGTH_EXTRA[i])
            j = max(k for k, base in enumerate(DIST_BASE) if base <= distance)
            bits.code(*dd[j])
            bits.put(distance - DIST_BASE[j], DIST_EXTRA[j])
        elif item[0] == "sym":
            bits.code(*ll[item[1]])
        elif item[0] == "dsym":
            bits.code(*dd[item[1]])
        else:
            bits.put(item[1], item[2])


def fixed_block(bits: Bits, items: list, final: bool = True) -> None:
    bits.put(int(final), 1)
    bits.put(1, 2)
    symbols(bits, FIXED_LITLEN, FIXED_DIST, items)


def dynamic_block(bits: Bits, litlen: list[int], dist: list[int], items: list, final: bool = True,
                  first_length_repeat: bool = False) -> None:
    """A dynamic block whose code lengths are sent with code-length symbols 0-15, four bits each
    (`first_length_repeat`: send code 16, repeat the previous length, before any length)."""
    bits.put(int(final), 1)
    bits.put(2, 2)
    bits.put(len(litlen) - 257, 5)
    bits.put(len(dist) - 1, 5)
    bits.put(19 - 4, 4)
    order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    pre = [4] * 16 + [0, 0, 0]
    if first_length_repeat:
        pre = [4] * 15 + [0, 4, 0, 0]       # symbol 15 gives its code to 16
    for sym in order:
        bits.put(pre[sym], 3)
    codes = canonical(pre)
    if first_length_repeat:
        bits.code(*codes[16])
        bits.put(0, 2)
    for n in litlen + dist:
        bits.code(*codes[n])
    symbols(bits, litlen, dist, items)


def stored_block(bits: Bits, data: bytes, final: bool = False, nlen_delta: int = 0) -> None:
    bits.put(int(final), 1)
    bits.put(0, 2)
    bits.align()
    bits.put(len(data), 16)
    bits.put((~len(data) + nlen_delta) & 0xFFFF, 16)
    for b in data:
        bits.put(b, 8)


def zlib_stream(bits: Bits, meant: bytes) -> bytes:
    """Header 78 01, the deflate bits, and the Adler-32 of `meant`."""
    return b"\x78\x01" + bits.bytes() + zlib.adler32(meant).to_bytes(4, "big")


# --- zlib's own streams ------------------------------------------------------------------------------

_data = (st.binary(max_size=6000)
         | st.lists(st.sampled_from([b"memory ", b"graph ", b"agent ", b"\x02\x03", b"\x8a\x02", b"z"]),
                    max_size=1500).map(b"".join)
         | st.tuples(st.integers(0, 255), st.integers(0, 70000)).map(lambda t: bytes([t[0]]) * t[1]))


@settings(max_examples=300)
@given(_data, st.integers(0, 9), st.integers(9, 15), st.integers(1, 9), st.sampled_from(
    [zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED, zlib.Z_HUFFMAN_ONLY, zlib.Z_RLE, zlib.Z_FIXED]))
def test_every_stream_zlib_writes_decodes_to_its_bytes_on_the_fast_path(data, level, wbits, mem_level, strategy):
    compressor = zlib.compressobj(level, zlib.DEFLATED, wbits, mem_level, strategy)
    stream = compressor.compress(data) + compressor.flush()
    assert fast(stream, max(1, 3 * len(data))) == data


def test_the_journals_own_streams_decode_on_the_fast_path():
    """The frames of the corpus's native store (written by smart-tree: flate2 over miniz_oxide),
    fixed and dynamic blocks, decode without zlib's help."""
    doc = memschema.load(require_corpus("mem8") / "native_record_store.m8")
    seen = 0
    for record in doc._index.records:
        compressed = _compressed(doc.table, record)
        assert fast(compressed, 3 * record.frame.raw_len) == zlib.decompress(compressed), f"record at {record.offset}"
        seen += 1
    assert seen == 3


@given(_data, st.integers(0, 9), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), min_size=1,
                                         max_size=4), st.booleans(), st.integers(0, 40))
def test_damaged_streams_decode_as_zlib_decodes_or_are_left_to_it(data, level, flips, fix_adler, cut):
    """Bytes of the deflate body changed (and, when zlib can still read the body, the Adler-32
    made to match), or the stream cut short: the fast path agrees with zlib or defers."""
    stream = bytearray(zlib.compress(data, level))
    body = stream[2:-4]
    for where, byte in flips:
        if body:
            body[where % len(body)] ^= byte
    adler = stream[-4:]
    if fix_adler:
        raw = zlib.decompressobj(-15)
        try:
            out = raw.decompress(bytes(body))
            adler = zlib.adler32(out).to_bytes(4, "big")
        except zlib.error:
            pass
    damaged = bytes(stream[:2] + body + adler)
    agrees(damaged[:len(damaged) - cut] if cut else damaged, max(1, 3 * len(data)))


@given(st.binary(max_size=400), st.integers(0, 3000))
def test_arbitrary_bytes_are_never_decoded_unlike_zlib(blob, cap):
    agrees(b"\x78\x01" + blob, cap)
    agrees(blob, cap)


def test_output_past_the_cap_is_left_to_zlib():
    stream = zlib.compress(b"x" * 1000)
    assert fast(stream, 1000) == b"x" * 1000
    assert fast(stream, 999) is None and zlib_verdict(stream, 999) is None


# --- what zlib refuses and a lenient decoder would take ------------------------------------------------

def test_fixed_code_symbols_286_and_287_are_left_to_zlib():
    for sym in (286, 287):
        bits = Bits()
        fixed_block(bits, [b"a", ("sym", sym), ("dsym", 0), "eob"])
        stream = zlib_stream(bits, b"a" * 259)          # what reading 286 as length 258 would give
        assert agrees(stream) is None
        assert fast(stream) is None


def test_fixed_code_distances_30_and_31_are_left_to_zlib():
    for dsym in (30, 31):
        bits = Bits()
        fixed_block(bits, [b"abc", ("sym", 257), ("dsym", dsym), ("raw", 0, 13), "eob"])
        stream = zlib_stream(bits, b"abcabc")
        assert agrees(stream) is None and fast(stream) is None


@pytest.mark.parametrize("n_litlen, n_dist", [(287, 2), (288, 2), (258, 31), (258, 32)])
def test_more_than_286_length_or_30_distance_codes_are_left_to_zlib(n_litlen, n_dist):
    litlen = [0] * n_litlen
    litlen[ord("a")] = litlen[256] = 1
    dist = [1, 1] + [0] * (n_dist - 2)
    bits = Bits()
    dynamic_block(bits, litlen, dist, [b"aa", "eob"])
    stream = zlib_stream(bits, b"aa")
    assert agrees(stream) is None and fast(stream) is None
    litlen, dist = litlen[:286], dist[:30]                # the same block within the limits reads
    bits = Bits()
    dynamic_block(bits, litlen, dist, [b"aa", "eob"])
    assert agrees(zlib_stream(bits, b"aa")) == b"aa" == fast(zlib_stream(bits, b"aa"))


def test_a_one_code_table_reads_its_code_and_leaves_the_unused_one_to_zlib():
    """zlib accepts a literal/length or distance code of a single 1-bit code; the other 1-bit
    pattern is an error for zlib, a second copy of the code for lenient decoders."""
    litlen = [0] * 257
    litlen[256] = 1                                       # only end-of-block, as '0'
    for codeword, meant, readable in ((0, b"hello", True), (1, b"hello", False)):
        bits = Bits()
        stored_block(bits, b"hello")
        dynamic_block(bits, litlen, [0], [("raw", codeword, 1)])
        stream = zlib_stream(bits, meant)
        assert agrees(stream) == (meant if readable else None)
        assert fast(stream) == (meant if readable else None)
    litlen = [0] * 258
    litlen[ord("x")], litlen[256], litlen[257] = 1, 2, 2
    for codeword, readable in ((0, True), (1, False)):   # one distance code, '0' (distance 1)
        bits = Bits()
        dynamic_block(bits, litlen, [1], [b"x", ("sym", 257), ("raw", codeword, 1), "eob"])
        stream = zlib_stream(bits, b"xxxx")
        assert agrees(stream) == (b"xxxx" if readable else None)
        assert fast(stream) == (b"xxxx" if readable else None)


def test_a_block_of_literals_needs_no_distance_code():
    litlen = [0] * 257
    litlen[ord("q")] = litlen[256] = 1
    bits = Bits()
    dynamic_block(bits, litlen, [0], [b"qqq", "eob"])
    assert agrees(zlib_stream(bits, b"qqq")) == b"qqq" == fast(zlib_stream(bits, b"qqq"))


def test_codes_that_are_not_whole_are_left_to_zlib():
    cases = {
        "no end-of-block code": ([1, 1] + [0] * 255, [1, 1], [("raw", 0, 1)] * 3),
        "over-subscribed": ([1, 1, 1] + [0] * 253 + [1], [1, 1], [b"\x00", "eob"]),
        "incomplete, two codes": ([2] + [0] * 255 + [2], [1, 1], [b"\x00", "eob"]),
    }
    for name, (litlen, dist, items) in cases.items():
        bits = Bits()
        dynamic_block(bits, litlen, dist, items)
        stream = zlib_stream(bits, b"\x00")
        assert agrees(stream) is None and fast(stream) is None, name


def test_a_length_repeat_before_any_length_is_left_to_zlib():
    litlen = [0] * 257
    litlen[ord("a")] = litlen[256] = 1
    bits = Bits()
    dynamic_block(bits, litlen, [1, 1], [b"a", "eob"], first_length_repeat=True)
    stream = zlib_stream(bits, b"a")
    assert agrees(stream) is None and fast(stream) is None


def test_a_distance_before_the_start_is_left_to_zlib():
    bits = Bits()
    fixed_block(bits, [b"a", ("match", 3, 2), "eob"])
    stream = zlib_stream(bits, b"a" + bytes(3))
    assert agrees(stream) is None and fast(stream) is None
    bits = Bits()                                         # distance 1: a run of the one byte
    fixed_block(bits, [b"a", ("match", 258, 1), "eob"])
    assert agrees(zlib_stream(bits, b"a" * 259)) == b"a" * 259 == fast(zlib_stream(bits, b"a" * 259))


def test_stored_blocks_read_and_their_lengths_must_agree():
    bits = Bits()
    stored_block(bits, b"")
    stored_block(bits, b"abc")
    fixed_block(bits, [b"de", ("match", 5, 5), "eob"], final=False)
    stored_block(bits, b"!", final=True)
    meant = b"abcdeabcde!"
    assert agrees(zlib_stream(bits, meant)) == meant == fast(zlib_stream(bits, meant))
    bits = Bits()
    stored_block(bits, b"abc", final=True, nlen_delta=1)
    stream = zlib_stream(bits, b"abc")
    assert agrees(stream) is None and fast(stream) is None


def test_block_type_3_a_dictionary_and_a_bad_header_are_left_to_zlib():
    bits = Bits()
    bits.put(1, 1)
    bits.put(3, 2)
    bits.put(0, 16)
    assert fast(zlib_stream(bits, b"")) is None and zlib_verdict(zlib_stream(bits, b"")) is None
    good = zlib.compress(b"header")
    for header in (b"\x78\x20", b"\x88\x01", b"\x79\x01", b"\x78\x02"):   # FDICT, CINFO 8, CM 9, FCHECK
        assert fast(header + good[2:]) is None and zlib_verdict(header + good[2:]) is None


def test_bytes_after_the_adler32_or_a_wrong_adler32_are_left_to_zlib():
    good = zlib.compress(b"tail" * 50)
    assert fast(good) == b"tail" * 50
    assert fast(good + b"\x00") is None and zlib_verdict(good + b"\x00") is None
    assert fast(good[:-1] + bytes([good[-1] ^ 1])) is None
    assert fast(good[:-1]) is None


def test_the_writers_level_is_what_the_fast_path_sees():
    """Frames are written at zlib level 1 (`zlib_frame.deflate`); such a stream takes the fast path."""
    tokens = bytes(range(256)) * 8
    assert fast(zlib_frame.deflate(tokens), 3 * len(tokens)) == tokens


@pytest.mark.parametrize("keep", range(1, 7))
def test_a_stored_block_cut_inside_its_lengths_or_data_is_left_to_zlib(keep):
    bits = Bits()
    stored_block(bits, b"xyz", final=True)
    stream = b"\x78\x01" + bits.bytes()[:keep]
    assert zlib_verdict(stream) is None and fast(stream) is None
