"""The C batch decoder of record frames (`record_frame.decode_run`, `_frames.c`) against the
one-frame Python decoder (`decode_compressed`): a frame the batch decodes gives the same key and
value, a frame the batch refuses is one Python refuses, whatever layer is damaged (payload CRC,
zlib, token LZW, bincode, UTF-8 key, trailing bytes), split between threads or not, and with a
budget that runs out part-way; and the extension is really built where a compiler and zlib's
header exist."""

from __future__ import annotations

import os
import shutil
import sysconfig
import time
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memschema.budget import Budget
from memschema.formats.mem8 import record_frame
from memschema.formats.mem8.codecs import CodecError, bincode, token_lzw, zlib_frame
from memschema.formats.mem8.record_frame import FRAME_HEADERS, decode_compressed, decode_run

needs_fast_path = pytest.mark.skipif(record_frame._frames is None, reason="the C batch decoder is not built here")


def frame_of(raw: bytes, *, raw_len: int | None = None, tokens: bytes | None = None, compressed: bytes | None = None,
             crc_delta: int = 0) -> tuple[tuple, bytes]:
    """(header row, compressed bytes) around a bincode record `raw`, any layer replaceable."""
    tokens = token_lzw.encode(raw) if tokens is None else tokens
    compressed = zlib_frame.deflate(tokens) if compressed is None else compressed
    row = {"compressed_len": len(compressed), "raw_len": len(raw) if raw_len is None else raw_len,
           "payload_crc32": (zlib.crc32(compressed) + crc_delta) & 0xFFFFFFFF, "header_crc32": 0}
    return tuple(row[name] for name in FRAME_HEADERS.names), compressed


def python_outcome(head, compressed: bytes):
    try:
        return "ok", decode_compressed(head, compressed)
    except CodecError as exc:
        return "error", exc.code


def run(frames: list[tuple[tuple, bytes]], keep: bool = True, meter=None):
    heads = np.array([row for row, _ in frames], FRAME_HEADERS)
    data = b"".join(compressed for _, compressed in frames)
    starts = np.cumsum([0] + [len(c) for _, c in frames[:-1]], dtype=np.int64)
    keys = [("frame", i) for i in range(len(frames))]
    return heads, decode_run(data, starts, heads, keep, meter, keys)


def agree(frames: list[tuple[tuple, bytes]]) -> None:
    heads, (keys, values, failed) = run(frames)
    refused = set(failed)
    for i, (_, compressed) in enumerate(frames):
        python = python_outcome(heads[i], compressed)
        batch = "refused" if i in refused else ("ok", (keys[i], values[i]))
        if python[0] == "ok":
            assert batch == python, f"frame {i} (raw_len {heads[i]['raw_len']}): C {batch} != Python {python}"
        else:
            assert batch == "refused", f"frame {i}: C decoded what Python refuses ({python[1]})"
            assert keys[i] is None and values[i] is None


_keys = st.text(max_size=40)
_values = st.binary(max_size=3000) | st.text(alphabet="ab ", max_size=5000).map(str.encode)


@needs_fast_path
@given(st.lists(st.tuples(_keys, _values), min_size=1, max_size=8))
def test_sound_frames_decode_alike(records):
    agree([frame_of(bincode.encode_record(k, v)) for k, v in records])


@needs_fast_path
@given(_keys, _values, st.sampled_from(["crc", "flip", "cut", "trail", "raw_len", "tokens", "bincode", "utf8",
                                        "record_trail", "empty"]),
       st.integers(0, 1 << 16), st.integers(1, 255))
def test_every_damaged_layer_is_refused_as_python_refuses_it(key, value, layer, where, byte):
    raw = bincode.encode_record(key, value)
    tokens = token_lzw.encode(raw)
    compressed = zlib_frame.deflate(tokens)
    if layer == "crc":
        frame = frame_of(raw, crc_delta=byte)
    elif layer == "flip":      # the CRC follows the damage, so zlib (or what it inflates to) must refuse it
        damaged = bytearray(compressed)
        damaged[where % len(damaged)] ^= byte
        frame = frame_of(raw, compressed=bytes(damaged))
    elif layer == "cut":
        frame = frame_of(raw, compressed=compressed[:where % len(compressed)])
    elif layer == "trail":
        frame = frame_of(raw, compressed=compressed + bytes([byte]))
    elif layer == "raw_len":
        frame = frame_of(raw, raw_len=max(1, len(raw) + (where % 7) - 3))
    elif layer == "tokens":
        damaged = bytearray(tokens)
        damaged[where % len(damaged)] ^= byte
        frame = frame_of(raw, tokens=bytes(damaged))
    elif layer == "bincode":
        damaged = bytearray(raw)
        damaged[where % len(damaged)] ^= byte
        frame = frame_of(bytes(damaged))
    elif layer == "utf8":
        frame = frame_of(bincode.encode_bytes(b"\xff" + key.encode()) + bincode.encode_bytes(value))
    elif layer == "record_trail":
        frame = frame_of(raw + bytes([byte]))
    else:
        frame = frame_of(raw, compressed=b"")
    agree([frame_of(raw), frame, frame_of(raw)])


@needs_fast_path
@given(st.binary(min_size=1, max_size=600), st.integers(1, 2000))
def test_arbitrary_compressed_bytes_decode_alike(blob, raw_len):
    agree([frame_of(b"x", raw_len=raw_len, compressed=blob)])


