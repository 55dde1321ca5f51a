"""Building either layout from a `Model`: every offset, count, flag and index is computed here.

agentic-memory follows `AmemWriter::write_to_file` (AMEM.md 2.8); spec-v1 follows AMEM.md 1.6.
Both return `(bytes, findings)`; findings say what the layout cannot hold (and was dropped).
"""

from __future__ import annotations

import json

import numpy as np
from construct import Container, ListContainer

from ...dtypes import struct_dtype
from ...errors import Finding, FormatError, warning
from ...parsing import build
from . import agentic, spec_v1
from .compression import compress_block, compress_frame
from .model import US_PER_S, Model, pad_vector
from .tokenizer import term_frequencies

U16, U32, U64 = (1 << 16) - 1, (1 << 32) - 1, (1 << 64) - 1
MAX_DOC_LENGTHS = 1 << 26   # tag 6 is dense by id: refuse ids that would make it absurdly large


def _need(ok: bool, message: str, path: str) -> None:
    if not ok:
        raise FormatError(message, path, None, "amem.unrepresentable")


def _records(decl, count: int) -> np.ndarray:
    return np.zeros(count, dtype=struct_dtype(decl))


def _entry(tag: int, body: bytes) -> bytes:
    return build(agentic.index_entry, Container(tag=tag, length=len(body), body=body), f"index[{tag}]")


# --- agentic-memory -------------------------------------------------------------------------------

def agentic_indexes(model: Model, ids: list[int], texts: list[str], term_index: bool = True) -> bytes:
    """Tags 1-4 always, 5 and 6 when there is at least one node (AMEM.md 2.6) and `term_index`."""
    nodes = model.nodes
    by_type: dict[int, list[int]] = {}
    by_session: dict[int, list[int]] = {}
    for nid, n in zip(ids, nodes):
        by_type.setdefault(n.event_type, []).append(nid)
        by_session.setdefault(n.session_id, []).append(nid)
    types = Container(groups=ListContainer(
        Container(event_type=t, n=len(v), node_ids=sorted(v)) for t, v in sorted(by_type.items())))
    temporal = sorted((n.created_at, nid) for nid, n in zip(ids, nodes))
    sessions = ListContainer(Container(session_id=s, k=len(v), node_ids=sorted(v))
                             for s, v in sorted(by_session.items()))
    clusters = ListContainer(Container(centroid=[float(x) for x in pad_vector(c.centroid, model.dimension)],
                                       k=len(c.node_ids), node_ids=list(c.node_ids)) for c in model.clusters)
    out = [
        _entry(agentic.TAG_TYPE, build(agentic.type_index, types, "type_index")),
        _entry(agentic.TAG_TEMPORAL, build(agentic.temporal_index, Container(n=len(temporal), entries=ListContainer(
            Container(created_at=t, node_id=i) for t, i in temporal)), "temporal_index")),
        _entry(agentic.TAG_SESSION, build(agentic.session_index, Container(n=len(sessions), sessions=sessions),
                                          "session_index")),
        _entry(agentic.TAG_CLUSTER, build(agentic.cluster_map, Container(
            cluster_count=len(clusters), dimension=model.dimension, clusters=clusters), "cluster_map")),
    ]
    if nodes and term_index:
        out += term_index_entries(ids, texts)
    return b"".join(out)


def term_index_entries(ids: list[int], texts: list[str]) -> list[bytes]:
    postings: dict[bytes, list[tuple[int, int]]] = {}
    lengths: dict[int, int] = {}
    total = 0
    for nid, text in zip(ids, texts):
        tf, count = term_frequencies(text)
        total += count
        lengths[nid] = count
        for term, n in tf.items():
            postings.setdefault(term.encode("utf-8"), []).append((nid, n))
    avg = float(np.float32(total) / np.float32(len(ids)))
    terms = ListContainer(
        Container(len=len(t), term=t, n=len(p), postings=ListContainer(
            Container(node_id=i, tf=f) for i, f in sorted(p))) for t, p in sorted(postings.items()))
    body5 = build(agentic.term_index, Container(doc_count=len(ids), avg_doc_length=avg, term_count=len(terms),
                                                terms=terms), "term_index")
    count = max(ids) + 1
    _need(count <= MAX_DOC_LENGTHS, f"doc lengths are dense by id: max id {count - 1} would need "
          f"{count} entries", "nodes.id")
    dense = np.zeros(count, "<u4")
    for nid, n in lengths.items():
        dense[nid] = n
    body6 = build(agentic.doc_lengths, Container(count=count, length=dense.tolist()), "doc_lengths")
    return [_entry(agentic.TAG_TERMS, body5), _entry(agentic.TAG_DOC_LENGTHS, body6)]


