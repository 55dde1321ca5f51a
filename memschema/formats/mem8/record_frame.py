"""One journal record in its T8R frame (MEM8.md 2.6): the 16-byte `t8r_frame_header` then
`compressed_len` bytes of zlib(token codec(bincode Record{key, value})).  Shared by the ST8
envelope of native journals and by bare T8R journals."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from construct import Container

from ...budget import BudgetExceeded, Keys, Meter
from ...dtypes import struct_dtype
from ...parsing import build, field_offset, parse
from .codecs import CodecError, bincode, token_lzw, zlib_frame
from .codecs.crc_seal import crc_rows
from .native import t8r_frame_header

try:
    from .codecs import _frames
except ImportError:   # built without a compiler or zlib's header: every frame goes through Python
    _frames = None

MAX_FRAME_LEN = 64 << 20
FRAME_HEADER_SIZE = t8r_frame_header.sizeof()
_CRC_COVERS = field_offset(t8r_frame_header, "header_crc32")   # the bytes before header_crc32
FRAME_HEADERS = struct_dtype(t8r_frame_header)
_SCAN = 1 << 20        # candidate offsets examined per numpy pass
LENGTH_FIELDS = ("compressed_len", "raw_len")
_WORKERS = min(4, os.cpu_count() or 1)
_PER_WORKER = 128 << 10     # compressed bytes below which a batch is not split between threads
_pool: tuple[int, ThreadPoolExecutor] | None = None   # (the process it belongs to, the pool)


def header_crc(header) -> int:
    """CRC-32 of the header bytes that precede `header_crc32`."""
    return zlib.crc32(build(t8r_frame_header, header, "frame")[:_CRC_COVERS])


def frame_fields(key: str, value: bytes, compress: Callable[[bytes], bytes] = zlib_frame.deflate
                 ) -> tuple[Container, bytes]:
    """(frame header, compressed bytes) of `Record {key, value}` (value = bincode of the stored value)."""
    raw = bincode.encode_record(key, value)
    compressed = compress(token_lzw.encode(raw))
    header = Container(compressed_len=len(compressed), raw_len=len(raw),
                       payload_crc32=zlib.crc32(compressed), header_crc32=0)
    header.header_crc32 = header_crc(header)
    return header, compressed


def encode_frame(key: str, value: bytes, compress: Callable[[bytes], bytes] = zlib_frame.deflate) -> bytes:
    """Frame header + compressed bytes of `Record {key, value}`."""
    header, compressed = frame_fields(key, value, compress)
    return build(t8r_frame_header, header, "frame") + compressed


def header_problems(header, stored: bytes | None = None) -> list[tuple[str, str, str]]:
    """(code suffix, message, field) for a frame header whose extent cannot be trusted.  `stored`:
    the header's bytes as they are in the file (saves building them again)."""
    out = []
    raw = build(t8r_frame_header, header, "frame") if stored is None else stored
    if zlib.crc32(raw[:_CRC_COVERS]) != header["header_crc32"]:
        out.append(("header_crc_mismatch", "frame header CRC does not match its first 12 bytes", "header_crc32"))
    for name in LENGTH_FIELDS:
        if not 1 <= header[name] <= MAX_FRAME_LEN:
            out.append(("frame_length", f"{name} {header[name]} is not in 1 .. {MAX_FRAME_LEN}", name))
    return out


def trusted(heads: np.ndarray) -> np.ndarray:
    """`header_problems` over a table of frame headers (`heads`, dtype `FRAME_HEADERS`): True where
    it reports nothing.  Lengths and header CRCs are checked for all frames at once."""
    ok = np.ones(len(heads), bool)
    for name in LENGTH_FIELDS:
        ok &= (heads[name] >= 1) & (heads[name] <= MAX_FRAME_LEN)
    rows = np.ascontiguousarray(heads)
    starts = np.arange(len(rows), dtype=np.int64) * rows.dtype.itemsize
    return ok & (crc_rows(rows.view(np.uint8), starts, _CRC_COVERS) == heads["header_crc32"])


def first_untrusted(heads: np.ndarray) -> int | None:
    """The index of the first frame of `heads` whose header cannot be trusted, or None."""
    ok = trusted(heads)
    return None if ok.all() else int(np.argmin(ok))


def decode_compressed(header, compressed, meter: Meter | None = None, path: str = "",
                      offset: int | None = None) -> tuple[str, bytes]:
    """(key, value) of a frame whose header is sound; `CodecError` names the failing layer.
    `raw_len` is charged to `meter` (the record keyed by `offset`) before anything is inflated;
    the zlib layer is bounded by 3·raw_len, the token layer by raw_len."""
    if zlib.crc32(compressed) != header["payload_crc32"]:
        raise CodecError("payload_crc_mismatch", "CRC-32 of the compressed bytes does not match payload_crc32")
    raw_len = int(header["raw_len"])
    if meter is not None:
        try:
            meter.charge(raw_len, path, offset, key=("frame", offset), what=f"record (raw_len {raw_len})")
        except BudgetExceeded as exc:
            raise CodecError("budget_exceeded", exc.message) from None
    tokens = zlib_frame.inflate(compressed, raw_len)
    try:
        raw = token_lzw.decode(tokens, raw_len)
        return bincode.decode_record(raw)
    except CodecError as exc:
        raise _inflated(exc) from None


