"""Hypothesis strategies for RVF (the convention of the project's property tests):
`valid_files(dialect)` = whole stores with consistent hashes, directories and witness chains;
`broken_files()` = (bytes, finding code `validate` must report)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...parsing import build, locate, parse
from ...registry import Detection
from . import hashes
from .document import RvfDocument
from .layouts import RUNTIME, SPEC
from .mutators import MUTATORS, reseal  # noqa: F401 - the fuzzing hooks (memschema.strategies.mutate)
from .runtime_payloads import manifest_payload, witness_payload
from .segment import SEG_TYPES, segment_header
from .spec_build import spec_segment_bytes
from .writer import StoreWriter

_ids = st.integers(min_value=0, max_value=40)
_op = st.one_of(
    st.tuples(st.just("ingest"), st.lists(_ids, min_size=1, max_size=6)),
    st.tuples(st.just("delete"), st.lists(_ids, min_size=1, max_size=3)),
    st.tuples(st.just("reopen"), st.just([])),
)


def store_from_ops(dimension: int, metric: str, ops, seed: int = 0) -> bytes:
    """Run runtime operations through the writer (reopen = a new writer session on the bytes)."""
    rng = np.random.default_rng(seed)
    writer = StoreWriter(dimension=dimension, metric=metric)
    data = writer.create()
    for kind, ids in ops:
        if kind == "ingest":
            vectors = rng.standard_normal((len(ids), dimension)).astype(np.float32)
            data += writer.ingest(ids, vectors)
        elif kind == "delete":
            data += writer.delete(ids)
        else:
            writer = StoreWriter.resume(RvfDocument(Detection("rvf", RUNTIME), data))
    return data


@st.composite
def _runtime_files(draw, min_ingests: int = 0) -> bytes:
    dimension = draw(st.integers(min_value=1, max_value=6))
    metric = draw(st.sampled_from(["l2", "inner_product", "cosine"]))
    ops = draw(st.lists(_op, max_size=6))
    if sum(1 for k, _ in ops if k == "ingest") < min_ingests:
        ops = [("ingest", draw(st.lists(_ids, min_size=1, max_size=4)))] + ops
    return store_from_ops(dimension, metric, ops, draw(st.integers(0, 2**16)))


@st.composite
def _spec_files(draw) -> bytes:
    n = draw(st.integers(min_value=1, max_value=4))
    out = b""
    for i in range(n):
        payload = draw(st.binary(max_size=150))
        seg_type = draw(st.sampled_from([SEG_TYPES["meta"], SEG_TYPES["index"], SEG_TYPES["quant"], 0x40]))
        algo = 1 if i == 0 else draw(st.sampled_from([0, 1, 2, 3]))   # first one marks the dialect
        out += spec_segment_bytes(seg_type, i + 1, payload, algo, draw(st.sampled_from([0, 0x0008, 0x0100])))
    return out


def valid_files(dialect: str | None = None) -> st.SearchStrategy[bytes]:
    """VALID whole RVF files of `dialect` ("runtime", "spec"; None = either)."""
    if dialect == RUNTIME:
        return _runtime_files()
    if dialect == SPEC:
        return _spec_files()
    if dialect is None:
        return st.one_of(_runtime_files(), _spec_files())
    raise ValueError(f"no strategy for dialect {dialect!r}")


# --- broken files ---------------------------------------------------------------------------

def _segments(data: bytes):
    return RvfDocument(Detection("rvf", RUNTIME), data).segments


def _rehash(data: bytearray, seg) -> None:
    """Recompute one runtime segment's content_hash after its payload was edited."""
    at = seg.offset + locate(segment_header, seg.header, "content_hash")
    payload = bytes(data[seg.payload_offset:seg.payload_offset + seg.payload_length])
    data[at:at + 16] = hashes.crc32_rotated(payload)


def _flip_vec_payload(data: bytes, draw) -> tuple[bytes, str]:
    seg = draw(st.sampled_from([s for s in _segments(data) if s.type_name == "vec"]))
    i = seg.payload_offset + draw(st.integers(0, seg.payload_length - 1))
    out = bytearray(data)
    out[i] ^= draw(st.integers(1, 255))
    return bytes(out), "rvf.hash_mismatch"


def _payload_past_eof(data: bytes, draw) -> tuple[bytes, str]:
    segs = _segments(data)
    seg = draw(st.sampled_from(segs[:-1]))
    at = seg.offset + locate(segment_header, seg.header, "payload_length")
    out = bytearray(data)
    out[at:at + 8] = (len(data) + draw(st.integers(1, 1 << 20))).to_bytes(8, "little")
    return bytes(out), "rvf.payload_past_eof"


def _bad_dir_entry(data: bytes, draw) -> tuple[bytes, str]:
    seg = [s for s in _segments(data) if s.type_name == "manifest"][-1]
    m = parse(manifest_payload, data, seg.payload_offset, "", seg.payload_length)
    i = draw(st.integers(0, m.seg_count - 1))
    field = draw(st.sampled_from(["offset", "seg_id", "payload_length"]))
    m.segment_dir[i][field] += draw(st.integers(1, 1000))
    payload = build(manifest_payload, m)
    out = bytearray(data)
    out[seg.payload_offset:seg.payload_offset + seg.payload_length] = payload
    _rehash(out, seg)
    return bytes(out), "rvf.dir_entry_mismatch"


def _broken_witness(data: bytes, draw) -> tuple[bytes, str]:
    seg = draw(st.sampled_from([s for s in _segments(data) if s.type_name == "witness"]))
    w = parse(witness_payload, data, seg.payload_offset, "", seg.payload_length)
    at = seg.payload_offset + locate(witness_payload, w, "prev_hash")
    out = bytearray(data)
    out[at:at + 32] = draw(st.binary(min_size=32, max_size=32).filter(lambda b: any(b)))
    _rehash(out, seg)
    return bytes(out), "rvf.witness_broken"


def _torn_tail(data: bytes, draw) -> tuple[bytes, str]:
    last = _segments(data)[-1]
    cut = draw(st.integers(last.offset + 1, len(data) - 1))
    return data[:cut], "rvf.torn_tail"


def _bad_magic(data: bytes, draw) -> tuple[bytes, str]:
    seg = draw(st.sampled_from(_segments(data)[1:]))
    out = bytearray(data)
    out[seg.offset + draw(st.integers(0, 3))] ^= draw(st.integers(1, 255))
    return bytes(out), "rvf.bad_magic"


def _unknown_flags(data: bytes, draw) -> tuple[bytes, str]:
    seg = draw(st.sampled_from(_segments(data)))
    at = seg.offset + locate(segment_header, seg.header, "flags")
    out = bytearray(data)
    out[at + 1] |= draw(st.integers(1, 15)) << 4
    return bytes(out), "rvf.unknown_flags"


_MUTATIONS = [_flip_vec_payload, _payload_past_eof, _bad_dir_entry, _broken_witness, _torn_tail, _bad_magic,
              _unknown_flags]


@st.composite
def broken_files(draw) -> tuple[bytes, str]:
    """A runtime store broken in one way, and the finding code `validate` must report for it."""
    data = draw(_runtime_files(min_ingests=1))
    mutate = draw(st.sampled_from(_MUTATIONS))
    return mutate(data, draw)
