"""`dump --json` and `inspect` of a spec-v1 file: every declared field of every section, plus the
decoded contents, metadata and indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import FormatError
from ...jsonify import declared
from ...timestamps import stamp
from . import spec_v1
from .detect import SPEC_V1
from .tables import census, f32, ints, nodes_json, pairs

if TYPE_CHECKING:  # pragma: no cover
    from .spec_store import SpecDocument


def spec_json(doc: SpecDocument, stream: bool = False) -> dict:
    """`stream`: the nodes (and their contents) produced one at a time while written."""
    out = {"format": "amem", "layout": SPEC_V1, "variant": SPEC_V1,
           **doc.sections_json("header", "nodes", "edges")}
    placed = doc.parsed.placed["content"]
    out["content"] = {"offset": placed.start, "length": placed.end - placed.start,
                      "frame": declared(spec_v1.lz4_frame, placed.value) if isinstance(placed.value, dict) else None}
    return nodes_json(doc, out, _node_json, index_json, stream)


def _node_json(doc: SpecDocument, i: int, node: dict) -> dict:
    node["id"] = i
    for key, fn in (("content", doc.content), ("metadata", doc.metadata)):
        try:
            node[key] = fn(i)
        except FormatError as exc:
            node[key], node[f"{key}_error"] = None, str(exc)
    v = doc.vectors[i]
    node["vector"] = None if doc.vector(i) is None else [f32(x) for x in v]
    node["vector_all_zero"] = not v.any()
    return node


def index_json(doc: SpecDocument) -> dict:
    entries, stop = doc.index_scan
    out: dict = {"index_offset": doc.index_offset, "index_types": [k for k, *_ in entries],
                 "entries": [{"index_type": k, "offset": at, "length": n, **declared(spec_v1.INDEX_BODIES[k], v)}
                             for k, at, n, v in entries]}
    for kind, _, _, v in entries:
        name = spec_v1.INDEX_NAMES[kind]
        if kind == spec_v1.TYPE_INDEX:
            from .spec_store import EVENT_NAMES
            out[name] = {EVENT_NAMES.get(t, str(t)): np.flatnonzero(doc._bits(v, t)).tolist()
                         for t in range(v.num_types)}
        elif kind == spec_v1.SESSION_INDEX:
            out[name] = [{"session_id": a, "start_node": b, "end_node": c} for a, b, c in
                         zip(ints(v.sessions.session_id), ints(v.sessions.start_node), ints(v.sessions.end_node))]
        elif kind == spec_v1.TIME_INDEX:
            out[name] = pairs(v.entries.timestamp, v.entries.node_id)
        elif kind == spec_v1.CLUSTER_MAP:
            out[name] = {"num_clusters": v.num_clusters, "dimension": v.dimension,
                         "centroids": [[f32(x) for x in c] for c in v.centroids],
                         "assignments": pairs(v.assignments.cluster_id, v.assignments.node_id)}
    if stop is not None:
        out["unparsed_offset"] = stop.offset
        out["unparsed_length"] = len(doc.data) - (stop.offset or 0)
    return out


def spec_summary(doc: SpecDocument) -> list[str]:
    from .spec_store import EVENT_NAMES
    h, n = doc.header, doc.nodes
    lines = [f"spec-v1 layout, version {h.version}, dimension {h.dimension}, flags {h.flags:#x}: "
             f"{h.node_count} nodes, {h.edge_count} edges, {h.session_count} sessions, {len(doc.data)} bytes"]
    if doc.node_count:
        lines += census(n, EVENT_NAMES, "session")
        lines.append(f"time span: {stamp(n['timestamp'].min())} .. {stamp(n['timestamp'].max())}")
    health = [f"{spec_v1.INDEX_NAMES[k]} ({length} B) {'ok' if doc.index_consistent(k) else 'disagrees'}"
              for k, _, length, _ in doc.index_scan[0]]
    if doc.index_scan[1] is not None:
        health.append(f"stopped: {doc.index_scan[1].message}")
    lines.append("indexes: " + ("; ".join(health) if health else "none"))
    return lines
