"""The spec-v1 indexes (AMEM.md 1.5, 1.6.9-1.6.13) built from a model through their declarations."""

from __future__ import annotations

import numpy as np

from ...dtypes import struct_dtype
from ...errors import Finding, warning
from ...records import serialize_one
from . import spec_v1
from .agentic import EVENT_TYPES
from .model import Model, pad_vector

TIME_ENTRY = struct_dtype(spec_v1.time_entry)
ASSIGNMENT = struct_dtype(spec_v1.cluster_assignment)


def type_bitsets(event_types: np.ndarray) -> list[bytes]:
    """One bitset per known event type: node N is bit N % 8 of byte N // 8 (LSB first)."""
    return [np.packbits(np.asarray(event_types) == t, bitorder="little").tobytes()
            for t in sorted(EVENT_TYPES.values())]


def session_ranges(sessions: np.ndarray) -> list[tuple[int, int, int]] | None:
    """(session_id, first node, last node) ascending by id, or None when a session's nodes are not
    contiguous ids (a range cannot express it)."""
    sessions = np.asarray(sessions)
    order = np.argsort(sessions, kind="stable")            # node ids grouped by session, ascending
    ids, first, counts = np.unique(sessions[order], return_index=True, return_counts=True)
    low, high = order[first], order[first + counts - 1]
    if (high - low + 1 != counts).any():
        return None
    return list(zip(ids.tolist(), low.tolist(), high.tolist()))


def time_entries(seconds: np.ndarray) -> np.ndarray:
    order = np.lexsort((np.arange(len(seconds)), seconds))
    out = np.zeros(len(seconds), TIME_ENTRY)
    out["timestamp"], out["node_id"] = np.asarray(seconds)[order], order
    return out


def spec_indexes(model: Model, seconds: list[int], findings: list[Finding]) -> bytes:
    nodes, count = model.nodes, len(model.nodes)
    ctx = {"header": {"node_count": count}}
    types = np.asarray([n.event_type for n in nodes], np.int64)
    bitsets = type_bitsets(types)
    parts = [serialize_one(spec_v1.type_index, {"num_types": len(bitsets), "bitsets": bitsets}, "type_index", ctx)]
    ranges = session_ranges(np.asarray([n.session_id for n in nodes], np.int64))
    if ranges is not None:
        parts.append(serialize_one(spec_v1.session_index, {"num_sessions": len(ranges), "sessions": [
            {"session_id": s, "start_node": a, "end_node": b} for s, a, b in ranges]}, "session_index", ctx))
    else:
        findings.append(warning("amem.session_index_dropped", "a session's nodes are not contiguous ids: "
                                "spec-v1 session ranges cannot express it; session index omitted", "nodes"))
    entries = time_entries(np.asarray(seconds, np.int64))
    parts.append(serialize_one(spec_v1.time_index, {"num_entries": count, "entries": entries}, "time_index", ctx))
    if model.clusters:
        members = sorted((c, i) for c, cl in enumerate(model.clusters) for i in cl.node_ids)
        if sorted(i for _, i in members) == list(range(count)):
            assignments = np.zeros(len(members), ASSIGNMENT)
            assignments["cluster_id"] = [c for c, _ in members]
            assignments["node_id"] = [i for _, i in members]
            centroids = np.asarray([pad_vector(c.centroid, model.dimension) for c in model.clusters], "<f4")
            parts.append(serialize_one(spec_v1.cluster_map, {
                "num_clusters": len(centroids), "dimension": model.dimension, "centroids": centroids,
                "assignments": assignments}, "cluster_map", ctx))
        else:
            findings.append(warning("amem.cluster_map_dropped", "clusters do not assign every node exactly "
                                    "once, as the spec-v1 cluster map needs; omitted", "clusters"))
    return b"".join(parts)
