"""Building either layout from a `Model`, through the layouts: records are filled by field name
(`Layout.table`), offsets, counts and sizes by `Layout.build`, padding by the declared defaults.

agentic-memory follows `AmemWriter::write_to_file` (AMEM.md 2.8); spec-v1 follows AMEM.md 1.6.
Both return `(bytes, findings)`; findings say what the layout cannot hold (and was dropped).  A
record field the model does not name (`Node.extra`, e.g. padding or a field added later) is
written by name when the target record declares it, and reported when it is lost.
"""

from __future__ import annotations

import json
from array import array

import numpy as np

from ...errors import Finding, FormatError, warning
from ...records import default_of, fields
from . import agentic, spec_v1
from .compression import compress_block, compress_frame
from .indexes import (
    TermCollector,
    cluster_map_body,
    entry,
    session_index_body,
    temporal_index_body,
    type_index_body,
)
from .model import US_PER_S, Model, pad_vector
from .tables import plain

# model attribute -> record field, per layout (the rest of a record: layout-filled, computed here, or extra)
AGENTIC_NODE = {"id": "id", "event_type": "event_type", "created_at": "created_at", "session_id": "session_id",
                "confidence": "confidence", "access_count": "access_count", "last_accessed": "last_accessed",
                "decay_score": "decay_score"}
AGENTIC_EDGE = {"source": "source_id", "target": "target_id", "edge_type": "edge_type", "weight": "weight",
                "created_at": "created_at"}
SPEC_NODE = {"event_type": "event_type", "session_id": "session", "confidence": "confidence"}
SPEC_EDGE = {"edge_type": "edge_type", "weight": "weight"}


def _unrepresentable(exc: FormatError) -> FormatError:
    return FormatError(exc.message, exc.path, exc.offset, "amem.unrepresentable")


def _extras(decl, items, written: set[str], path: str, findings: list[Finding]) -> dict[str, list]:
    """Columns for the `extra` fields the target record declares; a non-zero extra it does not
    declare is reported as dropped."""
    declared = {sc.name: sc for sc in fields(decl) if sc.name not in written}
    columns: dict[str, list] = {}
    for name in sorted({k for item in items for k in item.extra}):
        values = [item.extra.get(name) for item in items]
        if name in declared:            # a record without the value takes the declared default
            default = default_of(declared[name])
            columns[name] = [default if v is None else v for v in values]
        else:
            for i, v in enumerate(values):
                if any(v) if isinstance(v, bytes) else v:     # zero padding is not worth a word
                    findings.append(warning("amem.field_dropped", f"{name} = {v!r} has no field in the target "
                                            "record; dropped", f"{path}[{i}].{name}"))
                    break
    return columns


def _vectors(model: Model) -> np.ndarray:
    out = np.zeros((len(model.nodes), model.dimension), "<f4")
    for i, n in enumerate(model.nodes):
        if n.vector is not None:
            out[i] = pad_vector(n.vector, model.dimension)
    return out


# --- agentic-memory -------------------------------------------------------------------------------

def agentic_indexes(model: Model, ids: list[int], texts: list[str], term_index: bool = True,
                    findings: list[Finding] | None = None) -> list:
    """Index entries: tags 1-4 always, 5 and 6 when there is at least one node and `term_index`."""
    ids_ = np.asarray(ids, np.uint64)
    nodes = model.nodes
    out = [entry(agentic.TAG_TYPE, type_index_body(ids_, [n.event_type for n in nodes])),
           entry(agentic.TAG_TEMPORAL, temporal_index_body(ids_, [n.created_at for n in nodes])),
           entry(agentic.TAG_SESSION, session_index_body(ids_, [n.session_id for n in nodes])),
           entry(agentic.TAG_CLUSTER, cluster_map_body(model.clusters, model.dimension))]
    if nodes and term_index:
        terms = TermCollector()
        for nid, text in zip(ids, texts):
            terms.add(nid, text)
        for term, size in terms.long_terms():
            if findings is not None:
                findings.append(warning("amem.term_length_wrapped", f"a {size}-byte term ({term[:20]!r}...) does not "
                                        "fit the u16 term length: written as upstream writes it (length mod 65536, "
                                        "then every byte), so upstream's reader drops the whole term index",
                                        "indexes.term_index"))
        out += [entry(agentic.TAG_TERMS, terms.term_index_body()),
                entry(agentic.TAG_DOC_LENGTHS, terms.doc_lengths_body())]
    return out


