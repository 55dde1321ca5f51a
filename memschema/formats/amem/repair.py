"""`repair` for `.amem` brains of both layouts.

Every node record and edge record that is complete in the file is read through its declaration;
the brain is then written again by the existing writer, which rebuilds the header counts and
offsets, the edge offsets of the nodes, and every index (type, temporal, session, term index, doc
lengths; spec-v1 type, session, time).  What cannot be read is said, with its offset:

- a node whose content does not decode (blob outside the file, bad LZ4, not UTF-8; spec-v1: its
  slice of the content block lost) is KEPT with empty content: its id, type, session, times,
  vector and edges survive, and dropping it would leave the edges that name it dangling;
- a vector that is not in the file any more is left out (the node is kept without one);
- agentic-memory nodes with an event type the reader rejects, and duplicate ids, are dropped;
- edges that name a node that is not kept (or, agentic-memory, have an unknown type) are dropped;
- the cluster map (not derivable from the nodes) is kept when a copy of it parses, else dropped.
"""

from __future__ import annotations

import json

import numpy as np

from ...dtypes import floats, table
from ...errors import FormatError
from ...parsing import field_offset, locate, parse
from ...registry import Detection
from ...repairing import Action, RepairResult
from ...walker import parse_value
from . import agentic, spec_v1
from .compression import decompress_block, decompress_frame_prefix
from .detect import AGENTIC, SPEC_V1, agentic_problems, spec_problems
from .model import US_PER_S, Cluster, Edge, Model, Node
from .writer import write_agentic, write_spec

MAX_EVENT, MAX_EDGE = max(agentic.EVENT_TYPES.values()), max(agentic.EDGE_TYPES.values())
F32 = np.dtype("<f4").itemsize      # a vector element; a doc-lengths entry is one too


def _budget(data) -> int:
    """Most bytes a rebuilt dense table (vectors, doc lengths) may take: a damaged header field
    must not make repair allocate gigabytes of zeros."""
    return 16 * len(data) + (1 << 20)


def _check_dimension(data, dimension: int, nodes: int, at: int) -> None:
    if F32 * dimension * nodes > _budget(data):
        raise FormatError(f"dimension {dimension} x {nodes} nodes would rebuild {F32 * dimension * nodes} bytes of "
                          f"vectors from a {len(data)}-byte file: the dimension is not credible", "header.dimension",
                          at, "amem.bad_dimension")


def repair_amem(data, detection: Detection) -> RepairResult:
    layout = detection.variant or _layout(data)
    out = _intact(data, layout)
    if out is None:
        out = _repair_agentic(data) if layout == AGENTIC else _repair_spec(data)
    out.detection = Detection("amem", layout, detection.description)
    return out


def _layout(data) -> str:
    """The layout of a file too damaged for detection: the one whose header offsets agree with
    its counts, whatever the file size."""
    if len(data) >= agentic.HEADER_SIZE and not agentic_problems(data, whole=False):
        return AGENTIC
    if len(data) >= spec_v1.HEADER_SIZE and not spec_problems(data, whole=False):
        return SPEC_V1
    raise FormatError("AMEM header offsets agree with neither layout: nothing to rebuild from", "header", 0,
                      "amem.inconsistent_header")


def _intact(data, layout: str) -> RepairResult | None:
    """A file that loads and validates without a single finding is left as it is."""
    from ...api import load
    try:
        doc = load(data, format=f"amem/{layout}")
        if any(f.severity != "info" for f in doc.check()):
            return None
    except FormatError:
        return None
    return RepairResult(bytes(data), kept={"nodes": doc.node_count, "edges": len(doc.edges)})


