"""`dump --json` and `inspect` of an agentic-memory file: every declared field of the header, node
and edge records and index entries (from the declarations), plus the decoded contents, vectors and
index bodies the corpus `expected.json` files name."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import FormatError
from ...timestamps import stamp
from . import agentic
from .detect import AGENTIC
from .tables import census, enum_name, f32, ints, nodes_json, pairs

if TYPE_CHECKING:  # pragma: no cover
    from .agentic_store import AgenticDocument


def agentic_json(doc: AgenticDocument, stream: bool = False) -> dict:
    """`stream`: the nodes (and their contents) produced one at a time while written."""
    out = {"format": "amem", "layout": AGENTIC, "variant": AGENTIC,
           **doc.sections_json("header", "nodes", "edges", "index")}
    return nodes_json(doc, out, _node_json, index_json, stream)


def _node_json(doc: AgenticDocument, i: int, node: dict) -> dict:
    node["content_uncompressed_length"] = doc.uncompressed_length(i)
    try:
        node["content"] = doc.content(i)
    except FormatError as exc:
        node["content"] = None
        node["content_error"] = str(exc)
    v = doc.vectors[i]
    node["vector_all_zero"] = not v.any()
    node["vector"] = None if node["vector_all_zero"] else [f32(x) for x in v]
    return node


def index_json(doc: AgenticDocument) -> dict:
    out: dict = {"index_block_offset": doc.index_offset,
                 "tags": [t for t, *_ in doc.index_entries],
                 "entries": [{"tag": t, "offset": at, "length": n} for t, at, n, _ in doc.index_entries]}
    for tag, (value, _err, _) in doc.index_bodies.items():
        if value is not None:
            out[agentic.INDEX_NAMES[tag]] = index_body_json(tag, value, doc.stored_body(tag))
    out["term_index_loaded"] = doc.index_value(agentic.TAG_TERMS) is not None
    out["doc_lengths_loaded"] = doc.index_value(agentic.TAG_DOC_LENGTHS) is not None
    if doc.trailing:
        out["trailing_hex"] = doc.trailing.hex()
    return out


def index_body_json(tag: int, value, body: bytes):
    from .agentic_store import EVENT_NAMES
    if tag == agentic.TAG_TYPE:
        return {str(enum_name(EVENT_NAMES, g.event_type)): ints(g.node_ids) for g in value.groups}
    if tag == agentic.TAG_TEMPORAL:
        return pairs(value.entries.created_at, value.entries.node_id)
    if tag == agentic.TAG_SESSION:
        return [{"session_id": s.session_id, "node_ids": ints(s.node_ids)} for s in value.sessions]
    if tag == agentic.TAG_CLUSTER:
        return {"cluster_count": value.cluster_count, "dimension": value.dimension,
                "clusters": [{"centroid": [f32(x) for x in c.centroid], "node_ids": ints(c.node_ids)}
                             for c in value.clusters]}
    if tag == agentic.TAG_TERMS:
        return {"doc_count": value.doc_count, "avg_doc_length": f32(value.avg_doc_length),
                "term_count": value.term_count, "posting_count": sum(t.n for t in value.terms),
                "body_length": len(body),
                "terms": {bytes(t.term).decode("utf-8", "backslashreplace"): pairs(t.postings.node_id, t.postings.tf)
                          for t in value.terms}}
    return ints(value.length)     # doc lengths


def agentic_summary(doc: AgenticDocument) -> list[str]:
    from .agentic_store import EDGE_NAMES, EVENT_NAMES
    h, n = doc.header, doc.nodes
    lines = [f"agentic-memory layout, version {h.version}, dimension {h.dimension}, flags {h.flags:#x}: "
             f"{h.node_count} nodes, {h.edge_count} edges, {len(doc.data)} bytes"]
    if doc.node_count:
        lines += census(n, EVENT_NAMES, "session_id")
        t = n["created_at"]
        lines.append(f"time span: {stamp(t.min(), 'us')} .. {stamp(t.max(), 'us')} "
                     f"({(int(t.max()) - int(t.min())) / 1e6:.0f} s)")
        lines.append(f"vectors: {int((doc.vector_norms > 0).sum())} of {doc.node_count} non-zero")
    if len(doc.edges):
        types, counts = np.unique(doc.edges["edge_type"], return_counts=True)
        lines.append("edge types: " + ", ".join(f"{EDGE_NAMES.get(int(t), int(t))} {c}"
                                                  for t, c in zip(types, counts)))
    health = []
    for tag, _at, length, _ in doc.index_entries:
        name = agentic.INDEX_NAMES.get(tag, f"unknown tag {tag}")
        if tag not in agentic.INDEX_BODIES:
            state = "skipped"
        elif doc.index_value(tag) is None:
            state = "corrupt"
        elif tag in (agentic.TAG_TYPE, agentic.TAG_TEMPORAL, agentic.TAG_SESSION):
            state = "ok" if doc.index_consistent(tag) else "disagrees with nodes"
        else:
            state = "parsed"
        health.append(f"{name} ({length} B) {state}")
    lines.append("indexes: " + ("; ".join(health) if health else "none"))
    return lines