def write_agentic(model: Model, *, blobs: list[bytes | None] | None = None,
                  index_block: bytes | None = None, term_index: bool = True) -> tuple[bytes, list[Finding]]:
    """The bytes `AmemWriter` writes for `model` (`term_index=False`: as the 0.1 writer, flags 0 and
    no tags 5/6).  `blobs` (per node, None = compress) reuses stored
    LZ4 blobs, so an unchanged content keeps its upstream encoding; `index_block` replaces the
    computed index block (raw bytes kept from a loaded file)."""
    findings: list[Finding] = []
    nodes, dim = model.nodes, model.dimension
    _need(0 <= dim <= U32, f"dimension {dim} does not fit u32", "header.dimension")
    ids = model.node_ids()
    texts = [n.content for n in nodes]
    for i, n in enumerate(nodes):
        p = f"nodes[{i}]"
        _need(0 <= ids[i] <= U64, f"id {ids[i]} does not fit u64", f"{p}.id")
        _need(0 <= n.event_type <= 255, f"event_type {n.event_type} does not fit u8", f"{p}.event_type")
        _need(0 <= n.created_at <= U64, f"created_at {n.created_at} µs does not fit u64 (no pre-1970 times)",
              f"{p}.created_at")
        _need(0 <= n.session_id <= U32 and 0 <= n.access_count <= U32, "session_id/access_count beyond u32", p)
        if n.metadata:
            findings.append(warning("amem.metadata_dropped", "agentic-memory has no metadata; dropped",
                                    f"{p}.metadata"))
    edges = sorted(model.edges, key=lambda e: (e.source, e.target))   # stable, as upstream
    for j, e in enumerate(edges):
        _need(0 <= e.source <= U64 and 0 <= e.target <= U64, "edge endpoint beyond u64", f"edges[{j}]")
        _need(0 <= e.edge_type <= 255 and 0 <= e.created_at <= U64, "edge_type/created_at out of range",
              f"edges[{j}]")

    stored = [blobs[i] if blobs and blobs[i] is not None else compress_block(t.encode("utf-8"))
              for i, t in enumerate(texts)]
    node_table = _records(agentic.node_record, len(nodes))
    pos = edge_pos = 0
    for i, n in enumerate(nodes):
        start = edge_pos
        while edge_pos < len(edges) and edges[edge_pos].source == ids[i]:
            edge_pos += 1
        _need(edge_pos - start <= U16, f"{edge_pos - start} outgoing edges do not fit u16 edge_count",
              f"nodes[{i}].edge_count")
        node_table[i] = (ids[i], n.event_type, (0, 0, 0), n.created_at, n.session_id, n.confidence, n.access_count,
                         n.created_at if n.last_accessed is None else n.last_accessed, n.decay_score, pos,
                         len(stored[i]), agentic.EDGE_SIZE * start, edge_pos - start, (0,) * 6)
        pos += len(stored[i])
    edge_table = _records(agentic.edge_record, len(edges))
    for j, e in enumerate(edges):
        edge_table[j] = (e.source, e.target, e.edge_type, (0, 0, 0), e.weight, e.created_at)
    vectors = np.zeros((len(nodes), dim), "<f4")
    for i, n in enumerate(nodes):
        if n.vector is not None:
            vectors[i] = pad_vector(n.vector, dim)
    edge_at = agentic.HEADER_SIZE + agentic.NODE_SIZE * len(nodes)
    content_at = edge_at + agentic.EDGE_SIZE * len(edges)
    head = Container(magic=agentic.MAGIC, version=1, dimension=dim, flags=3 if nodes and term_index else 0,
                     node_count=len(nodes), edge_count=len(edges), node_table_offset=agentic.HEADER_SIZE,
                     edge_table_offset=edge_at, content_block_offset=content_at, feature_vec_offset=content_at + pos)
    if index_block is None:
        index_block = agentic_indexes(model, ids, texts, term_index)
    return b"".join([build(agentic.header, head, "header"), node_table.tobytes(), edge_table.tobytes(),
                     *stored, vectors.tobytes(), index_block]), findings