def _complete(data, offset: int, size: int, count: int) -> int:
    """How many of `count` records of `size` bytes at `offset` are complete in the file."""
    return max(0, min(count, (len(data) - offset) // size)) if size and offset <= len(data) else 0


class Records:
    """The complete records of a table at `offset` (a truncated file keeps fewer than `count`),
    with the absolute offset of record `i` and of its fields from the declaration."""

    def __init__(self, data, out: RepairResult, decl, offset: int, count: int, path: str):
        self.decl, self.offset, self.size = decl, offset, decl.sizeof()
        have = _complete(data, offset, self.size, count)
        if have < count:
            out.add(Action.DROPPED, "amem.truncated", f"{count - have} of {count} records are not in the file",
                    f"{path}[{have}]", self.at(have), max(0, len(data) - self.at(have)))
        self.rows = table(decl, data, min(offset, len(data)), have, path)

    def at(self, i: int, field: str | None = None) -> int:
        return self.offset + i * self.size + (field_offset(self.decl, field) if field else 0)


def _vectors(data, out: RepairResult, offset: int, dimension: int, count: int) -> np.ndarray:
    have = _complete(data, offset, F32 * dimension, count) if dimension else count
    if have < count:
        out.add(Action.DROPPED, "amem.truncated", f"vectors of nodes {have}..{count - 1} are not in the file",
                f"vectors[{have}]", offset + F32 * dimension * have)
    return floats(data, min(offset, len(data)), have * dimension, "vectors").reshape(have, dimension)


def _try_parse(decl, data, offset: int = 0, **context):
    """(value, offset after it) of `decl` at `offset`, or None when it does not parse."""
    try:
        return parse_value(decl, data, offset, "", **context)
    except FormatError:
        return None


def _written(data, out: RepairResult, new: bytes, index_at: int) -> RepairResult:
    """Keep what the writer made of the kept nodes and say what it rebuilt."""
    if new == bytes(data):
        out.data = bytes(data)
        return out
    out.add(Action.REBUILT, "amem.indexes", "every index written again from the kept nodes", "index", index_at)
    out.add(Action.REBUILT, "amem.header", "header counts and offsets, the nodes' edge offsets written again",
            "header", 0)
    out.data = new
    return out


# -- agentic-memory ----------------------------------------------------------------------------

def _repair_agentic(data) -> RepairResult:
    out = RepairResult(b"")
    h = parse(agentic.header, data, 0, "header", agentic.HEADER_SIZE)
    table = Records(data, out, agentic.node_record, h.node_table_offset, h.node_count, "nodes")
    edge_table = Records(data, out, agentic.edge_record, h.edge_table_offset, h.edge_count, "edges")
    nodes, edges = table.rows, edge_table.rows
    vectors = _vectors(data, out, h.feature_vec_offset, h.dimension, len(nodes))
    model, blobs, seen = Model(dimension=h.dimension), [], set()
    for i, r in enumerate(nodes):
        if int(r["event_type"]) > MAX_EVENT:
            out.add(Action.DROPPED, "amem.unknown_event_type", f"node {int(r['id'])}: event_type {int(r['event_type'])}"
                    " makes the upstream reader reject the file", f"nodes[{i}]", table.at(i), table.size)
            continue
        if int(r["id"]) in seen:
            out.add(Action.DROPPED, "amem.duplicate_id", f"node id {int(r['id'])} is used by an earlier node",
                    f"nodes[{i}]", table.at(i), table.size)
            continue
        seen.add(int(r["id"]))
        text, blob = _agentic_content(data, out, h, r, i, table)
        vec = vectors[i] if i < len(vectors) and vectors[i].any() else None
        model.nodes.append(Node(text, int(r["event_type"]), int(r["session_id"]), float(r["confidence"]),
                                int(r["created_at"]), int(r["id"]), int(r["access_count"]), int(r["last_accessed"]),
                                float(r["decay_score"]), vector=None if vec is None else np.array(vec)))
        blobs.append(blob)
    for j, e in enumerate(edges):
        ends = (int(e["source_id"]), int(e["target_id"]))
        problem = (f"edge_type {int(e['edge_type'])} is unknown" if int(e["edge_type"]) > MAX_EDGE else
                   None if set(ends) <= seen else f"edge {ends[0]}->{ends[1]} names a node that is not kept")
        if problem:
            out.add(Action.DROPPED, "amem.dangling_edge", problem, f"edges[{j}]", edge_table.at(j), edge_table.size)
            continue
        model.edges.append(Edge(*ends, int(e["edge_type"]), float(e["weight"]), int(e["created_at"])))
    index_at = h.feature_vec_offset + F32 * h.dimension * h.node_count
    entries = _index_entries(data, index_at)
    model.clusters = _clusters(out, entries, seen, index_at)
    term_index = bool(h.flags & 1) or any(e.tag in (agentic.TAG_TERMS, agentic.TAG_DOC_LENGTHS) for e in entries)
    _check_dimension(data, h.dimension, len(model.nodes), locate(agentic.header, h, "dimension"))
    if term_index and F32 * (max(seen, default=0) + 1) > _budget(data):
        term_index = False
        out.add(Action.DROPPED, "amem.index_corrupt", f"node ids up to {max(seen)} would make a doc-lengths table "
                "far larger than the file: the term index and doc lengths are left out", "index", index_at)
    new, _ = write_agentic(model, blobs=blobs, term_index=term_index or not model.nodes)
    out.kept = {"nodes": len(model.nodes), "edges": len(model.edges)}
    return _written(data, out, new, min(index_at, len(data)))


def _index_entries(data, at: int) -> list:
    """The complete index entries from `at` on (what follows the last one is ignored, as upstream)."""
    out = []
    while at <= len(data) and (found := _try_parse(agentic.index_entry, data, at)) is not None:
        entry, at = found
        out.append(entry)
    return out


def _agentic_content(data, out: RepairResult, h, r, i: int, table: Records) -> tuple[str, bytes | None]:
    """(text, stored blob to reuse) of node record `r`; ("", None) when it does not decode."""
    start, length = h.content_block_offset + int(r["content_offset"]), int(r["content_length"])
    if length == 0:
        return "", None
    if start + length > len(data):
        out.add(Action.EMPTIED, "amem.content_out_of_bounds", f"node {int(r['id'])} kept with empty content: its "
                f"blob [{start}, {start + length}) runs past the end of the file", f"nodes[{i}].content_offset",
                table.at(i, "content_offset"))
        return "", None
    try:
        blob = bytes(data[start:start + length])
        parsed = parse(agentic.content_blob, blob, 0, f"content[{i}]")
        text = decompress_block(parsed.block, parsed.uncompressed_size, f"content[{i}]", start).decode("utf-8")
    except (FormatError, UnicodeDecodeError) as exc:
        code = getattr(exc, "code", "amem.bad_utf8")
        out.add(Action.EMPTIED, code, f"node {int(r['id'])} kept with empty content: {getattr(exc, 'message', exc)}",
                f"content[{i}]", start, length)
        return "", None
    return text, blob


def _clusters(out: RepairResult, entries, kept: set[int], index_at: int) -> list[Cluster]:
    """The last cluster map copy that parses, members limited to kept nodes."""
    found = None
    for e in entries:
        if e.tag == agentic.TAG_CLUSTER:
            parsed = _try_parse(agentic.cluster_map, e.body)
            found = parsed[0] if parsed is not None else found
    if found is None:
        if any(e.tag == agentic.TAG_CLUSTER for e in entries):
            out.add(Action.DROPPED, "amem.index_corrupt", "the cluster map does not parse", "index.cluster_map",
                    index_at)
        return []
    return [Cluster(np.asarray(c.centroid, "<f4"), [int(n) for n in c.node_ids if int(n) in kept])
            for c in found.clusters]


# -- spec-v1 -----------------------------------------------------------------------------------

def _repair_spec(data) -> RepairResult:
    out = RepairResult(b"")
    h = parse(spec_v1.header, data, 0, "header", spec_v1.HEADER_SIZE)
    table = Records(data, out, spec_v1.node_record, spec_v1.HEADER_SIZE, h.node_count, "nodes")
    edge_table = Records(data, out, spec_v1.edge_record, table.at(h.node_count), h.edge_count, "edges")
    nodes, edges = table.rows, edge_table.rows
    block = _spec_block(data, out, h)
    vectors = _vectors(data, out, h.vector_offset, h.dimension, len(nodes))
    model = Model(dimension=h.dimension)
    for i, r in enumerate(nodes):
        vec = vectors[i] if int(r["vector_offset"]) != spec_v1.NO_OFFSET and i < len(vectors) else None
        model.nodes.append(Node(_spec_text(out, block, r, i, table), int(r["event_type"]),
                                int(r["session"]), float(r["confidence"]), int(r["timestamp"]) * US_PER_S,
                                metadata=_spec_metadata(out, block, r, i, table),
                                vector=None if vec is None else np.array(vec)))
    for j, e in enumerate(edges):
        if int(e["source"]) >= len(nodes) or int(e["target"]) >= len(nodes):
            out.add(Action.DROPPED, "amem.dangling_edge", f"edge {int(e['source'])}->{int(e['target'])} names a node "
                    "that is not kept", f"edges[{j}]", edge_table.at(j), edge_table.size)
            continue
        model.edges.append(Edge(int(e["source"]), int(e["target"]), int(e["edge_type"]), float(e["weight"])))
    model.clusters = _spec_clusters(data, h, len(nodes))
    _check_dimension(data, h.dimension, len(model.nodes), locate(spec_v1.header, h, "dimension"))
    new, _ = write_spec(model, compress=bool(h.flags & spec_v1.FLAG_COMPRESSED),
                        indexes=bool(h.flags & spec_v1.FLAG_INDEXES))
    out.kept = {"nodes": len(model.nodes), "edges": len(model.edges)}
    return _written(data, out, new, min(h.index_offset, len(data)))


def _spec_block(data, out: RepairResult, h) -> bytes:
    """As much of the decompressed content block as survives."""
    raw = bytes(data[h.content_offset:h.content_offset + h.content_length])
    if not h.flags & spec_v1.FLAG_COMPRESSED:
        return raw
    block, problem = decompress_frame_prefix(raw, h.content_uncompressed)
    if problem is not None:
        out.add(Action.EMPTIED, "amem.bad_lz4", f"{problem}; nodes whose content lies beyond keep empty content",
                "content", h.content_offset, len(raw))
    return block


def _spec_slice(out: RepairResult, block: bytes, r, i: int, what: str, table: Records) -> bytes | None:
    offset, length = int(r[f"{what}_offset"]), int(r[f"{what}_length"])
    if offset + length <= len(block):
        return block[offset:offset + length]
    out.add(Action.EMPTIED, "amem.content_out_of_bounds", f"node {i}: its {what} [{offset}, {offset + length}) is "
            f"not in the decoded content block ({len(block)} bytes)", f"nodes[{i}].{what}_offset",
            table.at(i, f"{what}_offset"))
    return None


def _spec_text(out: RepairResult, block: bytes, r, i: int, table: Records) -> str:
    raw = _spec_slice(out, block, r, i, "content", table)
    try:
        return "" if raw is None else raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.add(Action.EMPTIED, "amem.bad_utf8", f"node {i}: content is not UTF-8 ({exc.reason})",
                f"nodes[{i}].content_offset", table.at(i, "content_offset"))
        return ""


def _spec_metadata(out: RepairResult, block: bytes, r, i: int, table: Records) -> dict | None:
    if int(r["metadata_offset"]) == spec_v1.NO_OFFSET:
        return None
    raw = _spec_slice(out, block, r, i, "metadata", table)
    try:
        value = None if raw is None else json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        value = None
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return value
    if raw is not None:
        out.add(Action.EMPTIED, "amem.bad_metadata", f"node {i}: metadata is not a flat JSON object of strings",
                f"nodes[{i}].metadata_offset", table.at(i, "metadata_offset"))
    return None


def _spec_clusters(data, h, count: int) -> list[Cluster]:
    """The cluster map when the index block still holds one that parses (scanned in order:
    spec-v1 indexes have no lengths)."""
    pos = h.index_offset
    ctx = {"bitset_size": (h.node_count + 7) // 8, "node_count": h.node_count}
    while h.flags & spec_v1.FLAG_INDEXES and pos + spec_v1.index_kind.sizeof() <= len(data):
        kind = parse(spec_v1.index_kind, data, pos, "indexes").index_type
        decl = spec_v1.INDEX_BODIES.get(kind)
        found = None if decl is None else _try_parse(decl, data, pos, **ctx)
        if found is None:
            return []
        value, after = found
        if kind == spec_v1.CLUSTER_MAP:
            clusters = [Cluster(np.asarray(c, "<f4"), []) for c in value.centroids]
            for cid, nid in zip(value.assignments.cluster_id.tolist(), value.assignments.node_id.tolist()):
                if cid < len(clusters) and nid < count:
                    clusters[cid].node_ids.append(nid)
            return clusters
        pos = after
    return []