def decode_run(data, starts: np.ndarray, heads: np.ndarray, keep: bool, meter: Meter | None = None,
               keys: Keys | list[Hashable] | None = None) -> tuple[list, list | None, list[int]]:
    """`decode_compressed` of a run of frames whose headers are sound (`heads`, dtype
    `FRAME_HEADERS`; frame i's compressed bytes start at `data[starts[i]]`), in C and split between
    threads: (keys, values or None unless `keep`, failed).  `failed` lists the frames it did not
    decode, their key None: those the C path refused, those past the meter's budget, and all of them
    without the extension.  Decode those one by one with `decode_compressed`, which names the layer
    and offset.  The meter ends as `decode_compressed` of each frame in turn leaves it (`keys`: the
    keys it charges them under)."""
    n = len(starts)
    fit = n if meter is None else meter.charge_run(heads["raw_len"], keys)
    if _frames is None or not fit:
        return [None] * n, [None] * n if keep else None, list(range(n))
    columns = (np.ascontiguousarray(starts[:fit], np.int64),
               np.ascontiguousarray(heads["compressed_len"][:fit], np.int64),
               np.ascontiguousarray(heads["raw_len"][:fit], np.uint32),
               np.ascontiguousarray(heads["payload_crc32"][:fit], np.uint32))
    # split by compressed bytes (the work), not by frames: a few large frames are worth threads
    ends = np.cumsum(columns[1])
    total = int(ends[-1])
    parts = max(1, min(_WORKERS, fit, total // _PER_WORKER))
    bounds = sorted({0, fit, *np.searchsorted(ends, [total * k // parts for k in range(1, parts)]).tolist()})
    pieces = [(data, *(c[a:b] for c in columns), keep) for a, b in zip(bounds, bounds[1:])]
    results = [_decode(pieces[0])] if len(pieces) == 1 else list(_threads().map(_decode, pieces))
    out_keys, out_values, failed = [], [] if keep else None, []
    for first, (k, v, f, bad_crc) in zip(bounds, results):
        out_keys += k
        if keep:
            out_values += v
        failed += [first + i for i in f]
        if meter is not None:   # charged as decode_compressed charges: after the payload CRC
            for i in bad_crc:
                meter.refund(int(heads["raw_len"][first + i]), keys[first + i])
    out_keys += [None] * (n - fit)
    if keep:
        out_values += [None] * (n - fit)
    return out_keys, out_values, failed + list(range(fit, n))


def _decode(piece: tuple) -> tuple:
    return _frames.decode(*piece)


def _threads() -> ThreadPoolExecutor:
    """The decoding threads of this process (a child made by fork has none of its parent's)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(_WORKERS, thread_name_prefix="memschema-frames"))
    return _pool[1]


def _inflated(exc: CodecError) -> CodecError:
    """Offsets inside inflated data are not file offsets: say which layer they count in."""
    return CodecError(exc.code, f"{exc.message} (at byte {exc.offset} of the inflated layer)")


def next_frame(buf, start: int) -> int | None:
    """The first offset >= `start` where a complete frame starts whose header CRC, lengths and
    payload CRC all verify: where decoding resumes after damaged bytes.  Every offset is read as
    a frame header (a strided numpy view of the declaration); only those with plausible lengths
    are checked further."""
    for first in range(start, len(buf) - FRAME_HEADER_SIZE + 1, _SCAN):
        n = min(_SCAN, len(buf) - FRAME_HEADER_SIZE + 1 - first)
        heads = np.ndarray((n,), dtype=FRAME_HEADERS, buffer=buf, offset=first, strides=(1,))
        room = len(buf) - FRAME_HEADER_SIZE - first - np.arange(n)
        size, raw = heads["compressed_len"], heads["raw_len"]
        plausible = (size >= 1) & (size <= np.minimum(room, MAX_FRAME_LEN)) & (raw >= 1) & (raw <= MAX_FRAME_LEN)
        for i in np.flatnonzero(plausible).tolist():
            at = first + i
            header = parse(t8r_frame_header, buf, at, "frame")
            body = buf[at + FRAME_HEADER_SIZE:at + FRAME_HEADER_SIZE + header.compressed_len]
            if not header_problems(header) and zlib.crc32(body) == header.payload_crc32:
                return at
    return None