# --- spec-v1 --------------------------------------------------------------------------------------

def _metadata_json(meta: dict[str, str]) -> bytes:
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def spec_indexes(model: Model, seconds: list[int], findings: list[Finding]) -> bytes:
    nodes, count = model.nodes, len(model.nodes)
    size = (count + 7) // 8
    bitsets = []
    for t in range(6):
        bits = np.zeros(size * 8, bool)
        bits[[i for i, n in enumerate(nodes) if n.event_type == t]] = True
        bitsets.append(np.packbits(bits, bitorder="little").tobytes()[:size])
    parts = [build(spec_v1.type_index, Container(index_type=1, num_types=6, bitsets=bitsets), "type_index",
                   bitset_size=size)]
    ranges: dict[int, list[int]] = {}
    for i, n in enumerate(nodes):
        ranges.setdefault(n.session_id, []).append(i)
    if all(v[-1] - v[0] + 1 == len(v) for v in ranges.values()):
        sessions = [Container(session_id=s, start_node=v[0], end_node=v[-1]) for s, v in sorted(ranges.items())]
        parts.append(build(spec_v1.session_index, Container(index_type=2, num_sessions=len(sessions),
                                                            sessions=sessions), "session_index"))
    else:
        findings.append(warning("amem.session_index_dropped", "a session's nodes are not contiguous ids: "
                                "spec-v1 session ranges cannot express it; session index omitted", "nodes"))
    times = sorted((s, i) for i, s in enumerate(seconds))
    parts.append(build(spec_v1.time_index, Container(index_type=3, num_entries=count, entries=[
        Container(timestamp=s, node_id=i) for s, i in times]), "time_index"))
    if model.clusters:
        members = sorted((c, i) for c, cl in enumerate(model.clusters) for i in cl.node_ids)
        if sorted(i for _, i in members) == list(range(count)):
            centroids = [[float(x) for x in pad_vector(c.centroid, model.dimension)] for c in model.clusters]
            parts.append(build(spec_v1.cluster_map, Container(
                index_type=4, num_clusters=len(centroids), dimension=model.dimension, centroids=centroids,
                assignments=[Container(cluster_id=c, node_id=i) for c, i in members]), "cluster_map",
                node_count=count))
        else:
            findings.append(warning("amem.cluster_map_dropped", "clusters do not assign every node exactly "
                                    "once, as the spec-v1 cluster map needs; omitted", "clusters"))
    return b"".join(parts)


