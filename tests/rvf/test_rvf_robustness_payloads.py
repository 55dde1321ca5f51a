"""Bad bytes in the payloads issue 11 decodes (INDEX, META v1, spec VEC and MANIFEST, wasm_export,
COW_MAP): byte flips and truncations give findings or a FormatError, never another exception, and
the searches stay bounded."""

from __future__ import annotations

import numpy as np
import pytest
from test_rvf_robustness import _exercise as check_damaged

import memschema
from memschema.errors import FormatError
from memschema.formats.rvf.index_build import append_index, encode_index_payload
from memschema.formats.rvf.meta_seg import meta_payload_bytes
from memschema.formats.rvf.spec_build import spec_store
from memschema.formats.rvf.wasm_export import export_bytes
from memschema.formats.rvf.writer import StoreWriter


def _index_store() -> bytes:
    writer = StoreWriter(dimension=2)
    ids = list(range(1, 131))
    data = writer.create() + writer.ingest(ids, np.random.default_rng(0).random((130, 2)))
    adjacency = [[sorted({(i - 1) % 130, (i + 1) % 130, (i + 7) % 130})] for i in range(130)]
    adjacency[5].append([70])
    adjacency[70].append([5])
    return data + append_index(writer, encode_index_payload(ids, adjacency, entry_ordinal=5))


def _stores():
    rng = np.random.default_rng(1)
    ids = list(range(10, 210))
    yield "index", _index_store()
    yield "spec", spec_store([[(ids[:150], rng.random((150, 3), dtype=np.float32), 0),
                               (ids[150:], rng.random((50, 3), dtype=np.float32), 1)]], 3)
    yield "wasm", export_bytes(ids[:20], rng.random((20, 3)), 3)
    writer = StoreWriter(dimension=2)
    data = writer.create() + writer.ingest([1], [[0.5, 1.5]])
    from test_rvf_meta import body
    data += writer._segment("meta", meta_payload_bytes(body()))
    yield "meta", data + writer.manifest()


def _exercise(data: bytes, label: str) -> None:
    """The corpus robustness contract, then a graph search where there are vectors."""
    check_damaged(data, label)
    try:
        doc = memschema.load(data, format="rvf")
    except FormatError:
        return
    if len(doc.ids):
        doc.search(doc.matrix[0], 3, exact=False)


@pytest.mark.parametrize("name, data", list(_stores()), ids=[n for n, _ in _stores()])
def test_flips_and_truncations(name, data):
    rng = np.random.default_rng(7)
    for i in rng.choice(len(data), size=min(len(data), 80), replace=False):
        for value in (0xFF, int(rng.integers(0, 255))):
            mutated = bytearray(data)
            mutated[i] = value
            _exercise(bytes(mutated), f"{name}: byte {i} = 0x{value:02x}")
    for cut in range(0, len(data), max(1, len(data) // 40)):
        _exercise(data[:cut], f"{name}[:{cut}]")
