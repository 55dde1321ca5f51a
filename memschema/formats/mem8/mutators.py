"""Mutations that reach the MEM8 decoders (the fuzzing hooks of `strategies.py`).

A random change to a journal almost always breaks a CRC, and the reader stops there: the zlib,
token and bincode decoders behind the checks are never reached.  `reseal` fixes every checksum
after a change with the format's own code (native block seals: `codecs.crc_seal`; T8R frame
header and payload CRCs: `record_frame`; the M8MEM XOR byte: `m8mem_store.xor_checksum`), and the
`MUTATORS` change one record at one layer of its encoding and re-encode the layers around it
(`frame`/`payload_pairs` from the writers), so the changed bytes reach exactly that decoder.
Each mutator returns None when the input has nothing it can change.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable

import numpy as np
from construct import Container

from ...dtypes import struct_dtype
from ...errors import FormatError
from ...parsing import build, parse
from ...registry import Detection
from ...strategies.mutate import change_bytes
from .codecs import CodecError, token_lzw, zlib_frame
from .codecs.crc_seal import seal_crc
from .m8mem import MAGIC as M8MEM_MAGIC
from .m8mem_store import M8MemDocument, xor_checksum
from .native import (
    BLOCK_SIZE,
    CHUNK_SIZE,
    CRC_AT,
    ENVELOPE_HEAD,
    FLAG_TOMBSTONED,
    PAIR_SIZE,
    ST8_MAGIC,
    ST8_VERSION,
    native_pair,
    t8r_frame_header,
)
from .native_records import FRAME_AT
from .native_store import payload_pairs, wave_fields
from .record_frame import FRAME_HEADER_SIZE, MAX_FRAME_LEN, header_crc
from .t8r import FILE_HEADER_SIZE
from .t8r import MAGIC as T8R_MAGIC

Edit = Callable[[Container, bytes, random.Random], tuple[int, bytes] | None]


# -- re-sealing ---------------------------------------------------------------------------------------

def _frame_header(header: Container, compressed) -> bytes:
    """`header` with both CRCs of `compressed` recomputed (the lengths stay as they are)."""
    fixed = Container(compressed_len=header.compressed_len, raw_len=header.raw_len,
                      payload_crc32=zlib.crc32(compressed), header_crc32=0)
    fixed.header_crc32 = header_crc(fixed)
    return build(t8r_frame_header, fixed, "frame")


def _reseal_t8r(data: bytes) -> bytes:
    out = bytearray(data)
    pos = FILE_HEADER_SIZE
    while pos + FRAME_HEADER_SIZE <= len(out):
        header = parse(t8r_frame_header, out, pos, "frame")
        end = pos + FRAME_HEADER_SIZE + header.compressed_len
        if end > len(out):
            break
        out[pos:pos + FRAME_HEADER_SIZE] = _frame_header(header, out[pos + FRAME_HEADER_SIZE:end])
        pos = end
    return bytes(out)


def _pairs(buf: bytearray) -> np.ndarray:
    """Writable record view of the complete pairs (dtype from `native_pair`, as the store reads them)."""
    return np.frombuffer(buf, dtype=struct_dtype(native_pair), count=len(buf) // PAIR_SIZE)


def _chunk(pairs: np.ndarray, k: int) -> bytes:
    raw8 = pairs[k]["raw8"]
    return raw8["payload"][:min(int(raw8["payload_len"]), CHUNK_SIZE)].tobytes()


def _st8_records(pairs: np.ndarray) -> list[tuple[int, int, Container]]:
    """(first pair, pairs, frame header) of each ST8 record whose extent is sound."""
    out, k = [], 0
    while k < len(pairs):
        first = _chunk(pairs, k)
        if first[:len(ST8_MAGIC)] == ST8_MAGIC and len(first) >= ENVELOPE_HEAD:
            header = parse(t8r_frame_header, first, FRAME_AT, "frame")
            need = -(-(ENVELOPE_HEAD + header.compressed_len) // CHUNK_SIZE)
            if 0 < header.compressed_len <= MAX_FRAME_LEN and k + need <= len(pairs):
                out.append((k, need, header))
                k += need
                continue
        k += 1
    return out


def _compressed(pairs: np.ndarray, k: int, need: int, header: Container) -> bytes:
    return b"".join(_chunk(pairs, k + j) for j in range(need))[ENVELOPE_HEAD:ENVELOPE_HEAD + header.compressed_len]


def _reseal_native(data: bytes) -> bytes:
    buf = bytearray(data)
    pairs = _pairs(buf)
    for k, need, header in _st8_records(pairs):    # the frame CRCs inside each record's first chunk
        fixed = _frame_header(header, _compressed(pairs, k, need, header))
        pairs[k]["raw8"]["payload"][FRAME_AT:ENVELOPE_HEAD] = np.frombuffer(fixed, np.uint8)
    for k in range(len(pairs)):                    # then every block's seal
        for name, lane in (("mem8", 0), ("raw8", BLOCK_SIZE)):
            start = k * PAIR_SIZE + lane
            pairs[k][name]["crc32"] = seal_crc(buf[start:start + BLOCK_SIZE], CRC_AT)
    return bytes(buf)


def _reseal_m8mem(data: bytes) -> bytes:
    """The checksum byte after the memories; where they cannot be parsed, the last byte."""
    try:
        at = len(M8MemDocument.parse(data, Detection("m8mem")).body())
    except FormatError:
        at = len(data) - 1
    if not 0 <= at < len(data):
        return data
    return data[:at] + bytes([xor_checksum(data, at)]) + data[at + 1:]


def reseal(data: bytes) -> bytes:
    """`data` with every checksum the MEM8 layouts carry recomputed."""
    if data[:len(T8R_MAGIC)] == T8R_MAGIC:
        return _reseal_t8r(data)
    if data[:len(M8MEM_MAGIC)] == M8MEM_MAGIC:
        return _reseal_m8mem(data)
    if len(data) >= PAIR_SIZE:
        return _reseal_native(data)
    return data


# -- record layers ------------------------------------------------------------------------------------

def _t8r_frames(data: bytes) -> list[tuple[int, int, Container]]:
    out, pos = [], FILE_HEADER_SIZE
    while pos + FRAME_HEADER_SIZE <= len(data):
        header = parse(t8r_frame_header, data, pos, "frame")
        end = pos + FRAME_HEADER_SIZE + header.compressed_len
        if not 0 < header.compressed_len <= MAX_FRAME_LEN or end > len(data):
            break
        out.append((pos, end, header))
        pos = end
    return out


def _edit_record(data: bytes, rnd: random.Random, edit: Edit) -> bytes | None:
    """Replace one record by `edit(header, compressed)` -> (raw_len, compressed), re-framed and
    re-sealed as the writers frame it."""
    def framed(header: Container, got: tuple[int, bytes]) -> bytes:
        raw_len, compressed = got
        new = Container(header, compressed_len=len(compressed), raw_len=raw_len)
        return _frame_header(new, compressed) + compressed

    if data[:len(T8R_MAGIC)] == T8R_MAGIC:
        frames = _t8r_frames(data)
        if not frames:
            return None
        start, end, header = rnd.choice(frames)
        got = edit(header, data[start + FRAME_HEADER_SIZE:end], rnd)
        return None if got is None else data[:start] + framed(header, got) + data[end:]
    buf = bytearray(data)
    pairs = _pairs(buf)
    records = _st8_records(pairs)
    if not records:
        return None
    k, need, header = rnd.choice(records)
    got = edit(header, _compressed(pairs, k, need, header), rnd)
    if got is None:
        return None
    mem8 = pairs[k]["mem8"]
    envelope = ST8_MAGIC + bytes([ST8_VERSION]) + framed(header, got)
    out = payload_pairs(int(mem8["location"]), envelope, wave_fields(mem8), bool(int(mem8["flags"]) & FLAG_TOMBSTONED))
    return data[:k * PAIR_SIZE] + out + data[(k + need) * PAIR_SIZE:]


def _tokens(header: Container, compressed: bytes) -> bytes | None:
    try:
        return zlib_frame.inflate(compressed, header.raw_len)
    except CodecError:
        return None


def _zlib_layer(header, compressed, rnd):
    """The deflate stream itself changed: reaches `zlib_frame.inflate_chunks`."""
    return header.raw_len, change_bytes(compressed, rnd)


def _token_layer(header, compressed, rnd):
    """The token stream changed and deflated again: reaches the LZW decoder."""
    tokens = _tokens(header, compressed)
    return None if tokens is None else (header.raw_len, zlib_frame.deflate(change_bytes(tokens, rnd)))


def _record_layer(header, compressed, rnd):
    """The bincode record changed, tokenised and deflated again: reaches the bincode decoder."""
    tokens = _tokens(header, compressed)
    if tokens is None:
        return None
    try:
        raw = token_lzw.decode(tokens, header.raw_len)
    except CodecError:
        return None
    raw = change_bytes(raw, rnd) or b"\x00"
    return len(raw), zlib_frame.deflate(token_lzw.encode(raw))


def _raw_len(header, compressed, rnd):
    """raw_len changed (header CRC fixed): the decoders' length checks and output bounds."""
    return rnd.choice((1, header.raw_len - 1, header.raw_len + 1, rnd.randint(1, MAX_FRAME_LEN))) or 1, compressed


MUTATORS: dict[str, Callable[[bytes, random.Random], bytes | None]] = {
    "zlib": lambda data, rnd: _edit_record(data, rnd, _zlib_layer),
    "tokens": lambda data, rnd: _edit_record(data, rnd, _token_layer),
    "bincode": lambda data, rnd: _edit_record(data, rnd, _record_layer),
    "raw_len": lambda data, rnd: _edit_record(data, rnd, _raw_len),
}