@needs_fast_path
@settings(max_examples=10)
@given(st.integers(0, 2**32 - 1))
def test_a_batch_split_between_threads_gives_what_one_thread_gives(seed):
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(600):
        frames.append(frame_of(bincode.encode_record(f"k{i}", rng.bytes(int(rng.integers(0, 300)))),
                               crc_delta=int(rng.integers(0, 50) == 0)))
    workers, per_worker = record_frame._WORKERS, record_frame._PER_WORKER
    record_frame._WORKERS, record_frame._PER_WORKER = 4, 4096      # pieces of uneven frame counts
    try:
        _, split = run(frames)
        record_frame._WORKERS = 1
        _, alone = run(frames)
    finally:
        record_frame._WORKERS, record_frame._PER_WORKER = workers, per_worker
    assert split == alone
    assert split[2] == [i for i, (row, c) in enumerate(frames) if zlib.crc32(c) != row[FRAME_HEADERS.names.index(
        "payload_crc32")]]


@needs_fast_path
def test_values_are_left_out_unless_kept():
    frames = [frame_of(bincode.encode_record("a", b"\x01\x02")), frame_of(bincode.encode_record("b", b""))]
    _, (keys, values, failed) = run(frames, keep=False)
    assert (keys, values, failed) == (["a", "b"], None, [])


def test_a_budget_that_runs_out_part_way_leaves_the_rest_to_python():
    """The frames past the budget are not decoded (nor charged): `charge` names the first of
    them when Python decodes it.  Without the extension every frame is left to Python."""
    frames = [frame_of(bincode.encode_record(f"k{i}", bytes(100))) for i in range(10)]
    meter = Budget(max_decoded_bytes=5 * 105).meter(0)
    heads, (keys, values, failed) = run(frames, meter=meter)
    fit = 5 if record_frame._frames is not None else 0
    assert failed == list(range(fit, 10)) if fit else failed == list(range(10))
    assert keys[:fit] == [f"k{i}" for i in range(fit)] and keys[fit:] == [None] * (10 - fit)
    assert meter.used == int(heads["raw_len"][:5].sum())
    with pytest.raises(CodecError, match="budget"):
        decode_compressed(heads[5], frames[5][1], meter, "frames[5]", 5)
    # charged frames are not charged again when decoded one by one
    assert decode_compressed(heads[0], frames[0][1], meter, "frames[0]", 0)[0] == "k0"


@given(st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=1, max_size=30), st.integers(0, 6000))
def test_the_budget_ends_as_decoding_frame_by_frame_leaves_it(records, limit):
    """A batch and then its refused frames one by one charge what decoding every frame in turn
    charges (a frame whose payload CRC fails is not charged) and refuse the same frames."""
    frames = [frame_of(bincode.encode_record(f"k{i}", bytes(size)), crc_delta=int(bad))
              for i, (size, bad) in enumerate(records)]
    heads = np.array([row for row, _ in frames], FRAME_HEADERS)

    def each(meter, indices):
        return {i: python_outcome_metered(heads[i], frames[i][1], meter, i) for i in indices}

    alone = Budget(max_decoded_bytes=limit).meter(0)
    expected = each(alone, range(len(frames)))
    batched = Budget(max_decoded_bytes=limit).meter(0)
    _, (keys, values, failed) = run(frames, meter=batched)
    got = {i: ("ok", (keys[i], values[i])) for i in range(len(frames)) if i not in set(failed)}
    got.update(each(batched, failed))
    assert got == expected
    assert batched.used == alone.used


def python_outcome_metered(head, compressed: bytes, meter, i: int):
    try:
        return "ok", decode_compressed(head, compressed, meter, f"frames[{i}]", i)
    except CodecError as exc:
        return "error", exc.code


def test_the_batch_decoder_is_built_where_a_compiler_and_zlib_exist():
    """`pip install .` builds `_frames` when a C compiler and zlib's header are present (it is
    optional only so that installing never fails without them)."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if not shutil.which(compiler) or not os.path.exists("/usr/include/zlib.h"):
        pytest.skip("no C compiler or zlib header here")
    assert record_frame._frames is not None


@needs_fast_path
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_decodes_with_threads_of_its_own():
    """The parent's pool has no threads in a child made by fork; the child makes its own instead
    of waiting forever on the parent's."""
    frames = [frame_of(bincode.encode_record(f"k{i}", bytes(10))) for i in range(1000)]
    workers, per_worker = record_frame._WORKERS, record_frame._PER_WORKER
    record_frame._WORKERS, record_frame._PER_WORKER = 2, 1024
    try:
        assert run(frames)[1][2] == []          # the pool now exists in this process
        pid = os.fork()
        if pid == 0:                             # pragma: no cover - the child reports by exit status
            try:
                os._exit(0 if run(frames)[1][0] == [f"k{i}" for i in range(len(frames))] else 1)
            finally:
                os._exit(2)
        start = time.monotonic()
        while time.monotonic() - start < 60:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                assert os.waitstatus_to_exitcode(status) == 0
                return
            time.sleep(0.05)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung decoding a batch")
    finally:
        record_frame._WORKERS, record_frame._PER_WORKER = workers, per_worker
