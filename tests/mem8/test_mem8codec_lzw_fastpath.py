"""The C fast path of the token-LZW decoder against the pure-Python decoder: identical output and
identical errors (code, message, offset) on arbitrary input, valid token streams, truncations and
wrong raw lengths; and the fast path is really built where a compiler exists."""

from __future__ import annotations

import shutil
import sysconfig

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memschema.formats.mem8.codecs import CodecError, token_lzw

needs_fast_path = pytest.mark.skipif(token_lzw._lzw is None, reason="the C fast path is not built here")


def outcome(decoder, tokens: bytes, raw_len: int):
    try:
        return "ok", decoder(tokens, raw_len)
    except CodecError as exc:
        return "error", exc.code, exc.message, exc.offset


def same(tokens: bytes, raw_len: int) -> None:
    fast = outcome(token_lzw.decode_fast, tokens, raw_len)
    pure = outcome(token_lzw.decode_python, tokens, raw_len)
    assert fast == pure, f"tokens {tokens[:48].hex()} raw_len {raw_len}: C {fast[:4]} != Python {pure[:4]}"


@needs_fast_path
@given(st.binary(max_size=400), st.integers(0, 5000))
def test_arbitrary_bytes_decode_alike(tokens, raw_len):
    same(tokens, raw_len)


_texts = st.binary(max_size=4000) | st.text(alphabet="ab ", max_size=6000).map(str.encode)


@needs_fast_path
@given(_texts, st.integers(-3, 3), st.integers(0, 10))
def test_valid_streams_and_their_damage_decode_alike(data, delta, cut):
    tokens = token_lzw.encode(data)
    same(tokens, len(data))                       # the normal case
    same(tokens, max(0, len(data) + delta))       # raw_len too small / too large
    same(tokens[:max(0, len(tokens) - cut)], len(data))   # truncated stream


@needs_fast_path
@given(st.lists(st.integers(0, 70000), max_size=200), st.integers(0, 3000))
def test_code_sequences_decode_alike(codes, raw_len):
    """Codes as varints (1-3 bytes, some past the dictionary or past 65535)."""
    out = bytearray()
    for code in codes:
        token_lzw.write_varint(code, out)
    same(bytes(out), raw_len)


@needs_fast_path
def test_the_error_kinds_are_the_same():
    cases = [(b"\x80", 1), (b"\x80\x80\x80\x01", 1), (b"\xff\xff\x7f", 1), (b"\x80\x02", 1),
             (b"a", 0), (b"ab", 5), (b"", 3), (bytes.fromhex("61628002820262"), 8)]
    for tokens, raw_len in cases:
        same(tokens, raw_len)


def test_fast_path_is_built_where_a_compiler_exists():
    """`pip install .` builds the extension when a C compiler is on PATH (it is optional only so
    that installing never fails without one)."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if not shutil.which(compiler):
        pytest.skip("no C compiler here")
    assert token_lzw._lzw is not None