def edge_scan(ids, sources) -> tuple[np.ndarray, np.ndarray]:
    """(first edge index, edge count) per node, int64, as the writer's one forward scan over the
    sorted edges computes them: a node takes the run of edges at the scan position when they are its
    own; a node without edges gets the current position; a source that is no stored node id stalls
    the scan there (AMEM.md 2.8).  Runs are found with numpy; when ids and run sources both ascend
    (what the writer writes) the scan is numpy too, else a loop over the nodes."""
    ids, src = np.asarray(ids), np.asarray(sources)
    starts = np.flatnonzero(np.concatenate([[True], src[1:] != src[:-1]])) if len(src) else np.zeros(0, np.int64)
    lengths = np.diff(np.append(starts, len(src)))
    if len(ids) and ids.dtype == src.dtype and ids.dtype.kind in "iu" and _ascending(ids) \
            and _ascending(src[starts]):
        return _sorted_scan(ids, src[starts], starts, lengths)
    runs = zip(plain(src[starts]), plain(starts), plain(lengths))
    run = next(runs, None)
    first, counts, pos = array("q"), array("q"), 0
    for node_id in plain(ids):
        if run is not None and run[0] == node_id:
            pos = run[1] + run[2]
            first.append(run[1])
            counts.append(run[2])
            run = next(runs, None)
        else:
            first.append(pos)
            counts.append(0)
    return np.frombuffer(first, np.int64), np.frombuffer(counts, np.int64)


def _ascending(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] > values[:-1]))


def _sorted_scan(ids, sources, starts, lengths) -> tuple[np.ndarray, np.ndarray]:
    """`edge_scan` for strictly ascending ids and run sources: run k is taken by the one node of its
    id, in order, until the first run whose source is no node's (the scan stalls there)."""
    at = np.minimum(np.searchsorted(ids, sources), len(ids) - 1)
    found = ids[at] == sources
    taken = len(found) if found.all() else int(np.argmin(found))
    at = at[:taken]
    counts = np.zeros(len(ids), np.int64)
    counts[at] = lengths[:taken]
    ends = np.zeros(len(ids), np.int64)     # the scan position after each node: the end of the last run taken
    ends[at] = starts[:taken] + lengths[:taken]
    first = np.concatenate([[0], np.maximum.accumulate(ends)[:-1]])
    first[at] = starts[:taken]
    return first, counts


def write_agentic(model: Model, *, blobs: list[bytes | None] | None = None,
                  index_block: bytes | None = None, term_index: bool = True) -> tuple[bytes, list[Finding]]:
    """The bytes `AmemWriter` writes for `model` (`term_index=False`: as the 0.1 writer, flags 0 and
    no tags 5/6).  `blobs` (per node, None = compress) reuses stored LZ4 blobs, so an unchanged
    content keeps its upstream encoding; `index_block` replaces the computed index block (raw bytes
    kept from a loaded file)."""
    findings: list[Finding] = []
    nodes = model.nodes
    ids = model.node_ids()
    texts = [n.content for n in nodes]
    for i, n in enumerate(nodes):
        if n.metadata:
            findings.append(warning("amem.metadata_dropped", "agentic-memory has no metadata; dropped",
                                    f"nodes[{i}].metadata"))
    edges = sorted(model.edges, key=lambda e: (e.source, e.target))   # stable, as upstream
    stored = [blobs[i] if blobs and blobs[i] is not None else compress_block(t.encode("utf-8"))
              for i, t in enumerate(texts)]
    first, counts = edge_scan(ids, [e.source for e in edges])
    layout = agentic.agentic_layout
    node_rows = {field: [getattr(n, attr) for n in nodes] for attr, field in AGENTIC_NODE.items()}
    node_rows["id"] = ids                       # None = the record index
    node_rows["last_accessed"] = [n.created_at if n.last_accessed is None else n.last_accessed for n in nodes]
    node_rows["edge_offset"] = (np.asarray(first, np.uint64) * np.uint64(agentic.edge_record.sizeof())).tolist()
    node_rows["edge_count"] = counts.tolist()
    node_rows.update(_extras(agentic.node_record, nodes, set(node_rows) | layout.filled_fields("nodes"), "nodes",
                             findings))
    edge_rows = {field: [getattr(e, attr) for e in edges] for attr, field in AGENTIC_EDGE.items()}
    edge_rows.update(_extras(agentic.edge_record, edges, set(edge_rows), "edges", findings))
    try:
        index = index_block if index_block is not None else \
            agentic_indexes(model, ids, texts, term_index, findings)
        data = layout.build({
            "header": {"dimension": model.dimension,
                       "flags": agentic.FLAG_TERM_INDEX | agentic.FLAG_DOC_LENGTHS if nodes and term_index else 0},
            "nodes": layout.table("nodes", node_rows), "edges": layout.table("edges", edge_rows),
            "content": stored, "vectors": _vectors(model), "index": index})
    except FormatError as exc:
        raise _unrepresentable(exc) from None
    return data, findings


