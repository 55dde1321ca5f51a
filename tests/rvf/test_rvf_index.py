"""INDEX_SEG (RVF-INDEX-META.md Part A): real rvf-node 0.2.3 stores with an HNSW index decode into
the graph the runtime built and searches the way the runtime does; every A.9 check fires on bytes
built from the reference, with its code, path and absolute offset."""

from __future__ import annotations

import math

import numpy as np
import pytest

import memschema
from memschema.formats.rvf.index_build import append_index, encode_index_payload
from memschema.formats.rvf.index_seg import index_payload, index_trailer_end
from memschema.formats.rvf.writer import StoreWriter, segment_bytes
from memschema.parsing import parse

N, DIM, FIRST_ID = 1500, 8, 100
RECALL_AT_10_MIN = 0.95


def level_rng(vector_id: int) -> float:
    """index_path.rs `level_rng`: SplitMix64 of the id mixed to (0, 1) (the runtime's level draw)."""
    mask = (1 << 64) - 1
    z = (vector_id + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z ^= z >> 31
    return min(max((z >> 11) / float(1 << 53), 1e-12), 1.0 - 1e-12)


def runtime_level(vector_id: int, m: int = 16) -> int:
    return math.floor(-math.log(level_rng(vector_id)) / math.log(m))


def vectors(n=N, dim=DIM, seed=7):
    return np.random.default_rng(seed).random((n, dim), dtype=np.float32)


# --- real files ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def indexed(rvf_node, tmp_path_factory):
    """1500 vectors, one query, close (the runtime persists its index), reopened read-only and
    queried: what rvf-node reports from the loaded graph."""
    path = tmp_path_factory.mktemp("index") / "indexed.rvf"
    ids = list(range(FIRST_ID, FIRST_ID + N))
    data = vectors()
    queries = np.random.default_rng(11).random((50, DIM), dtype=np.float32)
    out = rvf_node([{"op": "create", "path": str(path), "dim": DIM},
                    {"op": "ingest", "ids": ids, "vectors": data.tolist()},
                    {"op": "query", "vectors": [data[0].tolist()], "k": 5}, {"op": "close"},
                    {"op": "openReadonly", "path": str(path)},
                    {"op": "query", "vectors": queries.tolist(), "k": 10}])
    return path, data, queries, out[4]["result"], out[5]["result"]


@pytest.mark.interop
def test_runtime_index_decodes_into_the_graph_it_built(indexed):
    path, data, _, report, _ = indexed
    doc = memschema.load(path)
    assert [s.type_name for s in doc.segments] == ["manifest", "vec", "witness", "manifest", "index", "manifest"]
    assert [s["segType"] for s in report["segments"]][-1] == "index"
    idx = doc.index
    assert idx is not None and idx.usable and idx.findings == []
    assert idx.ids.tolist() == list(range(FIRST_ID, FIRST_ID + N))
    assert (idx.header.m, idx.header.ef_construction, idx.trailer.m0) == (16, 200, 32)
    # levels are the runtime's deterministic draw per id; the entry point is the first id on the top layer
    levels = [runtime_level(i) for i in idx.ids.tolist()]
    assert (idx.layer_counts - 1).tolist() == levels
    assert idx.max_layer == max(levels) and idx.entry_point == FIRST_ID + levels.index(max(levels))
    for layer, members in enumerate(idx.layers):
        assert members.members.tolist() == [o for o, lv in enumerate(levels) if lv >= layer]
        degree = np.diff(members.indptr)
        assert degree.max() <= (idx.m0 if layer == 0 else idx.m) and degree.min() >= 1
    # the bulk decoder gives the lists of the construct declaration
    seg = next(s for s in doc.segments if s.type_name == "index")
    forward = parse(index_payload, doc.data, seg.payload_offset, "index", seg.payload_length)
    for o in (0, 1, 63, 64, 65, N - 1):
        for layer, lst in enumerate(forward.nodes[o].layers):
            values = list(lst.neighbors) if o % 64 == 0 else np.cumsum(lst.neighbors).tolist()
            assert idx.neighbors(int(idx.ids[o]), layer).tolist() == [int(idx.ids[v]) for v in values]
    assert memschema.validate(path).findings == []
    assert memschema.dump(doc) == path.read_bytes()
    # encoding the decoded graph gives the runtime's payload byte for byte
    adjacency = [[idx.layers[lv].row(o).tolist() for lv in range(int(idx.layer_counts[o]))] for o in range(N)]
    again = encode_index_payload(idx.ids.tolist(), adjacency, m=idx.header.m, m0=idx.trailer.m0,
                                 ef_construction=idx.header.ef_construction, max_layer=idx.trailer.max_layer,
                                 entry_ordinal=idx.trailer.entry_ordinal)
    assert again == bytes(doc.payload(seg))


@pytest.mark.interop
def test_approximate_search_returns_what_the_runtime_returns(indexed):
    path, _, queries, _, theirs = indexed
    doc = memschema.load(path)
    for q, hits in zip(queries, theirs):
        ours = doc.search(q, 10, exact=False)
        assert [i for i, _ in ours] == [h["id"] for h in hits]
        np.testing.assert_allclose([d for _, d in ours], [h["distance"] for h in hits], rtol=1e-5, atol=1e-6)


@pytest.mark.interop
def test_recall_at_10_of_the_graph_search(indexed):
    path, data, _, _, _ = indexed
    doc = memschema.load(path)
    queries = np.random.default_rng(3).random((200, DIM), dtype=np.float32)
    found = sum(len({i for i, _ in doc.search(q, 10, exact=False)} & {i for i, _ in doc.search(q, 10)})
                for q in queries)
    recall = found / (10 * len(queries))
    assert recall >= RECALL_AT_10_MIN, recall


@pytest.mark.interop
def test_reindexed_store_supersedes_the_first_index(rvf_node, indexed, tmp_path):
    path = tmp_path / "again.rvf"
    path.write_bytes(indexed[0].read_bytes())
    extra = np.random.default_rng(5).random((10, DIM), dtype=np.float32)
    rvf_node([{"op": "open", "path": str(path)},
              {"op": "ingest", "ids": list(range(5000, 5010)), "vectors": extra.tolist()},
              {"op": "query", "vectors": [extra[0].tolist()], "k": 3}, {"op": "close"}])
    doc = memschema.load(path)
    kinds = [s.type_name for s in doc.segments]
    assert kinds.count("index") == 2
    assert doc.index.offset == max(s.offset for s in doc.segments if s.type_name == "index")
    assert len(doc.index.ids) == N + 10
    first = min(s.offset for s in doc.segments if s.type_name == "index")
    found = [(f.severity, f.code, f.offset) for f in memschema.validate(path).findings]
    assert ("warning", "rvf.index_superseded", first) in found
    assert [f for f in found if f[0] == "error"] == []


# --- files built from the reference ------------------------------------------------------------------

def _ring(n: int) -> list[list[list[int]]]:
    """Every node linked to its two ring neighbours; node 0 also in layer 1 with node 64."""
    adj = [[sorted({(i - 1) % n, (i + 1) % n})] for i in range(n)]
    adj[0].append([64])
    adj[64].append([0])
    return adj


def _store(payload_of=None, ids=None, n=70):
    """A runtime store with n vectors (ids 10..) and one INDEX built from `payload_of(ids, adj)`."""
    ids = list(range(10, 10 + n)) if ids is None else ids
    writer = StoreWriter(dimension=2)
    data = writer.create() + writer.ingest(list(range(10, 10 + n)), vectors(n, 2))
    payload = (payload_of or (lambda i, a: encode_index_payload(i, a, entry_ordinal=0)))(ids, _ring(len(ids)))
    return data + append_index(writer, payload)


def _patched(data: bytes, rel: int, raw: bytes) -> bytes:
    """Overwrite bytes of the INDEX payload at `rel` and re-hash the segment (only the index is off)."""
    doc = memschema.load(data)
    seg = next(s for s in doc.segments if s.type_name == "index")
    payload = bytearray(doc.payload(seg))
    payload[rel:rel + len(raw)] = raw
    fixed = segment_bytes(int(seg.header.seg_type), seg.header.segment_id, bytes(payload))
    return data[:seg.offset] + fixed + data[seg.end:]


def _codes(data: bytes) -> list[tuple[str, str, int | None]]:
    return [(f.severity.value, f.code, f.offset) for f in memschema.validate(data).findings]


def test_built_index_is_loaded_and_searchable():
    data = _store()
    doc = memschema.load(data)
    assert doc.index is not None and doc.index.entry_point == 10
    assert doc.index.neighbors(10).tolist() == [11, 79] and doc.index.neighbors(10, 1).tolist() == [74]
    assert doc.index.level(74) == 1 and doc.index.level(11) == 0
    assert _codes(data) == []
    q = doc.matrix[5]
    assert doc.search(q, 1, exact=False)[0] == (int(doc.ids[5]), 0.0)


def _index_base(data: bytes) -> tuple[int, int]:
    doc = memschema.load(data)
    seg = next(s for s in doc.segments if s.type_name == "index")
    return seg.payload_offset, seg.payload_length


def test_trailer_problems_are_warnings_and_the_index_is_ignored():
    data = _store()
    base, size = _index_base(data)
    bad_magic = _patched(data, size - 4, b"XXXX")
    assert _codes(bad_magic) == [("warning", "rvf.index_trailer", base + size - 4)]
    assert memschema.load(bad_magic).index is None
    bad_len = _patched(data, size - 8, (size).to_bytes(4, "little"))
    assert _codes(bad_len) == [("warning", "rvf.index_trailer", base + size - 8)]
    end = parse(index_trailer_end, data, base + size - 8)
    body_at = base + size - 8 - end.body_len
    assert _codes(_patched(data, body_at - base, (2).to_bytes(2, "little"))) == \
        [("warning", "rvf.index_trailer_version", body_at)]


def test_codec_problems():
    data = _store()
    base, size = _index_base(data)
    # node_count (payload offset 8) no longer equals the trailer's id_count
    assert _codes(_patched(data, 8, (71).to_bytes(8, "little"))) == [("warning", "rvf.index_node_count", base + 8)]
    assert _codes(_patched(data, 0, b"\x01")) == [("warning", "rvf.index_type", base)]
    assert _codes(_patched(data, 20, b"\x01")) == [("warning", "rvf.nonzero_padding", base + 20)]
    # restart_offsets[1] (payload offset 64 + 8 + 4)
    assert _codes(_patched(data, 76, (3).to_bytes(4, "little"))) == \
        [("warning", "rvf.index_restart_offsets", base + 76)]
    assert _codes(_patched(data, 68, (5).to_bytes(4, "little"))) == [("warning", "rvf.index_restart_count", base + 68)]
    # a restart count that reaches past the codec part: the codec does not decode
    assert [c for _, c, _ in _codes(_patched(data, 68, (10**6).to_bytes(4, "little")))] == ["rvf.index_codec"]


def test_neighbour_and_entry_ranges_and_order():
    def ranged(ids, adj):
        adj[3][0] = [2, 99]
        return encode_index_payload(ids, adj, entry_ordinal=0)
    found = _codes(_store(ranged))
    assert [c for _, c, _ in found] == ["rvf.index_neighbor_range"]
    assert memschema.load(_store(ranged)).index is None
    found = _codes(_store(lambda i, a: encode_index_payload(i, a, entry_ordinal=70)))
    assert [c for _, c, _ in found] == ["rvf.index_entry_range"]

    def unsorted(ids, adj):
        payload = bytearray(encode_index_payload(ids, adj, entry_ordinal=0))
        # node 0 (a restart node, 2 layers) stores 02 02 01 45 ...: swap its two absolute ordinals
        at = bytes(payload).index(bytes([2, 2, 1, 69]), 64)
        payload[at + 2:at + 4] = bytes([69, 1])
        return bytes(payload)
    assert [c for _, c, _ in _codes(_store(unsorted))] == ["rvf.index_unsorted"]


def test_stale_superseded_multiple_and_incomplete():
    stale = _store(ids=list(range(11, 81)))        # id 80 is not a vector of the store
    assert [(s, c) for s, c, _ in _codes(stale)] == [("warning", "rvf.index_stale")]
    assert memschema.load(stale).index is None
    writer = StoreWriter(dimension=2)
    data = writer.create() + writer.ingest(list(range(10, 80)), vectors(70, 2))
    first = encode_index_payload(list(range(10, 80)), _ring(70), entry_ordinal=0)
    data += append_index(writer, first)
    data += writer.ingest([500], vectors(1, 2))
    found = _codes(data)
    assert [(s, c) for s, c, _ in found] == [("info", "rvf.index_incomplete")]
    data += append_index(writer, first)
    found = _codes(data)
    assert ("warning", "rvf.index_superseded") in [(s, c) for s, c, _ in found]
    writer.directory.append(next(e for e in writer.directory if int(e.seg_type) == 2).copy())
    data += writer.manifest()
    assert "rvf.index_multiple" in [c for _, c, _ in _codes(data)]


def test_index_payload_is_a_registered_declaration(tmp_path):
    data = _store()
    base, size = _index_base(data)
    path = tmp_path / "payload.bin"
    path.write_bytes(data[base:base + size])
    out = memschema.parse_as("rvf.index_payload", path)
    assert out["index_payload"]["header"]["node_count"] == 70
    assert out["index_payload"]["trailer"]["id_deltas"] == [10] + [1] * 69
    assert out["index_payload"]["trailer_end"]["magic"] == b"RVIX".hex()


def test_bulk_varints_equal_the_declaration_and_reject_what_it_rejects():
    from memschema.errors import FormatError
    from memschema.formats.rvf.varint import U64VarInt, decode_varints
    from memschema.parsing import build
    values = [0, 1, 127, 128, 300, 16383, 16384, 2**35 + 7, 2**63, 2**64 - 1]
    raw = b"".join(build(U64VarInt, v) for v in values)
    runs = decode_varints(raw)
    assert runs.values.tolist() == values and runs.complete_end == len(raw)
    assert runs.first_overlong(len(values)) is None
    assert [parse(U64VarInt, build(U64VarInt, v)) for v in values] == values
    for bad in (b"\xff\x00", b"\x80" * 10 + b"\x01", b"\xff" * 9 + b"\x02"):     # long form, 11 bytes, > u64
        with pytest.raises(FormatError):
            parse(U64VarInt, bad)
        assert decode_varints(bad).first_overlong(1) == 0
    assert decode_varints(b"\x05\x80").complete_end == 1        # a cut-off varint is not decoded