def write_spec(model: Model, *, compress: bool = True, indexes: bool = True) -> tuple[bytes, list[Finding]]:
    """The bytes of `model` in the documented spec-v1 layout."""
    findings: list[Finding] = []
    nodes, dim = model.nodes, model.dimension
    n_nodes, n_edges = len(nodes), len(model.edges)
    _need(n_nodes <= U32 and n_edges <= U32, "node/edge count beyond u32", "header")
    _need(0 < dim <= U16, f"dimension {dim} must be 1..65535 (u16, positive)", "header.dimension")
    sessions = model.sessions()
    _need(len(sessions) <= U16, f"{len(sessions)} sessions do not fit u16 session_count", "header.session_count")
    seconds = []
    contents, metas = [], []
    for i, n in enumerate(nodes):
        p = f"nodes[{i}]"
        if n.id is not None and n.id != i:
            findings.append(warning("amem.explicit_id_dropped", f"explicit id {n.id} becomes the record index {i}",
                                    f"{p}.id"))
        s, rest = divmod(n.created_at, US_PER_S)
        if rest:
            findings.append(warning("amem.time_truncated", f"created_at {n.created_at} µs kept as {s} s",
                                    f"{p}.created_at"))
        _need(-(1 << 63) <= s < (1 << 63), "timestamp beyond i64", f"{p}.created_at")
        _need(0 <= n.event_type <= 255 and 0 <= n.session_id <= U32, "event_type/session_id out of range", p)
        seconds.append(s)
        contents.append(n.content.encode("utf-8"))
        metas.append(None if n.metadata is None else _metadata_json(n.metadata))
        if n.access_count or n.decay_score != 1.0 or (n.last_accessed not in (None, n.created_at)):
            findings.append(warning("amem.usage_dropped", "access_count/last_accessed/decay_score have no "
                                    "spec-v1 field; dropped", p))
    ids = model.node_ids()
    remap = {nid: i for i, nid in enumerate(ids)}
    edges = []
    for j, e in enumerate(model.edges):
        if e.source not in remap or e.target not in remap:
            findings.append(warning("amem.dangling_edge_dropped", f"edge {e.source}->{e.target} names a missing "
                                    "node; spec-v1 edges must point at node ids < node_count", f"edges[{j}]"))
            continue
        if e.created_at:
            findings.append(warning("amem.edge_time_dropped", "spec-v1 edges have no created_at", f"edges[{j}]"))
        edges.append((remap[e.source], remap[e.target], e))
    edges.sort(key=lambda x: (x[0], x[1]))
    block = bytearray()
    node_table = _records(spec_v1.node_record, n_nodes)
    offsets = []
    for c in contents:
        offsets.append(len(block))
        block += c
    meta_at = []
    for m in metas:
        meta_at.append(None if m is None else len(block))
        block += m or b""
    _need(len(block) <= U32, "decompressed content beyond u32 content_uncompressed", "header.content_uncompressed")
    for i, n in enumerate(nodes):
        node_table[i] = (n.event_type, (0, 0, 0), n.session_id, n.confidence, seconds[i], offsets[i],
                         len(contents[i]), spec_v1.NO_OFFSET if n.vector is None else i * dim * 4,
                         spec_v1.NO_OFFSET if meta_at[i] is None else meta_at[i], len(metas[i] or b""), (0,) * 12)
    edge_table = _records(spec_v1.edge_record, len(edges))
    for j, (s, t, e) in enumerate(edges):
        edge_table[j] = (s, t, e.edge_type, e.weight)
    stored = compress_frame(bytes(block)) if compress else bytes(block)
    vectors = np.zeros((n_nodes, dim), "<f4")
    for i, n in enumerate(nodes):
        if n.vector is not None:
            vectors[i] = pad_vector(n.vector, dim)
    index_bytes = spec_indexes(model, seconds, findings) if indexes else b""
    content_at = spec_v1.HEADER_SIZE + spec_v1.NODE_SIZE * n_nodes + spec_v1.EDGE_SIZE * len(edges)
    vector_at = content_at + len(stored)
    flags = ((spec_v1.FLAG_VECTORS if any(n.vector is not None for n in nodes) else 0)
             | (spec_v1.FLAG_INDEXES if indexes else 0) | (spec_v1.FLAG_COMPRESSED if compress else 0))
    head = Container(magic=spec_v1.MAGIC, version=1, flags=flags, node_count=n_nodes, edge_count=len(edges),
                     dimension=dim, session_count=len(sessions), content_offset=content_at,
                     content_length=len(stored), vector_offset=vector_at,
                     index_offset=vector_at + n_nodes * dim * 4, content_uncompressed=len(block),
                     reserved=bytes(8))
    if model.clusters and not indexes:
        findings.append(warning("amem.cluster_map_dropped", "indexes disabled: cluster map omitted", "clusters"))
    return b"".join([build(spec_v1.header, head, "header"), node_table.tobytes(), edge_table.tobytes(), stored,
                     vectors.tobytes(), index_bytes]), findings

