"""Validation of a loaded spec-v1 file: the spec's "readers must" rules and AMEM.md 1.6, under the
severity policy of `agentic_checks` (error = not readable as written or a reference that points
nowhere; warning = intact but off: indexes a reader can rebuild, padding, order)."""

from __future__ import annotations

import numpy as np

from ...errors import Finding, Findings, FormatError, error, warning
from ...parsing import parse
from . import spec_v1
from .agentic_checks import padding_fields
from .findings import each, info
from .spec_store import EDGE_NAMES, EVENT_NAMES, SpecDocument

KNOWN_FLAGS = spec_v1.FLAG_VECTORS | spec_v1.FLAG_INDEXES | spec_v1.FLAG_COMPRESSED


def check_spec(doc: SpecDocument, strict: bool = False) -> list[Finding]:
    out = Findings()
    strictly = error if strict else warning
    h = doc.header
    at = lambda name: doc.offset_of(f"header.{name}")
    if h.version > spec_v1.FORMAT_VERSION:
        out.add(error("amem.unsupported_version", f"version {h.version} > {spec_v1.FORMAT_VERSION}: readers must "
                      "reject it", "header.version", at("version")))
    if h.dimension == 0:
        out.add(error("amem.bad_dimension", "dimension must be positive", "header.dimension", at("dimension")))
    for problem in doc.placement_problems:
        where = problem.split()[0]
        path = where if where.startswith("header.") else "header.index_offset"
        out.add(error("amem.inconsistent_header", problem, path, doc.offset_of(path)))
    if h.flags & ~KNOWN_FLAGS:
        out.add(warning("amem.flags", f"unknown flag bits {h.flags & ~KNOWN_FLAGS:#x}", "header.flags", at("flags")))
    has_vec = doc.has_vector()
    if bool(h.flags & spec_v1.FLAG_VECTORS) != bool(has_vec.any()):
        out.add(warning("amem.flags", f"flags bit 0 (has vectors) is {h.flags & spec_v1.FLAG_VECTORS}, "
                        f"{int(has_vec.sum())} nodes have a vector", "header.flags", at("flags")))
    sessions = np.unique(doc.nodes["session"])
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
    each(out, n["event_type"] > max(EVENT_NAMES), lambda i: warning(
        "amem.unknown_event_type", f"event_type {int(n['event_type'][i])}: opaque (a future type)",
        f"nodes[{i}].event_type", doc.node_offset(i, "event_type")))
    for pad in padding_fields(spec_v1.node_record):
        each(out, n[pad].any(axis=1), lambda i, pad=pad: strictly(
            "amem.nonzero_padding", f"{pad} bytes must be zero", f"nodes[{i}].{pad}", doc.node_offset(i, pad)))
    want = np.arange(doc.node_count, dtype=np.uint64) * np.uint64(spec_v1.vector_slot(dim))
    each(out, has_vec & (n["vector_offset"] != want), lambda i: error(
        "amem.bad_vector_offset", f"vector_offset {int(n['vector_offset'][i])}, node {i} has its slot at "
        f"{int(want[i])}", f"nodes[{i}].vector_offset", doc.node_offset(i, "vector_offset")))
    if doc.vectors.size:
        each(out, ~has_vec & (doc.vector_norms > 0), lambda i: warning(
            "amem.vector_without_offset", "vector_offset is u64::MAX but the slot is not all zero",
            f"vectors[{i}]", doc.offset_of(f"vectors[{i}]")))
    each(out, (n["metadata_offset"] == spec_v1.NO_OFFSET) & (n["metadata_length"] != 0), lambda i: warning(
        "amem.bad_metadata", "metadata_offset is u64::MAX but metadata_length is not 0",
        f"nodes[{i}].metadata_length", doc.node_offset(i, "metadata_length")))
    try:
        _ = doc.block
    except FormatError as exc:
        out.add(Finding.from_error(exc))
        return
    # the sound slices are read only by what the block check and the budget already did; the
    # others, and all metadata (JSON), by the one-node path that names what is wrong, in node order
    sound = doc.sound("content", "metadata")
    careful = ~sound["content"] | (doc.nodes["metadata_offset"] != spec_v1.NO_OFFSET)
    for i in np.flatnonzero(careful).tolist():
        for fn in (doc.content, doc.metadata):
            try:
                fn(i)
            except FormatError as exc:
                out.add(Finding.from_error(exc))


