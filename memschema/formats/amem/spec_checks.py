"""Validation of a loaded spec-v1 file: the spec's "readers must" rules and AMEM.md 1.6."""

from __future__ import annotations

import numpy as np

from ...errors import Finding, Findings, FormatError, error, warning
from ...parsing import locate
from . import spec_v1
from .checks import _rows, info
from .detect import spec_problems
from .spec_store import SpecDocument


def check_spec(doc: SpecDocument, strict: bool = False) -> list[Finding]:
    out = Findings()
    strictly = error if strict else warning
    h = doc.header
    at = lambda name: locate(spec_v1.header, h, name)
    if h.version > 1:
        out.add(error("amem.unsupported_version", f"version {h.version} > 1: readers must reject it",
                      "header.version", at("version")))
    if h.dimension == 0:
        out.add(error("amem.bad_dimension", "dimension must be positive", "header.dimension", at("dimension")))
    for problem in spec_problems(doc.data):
        field = problem.split()[0]
        field = field if field in ("content_offset", "vector_offset", "index_offset") else "reserved"
        out.add(error("amem.inconsistent_header", problem, f"header.{field}", at(field)))
    if h.flags & ~7:
        out.add(warning("amem.flags", f"unknown flag bits {h.flags & ~7:#x}", "header.flags", at("flags")))
    n = doc.nodes
    has_vec = n["vector_offset"] != spec_v1.NO_OFFSET
    if bool(h.flags & spec_v1.FLAG_VECTORS) != bool(has_vec.any()):
        out.add(warning("amem.flags", f"flags bit 0 (has vectors) is {h.flags & 1}, {int(has_vec.sum())} nodes "
                        "have a vector", "header.flags", at("flags")))
    sessions = np.unique(n["session"])
    if h.session_count != len(sessions):
        out.add(warning("amem.session_count", f"session_count {h.session_count}, the nodes have {len(sessions)} "
                        "distinct sessions", "header.session_count", at("session_count")))
    if not doc.compressed and h.content_length != h.content_uncompressed:
        out.add(error("amem.content_length", f"uncompressed block: content_length {h.content_length} != "
                      f"content_uncompressed {h.content_uncompressed}", "header.content_uncompressed",
                      at("content_uncompressed")))
    _check_nodes(doc, out, strictly, has_vec)
    _check_edges(doc, out)
    _check_indexes(doc, out)
    return out.close()


def _check_nodes(doc: SpecDocument, out: Findings, strictly, has_vec) -> None:
    n, dim = doc.nodes, doc.header.dimension
    for i in _rows(n["event_type"] > 5):
        out.add(warning("amem.unknown_event_type", f"event_type {int(n['event_type'][i])}: opaque (future type)",
                        f"nodes[{i}].event_type", doc.node_offset(i, "event_type")))
    for k in ("padding", "reserved"):
        for i in _rows(n[k].any(axis=1)):
            out.add(strictly("amem.nonzero_padding", f"{k} bytes must be zero", f"nodes[{i}].{k}",
                             doc.node_offset(i, k)))
    want = np.arange(doc.node_count, dtype=np.uint64) * np.uint64(dim * 4)
    for i in _rows(has_vec & (n["vector_offset"] != want)):
        out.add(error("amem.bad_vector_offset", f"vector_offset {int(n['vector_offset'][i])}, node {i} has its "
                      f"slot at {i * dim * 4}", f"nodes[{i}].vector_offset", doc.node_offset(i, "vector_offset")))
    if doc.vectors.size:
        for i in _rows(~has_vec & doc.vectors.any(axis=1)):
            out.add(warning("amem.vector_without_offset", "vector_offset is u64::MAX but the slot is not all zero",
                            f"vectors[{i}]", doc.header.vector_offset + 4 * dim * i))
    for i in _rows((n["metadata_offset"] == spec_v1.NO_OFFSET) & (n["metadata_length"] != 0)):
        out.add(warning("amem.bad_metadata", "metadata_offset is u64::MAX but metadata_length is not 0",
                        f"nodes[{i}].metadata_length", doc.node_offset(i, "metadata_length")))
    try:
        _ = doc.block
    except FormatError as exc:
        out.add(Finding.from_error(exc))
        return
    for i in range(doc.node_count):
        for fn in (doc.content, doc.metadata):
            try:
                fn(i)
            except FormatError as exc:
                out.add(Finding.from_error(exc))


def _check_edges(doc: SpecDocument, out: Findings) -> None:
    e, count = doc.edges, doc.node_count
    for j in _rows(e["edge_type"] > 6):
        out.add(warning("amem.unknown_edge_type", f"edge_type {int(e['edge_type'][j])}: opaque (future type)",
                        f"edges[{j}].edge_type", doc.edge_offset(j, "edge_type")))
    for side in ("source", "target"):
        for j in _rows(e[side] >= count):
            out.add(error("amem.dangling_edge", f"{side} {int(e[side][j])} >= node_count {count}",
                          f"edges[{j}].{side}", doc.edge_offset(j, side)))
    if len(e) > 1:
        s, t = e["source"], e["target"]
        bad = (s[1:] < s[:-1])
        for j in (np.nonzero(bad)[0] + 1).tolist():
            out.add(error("amem.edges_unsorted", "edges must be sorted by source node id", f"edges[{j}].source",
                          doc.edge_offset(j, "source")))
        for j in (np.nonzero((s[1:] == s[:-1]) & (t[1:] < t[:-1]))[0] + 1).tolist():
            out.add(info("amem.edges_unsorted", "edges with equal source are not ordered by target",
                         f"edges[{j}].target", doc.edge_offset(j, "target")))


def _check_indexes(doc: SpecDocument, out: Findings) -> None:
    h = doc.header
    entries, stop = doc.index_scan
    if not h.flags & spec_v1.FLAG_INDEXES:
        if h.index_offset < len(doc.data):
            out.add(warning("amem.trailing_bytes", f"{len(doc.data) - h.index_offset} bytes after the vectors but "
                            "flags bit 1 (has indexes) is clear", "indexes", h.index_offset))
        return
    if stop is not None:
        sev = warning if stop.code == "amem.unknown_index_type" else error
        out.add(sev(stop.code, stop.message, stop.path, stop.offset))
    kinds = [k for k, *_ in entries]
    if kinds != sorted(kinds) or len(set(kinds)) != len(kinds):
        out.add(warning("amem.index_order", f"index types in order {kinds}, expected 1, 2, 3, 4 once each",
                        "indexes", h.index_offset))
    for k in (1, 2, 3):
        if k not in kinds and stop is None:
            out.add(info("amem.index_missing", f"no {spec_v1.INDEX_NAMES[k]}: queries fall back to scans", "indexes",
                         h.index_offset))
    for pos, (kind, offset, _, value) in enumerate(entries):
        for problem in doc.index_mismatches(kind, value)[:50]:
            out.add(error("amem.index_mismatch", f"{spec_v1.INDEX_NAMES[kind]} disagrees with the node records: "
                          f"{problem}", f"indexes[{pos}]", offset))