# --- spec-v1 --------------------------------------------------------------------------------------

def _metadata_json(meta: dict[str, str]) -> bytes:
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write_spec(model: Model, *, compress: bool = True, indexes: bool = True) -> tuple[bytes, list[Finding]]:
    """The bytes of `model` in the documented spec-v1 layout."""
    from .spec_indexes import spec_indexes
    findings: list[Finding] = []
    nodes, dim = model.nodes, model.dimension
    seconds = []
    for i, n in enumerate(nodes):
        p = f"nodes[{i}]"
        if n.id is not None and n.id != i:
            findings.append(warning("amem.explicit_id_dropped", f"explicit id {n.id} becomes the record index {i}",
                                    f"{p}.id"))
        s, rest = divmod(n.created_at, US_PER_S)
        if rest:
            findings.append(warning("amem.time_truncated", f"created_at {n.created_at} µs kept as {s} s",
                                    f"{p}.created_at"))
        seconds.append(s)
        if n.access_count or n.decay_score != 1.0 or (n.last_accessed not in (None, n.created_at)):
            findings.append(warning("amem.usage_dropped", "access_count/last_accessed/decay_score have no "
                                    "spec-v1 field; dropped", p))
    remap = {nid: i for i, nid in enumerate(model.node_ids())}
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
    # the decompressed block: every content, then every metadata (AMEM.md 1.6.4)
    contents = [n.content.encode("utf-8") for n in nodes]
    metas = [None if n.metadata is None else _metadata_json(n.metadata) for n in nodes]
    sizes = np.asarray([len(c) for c in contents] + [len(m or b"") for m in metas], np.int64)
    starts = (np.cumsum(sizes) - sizes).tolist()
    block = b"".join(contents) + b"".join(m or b"" for m in metas)
    layout = spec_v1.spec_layout
    slot = spec_v1.vector_slot(dim)
    node_rows = {field: [getattr(n, attr) for n in nodes] for attr, field in SPEC_NODE.items()}
    node_rows.update(timestamp=seconds, content_offset=starts[:len(nodes)], content_length=sizes[:len(nodes)],
                     vector_offset=[spec_v1.NO_OFFSET if n.vector is None else i * slot
                                    for i, n in enumerate(nodes)],
                     metadata_offset=[spec_v1.NO_OFFSET if m is None else starts[len(nodes) + i]
                                      for i, m in enumerate(metas)],
                     metadata_length=[len(m or b"") for m in metas])
    node_rows.update(_extras(spec_v1.node_record, nodes, set(node_rows), "nodes", findings))
    edge_rows = {"source": [s for s, _, _ in edges], "target": [t for _, t, _ in edges],
                 **{field: [getattr(e, attr) for _, _, e in edges] for attr, field in SPEC_EDGE.items()}}
    edge_rows.update(_extras(spec_v1.edge_record, [e for _, _, e in edges], set(edge_rows), "edges", findings))
    if not 0 < dim:
        raise FormatError(f"dimension {dim} must be positive", "header.dimension", None, "amem.unrepresentable")
    if model.clusters and not indexes:
        findings.append(warning("amem.cluster_map_dropped", "indexes disabled: cluster map omitted", "clusters"))
    flags = ((spec_v1.FLAG_VECTORS if any(n.vector is not None for n in nodes) else 0)
             | (spec_v1.FLAG_INDEXES if indexes else 0) | (spec_v1.FLAG_COMPRESSED if compress else 0))
    header = {"flags": flags, "dimension": dim, "session_count": len(model.sessions()),
              "content_uncompressed": len(block)}
    try:
        data = layout.build({
            "header": header, "nodes": layout.table("nodes", node_rows), "edges": layout.table("edges", edge_rows),
            "content": compress_frame(block) if compress else block, "vectors": _vectors(model),
            "indexes": spec_indexes(model, seconds, findings) if indexes else b""})
    except FormatError as exc:
        raise _unrepresentable(exc) from None
    return data, findings