def _check_edges(doc: SpecDocument, out: Findings) -> None:
    e, count = doc.edges, doc.node_count
    each(out, e["edge_type"] > max(EDGE_NAMES), lambda j: warning(
        "amem.unknown_edge_type", f"edge_type {int(e['edge_type'][j])}: opaque (a future type)",
        f"edges[{j}].edge_type", doc.edge_offset(j, "edge_type")))
    for side in ("source", "target"):
        each(out, e[side] >= count, lambda j, side=side: error(
            "amem.dangling_edge", f"{side} {int(e[side][j])} >= node_count {count}: the edge points nowhere",
            f"edges[{j}].{side}", doc.edge_offset(j, side)))
    if len(e) > 1:
        s, t = e["source"], e["target"]
        down = np.zeros(len(e), bool)
        down[1:] = s[1:] < s[:-1]
        each(out, down, lambda j: warning("amem.edges_unsorted", "edges are not sorted by source node id",
                                          f"edges[{j}].source", doc.edge_offset(j, "source")))
        ties = np.zeros(len(e), bool)
        ties[1:] = (s[1:] == s[:-1]) & (t[1:] < t[:-1])
        each(out, ties, lambda j: info("amem.edges_unsorted", "edges with equal source are not ordered by target",
                                       f"edges[{j}].target", doc.edge_offset(j, "target")))


def _check_indexes(doc: SpecDocument, out: Findings) -> None:
    h = doc.header
    entries, stop = doc.index_scan
    if not h.flags & spec_v1.FLAG_INDEXES:
        if doc.index_offset < len(doc.data):
            out.add(warning("amem.trailing_bytes", f"{len(doc.data) - doc.index_offset} bytes after the vectors but "
                            "flags bit 1 (has indexes) is clear", "indexes", doc.index_offset))
        return
    if stop is not None:    # the indexes are rebuildable from the nodes, except a cluster map
        tail = doc.parsed.placed["indexes"].tail
        lost = stop.code == "amem.index_corrupt" and \
            parse(spec_v1.index_kind, doc.data, tail.offset, "indexes").index_type == spec_v1.CLUSTER_MAP
        out.add((error if lost else warning)(stop.code, stop.message, stop.path, stop.offset))
    kinds = [k for k, *_ in entries]
    if kinds != sorted(kinds) or len(set(kinds)) != len(kinds):
        out.add(warning("amem.index_order", f"index types in order {kinds}, expected 1, 2, 3, 4 once each",
                        "indexes", doc.index_offset))
    for k in (spec_v1.TYPE_INDEX, spec_v1.SESSION_INDEX, spec_v1.TIME_INDEX):
        if k not in kinds and stop is None:
            out.add(info("amem.index_missing", f"no {spec_v1.INDEX_NAMES[k]}: queries fall back to scans", "indexes",
                         doc.index_offset))
    for pos, (kind, offset, _, value) in enumerate(entries):
        name = spec_v1.INDEX_NAMES[kind]
        dangling = doc.dangling_entries(kind, value)
        if dangling:
            out.add(error("amem.index_dangling", f"{name} names node ids >= node_count {doc.node_count} "
                          f"(e.g. {dangling[:5]}): they point nowhere", f"indexes[{pos}]", offset))
        for problem in doc.index_mismatches(kind, value)[:out.cap]:
            out.add(warning("amem.index_mismatch", f"{name} disagrees with the node records: {problem} (an index a "
                            "reader can rebuild)", f"indexes[{pos}]", offset))
