"""Validation of a loaded agentic-memory file (AMEM.md 2.7-2.9) and the `inspect` summary.

Errors are what makes the upstream reader refuse the file or what loses data; warnings are what it
accepts but a correct writer never produces."""

from __future__ import annotations

import numpy as np

from ...errors import Finding, Findings, FormatError, Severity, error, warning
from ...parsing import locate
from . import agentic
from .agentic_store import EDGE_NAMES, EVENT_NAMES, AgenticDocument, expected_terms, ints
from .detect import agentic_problems

HEADER_FIELDS = {"node_table_offset", "edge_table_offset", "content_block_offset", "feature_vec_offset"}
MAX_CONTENT = 65_536


def info(code: str, message: str, path: str = "", offset: int | None = None) -> Finding:
    return Finding(Severity.INFO, code, message, path, offset)


def _rows(mask) -> list[int]:
    return np.nonzero(np.asarray(mask))[0].tolist()


def check_agentic(doc: AgenticDocument, strict: bool = False) -> list[Finding]:
    out = Findings()
    strictly = error if strict else warning
    h = doc.header
    at = lambda name: locate(agentic.header, h, name)
    if h.version > 1:
        out.add(error("amem.unsupported_version", f"version {h.version} > 1: readers must reject it",
                      "header.version", at("version")))
    elif h.version == 0:
        out.add(warning("amem.version_zero", "version 0 (accepted upstream, never written)", "header.version",
                        at("version")))
    for problem in agentic_problems(doc.data):
        name = problem.split()[0]
        field = name if name in HEADER_FIELDS else "feature_vec_offset"
        out.add(error("amem.inconsistent_header", problem, f"header.{field}", at(field)))
    _check_nodes(doc, out, strictly)
    _check_content(doc, out)
    _check_edges(doc, out, strictly)
    if doc.vectors.size and not np.isfinite(doc.vectors).all():
        rows = _rows(~np.isfinite(doc.vectors).all(axis=1))
        for i in rows:
            out.add(warning("amem.vector_nonfinite", "vector holds NaN or infinity", f"vectors[{i}]",
                            h.feature_vec_offset + 4 * h.dimension * i))
    _check_indexes(doc, out, strictly)
    has_terms = any(t in (agentic.TAG_TERMS, agentic.TAG_DOC_LENGTHS) for t, *_ in doc.index_entries)
    want = 3 if (doc.node_count and has_terms) else 0
    if h.flags != want:
        out.add(warning("amem.flags", f"flags {h.flags:#x}, a writer of this index block writes {want} "
                        "(flags are ignored on read)", "header.flags", at("flags")))
    return out.close()


def _check_nodes(doc: AgenticDocument, out: Findings, strictly) -> None:
    n = doc.nodes
    for i in _rows(n["event_type"] > 5):
        out.add(error("amem.unknown_event_type", f"event_type {int(n['event_type'][i])} (0-5 known): the upstream "
                      "reader rejects the whole file", f"nodes[{i}].event_type", doc.node_offset(i, "event_type")))
    for pad in ("padding", "padding_tail"):
        for i in _rows(n[pad].any(axis=1)):
            out.add(strictly("amem.nonzero_padding", f"{pad} bytes are not zero", f"nodes[{i}].{pad}",
                             doc.node_offset(i, pad)))
    ids = n["id"]
    uniq, counts = np.unique(ids, return_counts=True)
    for dup in uniq[counts > 1][:MAX_REPORT]:
        i = int(np.nonzero(ids == dup)[0][1])
        out.add(warning("amem.duplicate_id", f"id {int(dup)} is used by more than one node", f"nodes[{i}].id",
                        doc.node_offset(i, "id")))
    if len(ids) > 1 and (np.diff(ids.astype(np.float64)) < 0).any() and not (counts > 1).any():
        i = int(np.nonzero(ids[1:] < ids[:-1])[0][0]) + 1
        out.add(warning("amem.ids_unsorted", "node ids are not ascending (the writer writes graph order)",
                        f"nodes[{i}].id", doc.node_offset(i, "id")))
    conf = n["confidence"]
    for i in _rows(~((conf >= 0) & (conf <= 1))):
        out.add(warning("amem.confidence_range", f"confidence {float(conf[i])} outside [0, 1]",
                        f"nodes[{i}].confidence", doc.node_offset(i, "confidence")))
    # edge_offset/edge_count as the writer's forward scan computes them from the sorted edges
    e = doc.edges
    pos = 0
    src = e["source_id"]
    offs, cnts = n["edge_offset"], n["edge_count"]
    for i in range(doc.node_count):
        start = pos
        node_id = ids[i]
        while pos < len(src) and src[pos] == node_id:
            pos += 1
        if int(offs[i]) != agentic.EDGE_SIZE * start or int(cnts[i]) != pos - start:
            out.add(warning("amem.edge_offset_mismatch", f"edge_offset {int(offs[i])}/edge_count {int(cnts[i])}, "
                            f"the edge table gives {agentic.EDGE_SIZE * start}/{pos - start}",
                            f"nodes[{i}].edge_offset", doc.node_offset(i, "edge_offset")))


MAX_REPORT = 50


def _check_content(doc: AgenticDocument, out: Findings) -> None:
    h = doc.header
    block_end = h.feature_vec_offset
    spans = []
    for i in range(doc.node_count):
        start, length = doc.blob_span(i)
        spans.append((start, length, i))
        path = f"nodes[{i}].content_offset"
        if start + length > len(doc.data):
            out.add(error("amem.content_out_of_bounds", f"blob [{start}, {start + length}) runs past the end of "
                          f"the {len(doc.data)}-byte file", path, doc.node_offset(i, "content_offset")))
            continue
        if start + length > block_end:
            out.add(error("amem.content_outside_block", f"blob [{start}, {start + length}) is not inside the "
                          f"content block [{h.content_block_offset}, {block_end})", path,
                          doc.node_offset(i, "content_offset")))
        if length == 0:
            out.add(info("amem.empty_blob", "content_length 0 (content \"\"; the writer stores a 5-byte blob)",
                         f"nodes[{i}].content_length", doc.node_offset(i, "content_length")))
            continue
        try:
            text = doc.content(i)
        except FormatError as exc:
            out.add(Finding.from_error(exc))
            continue
        if len(text.encode("utf-8")) > MAX_CONTENT:
            out.add(warning("amem.content_too_long", f"content of {len(text.encode('utf-8'))} bytes exceeds the "
                            f"{MAX_CONTENT}-byte limit upstream enforces when adding a node", f"content[{i}]", start))
    pos = h.content_block_offset
    for start, length, i in sorted(spans):
        if length and start != pos:
            out.add(warning("amem.content_layout", f"blob starts at {start}, the previous one ends at {pos} "
                            "(gap or overlap)", f"nodes[{i}].content_offset", doc.node_offset(i, "content_offset")))
        pos = max(pos, start + length)
    if doc.node_count and pos != block_end and pos <= len(doc.data):
        out.add(warning("amem.content_layout", f"blobs end at {pos}, the content block at {block_end}",
                        "header.feature_vec_offset", locate(agentic.header, h, "feature_vec_offset")))


def _check_edges(doc: AgenticDocument, out: Findings, strictly) -> None:
    e = doc.edges
    for j in _rows(e["edge_type"] > 6):
        out.add(error("amem.unknown_edge_type", f"edge_type {int(e['edge_type'][j])} (0-6 known): the upstream "
                      "reader rejects the whole file", f"edges[{j}].edge_type", doc.edge_offset(j, "edge_type")))
    for j in _rows(e["padding"].any(axis=1)):
        out.add(strictly("amem.nonzero_padding", "padding bytes are not zero", f"edges[{j}].padding",
                         doc.edge_offset(j, "padding")))
    if len(e) > 1:
        key = np.lexsort((e["target_id"], e["source_id"]))
        if (key != np.arange(len(e))).any():
            s, t = e["source_id"], e["target_id"]
            bad = (s[1:] < s[:-1]) | ((s[1:] == s[:-1]) & (t[1:] < t[:-1]))
            j = int(np.nonzero(bad)[0][0]) + 1
            out.add(warning("amem.edges_unsorted", "edges are not sorted by (source_id, target_id) (upstream "
                            "re-sorts on load)", f"edges[{j}].source_id", doc.edge_offset(j, "source_id")))
    known = doc.ids
    for side in ("source_id", "target_id"):
        for j in _rows(~np.isin(e[side], known)):
            out.add(warning("amem.dangling_edge", f"{side} {int(e[side][j])} is not a node id", f"edges[{j}].{side}",
                            doc.edge_offset(j, side)))
    w = e["weight"]
    for j in _rows(~((w >= 0) & (w <= 1))):
        out.add(warning("amem.weight_range", f"weight {float(w[j])} outside [0, 1]", f"edges[{j}].weight",
                        doc.edge_offset(j, "weight")))


def _check_indexes(doc: AgenticDocument, out: Findings, strictly) -> None:
    entries = doc.index_entries
    tags = [t for t, *_ in entries]
    trailing = bytes(doc.index.trailing)
    tail_at = len(doc.data) - len(trailing)
    if len(trailing) >= agentic.ENTRY_HEAD:
        out.add(error("amem.index_truncated", f"an index entry at {tail_at} runs past the end of the file: upstream "
                      "stops there and loses it and everything after it", "index.trailing", tail_at))
    elif trailing:
        out.add(strictly("amem.trailing_bytes", f"{len(trailing)} bytes after the last index entry", "index.trailing",
                         tail_at))
    for k, (tag, at, length, _) in enumerate(entries):
        if tag not in agentic.INDEX_BODIES:
            out.add(warning("amem.unknown_index_tag", f"unknown index tag {tag} ({length} bytes): skipped, "
                            "kept on dump",
                            f"index.entries[{k}].tag", at))
        elif tags.count(tag) > 1 and tags.index(tag) != k:
            out.add(warning("amem.duplicate_index_tag", f"tag {tag} appears again (the later copy wins upstream)",
                            f"index.entries[{k}].tag", at))
    for tag in (1, 2, 3, 4):
        if tag not in tags:
            out.add(warning("amem.index_missing", f"no {agentic.INDEX_NAMES[tag]} (tag {tag}); the writer always "
                            "writes it", "index", doc.index_offset))
    if doc.node_count:
        for tag in (5, 6):
            if tag not in tags:
                out.add(info("amem.index_missing", f"no {agentic.INDEX_NAMES[tag]} (tag {tag}): written by 0.2+ "
                             "writers only; BM25 search has no index", "index", doc.index_offset))
    known = [t for t in tags if t in agentic.INDEX_BODIES]
    if known != sorted(known):
        out.add(info("amem.index_order", f"index tags in order {tags}, the writer writes them ascending", "index",
                     doc.index_offset))
    for tag, (value, err, start) in doc.index_bodies.items():
        name = agentic.INDEX_NAMES[tag]
        if err is not None:
            sev = error if err.code == "amem.index_corrupt" else warning
            out.add(sev(err.code, err.message, f"indexes.{name}" + (f".{err.path}" if err.path != name else ""),
                        err.offset))
        if value is None:
            continue
        for problem in doc._index_mismatches(tag, value)[:MAX_REPORT]:
            out.add(strictly("amem.index_mismatch", f"{name} disagrees with the node records: {problem} "
                             "(upstream rebuilds it on load)", f"indexes.{name}", start))
    _check_clusters(doc, out)
    _check_terms(doc, out)


def _check_clusters(doc: AgenticDocument, out: Findings) -> None:
    cm = doc.index_value(agentic.TAG_CLUSTER)
    if cm is None:
        return
    start = doc.index_bodies[agentic.TAG_CLUSTER][2]
    if cm.dimension != doc.header.dimension:
        out.add(warning("amem.cluster_dimension", f"cluster map dimension {cm.dimension}, "
                        f"header {doc.header.dimension}",
                        "indexes.cluster_map.dimension", start + locate(agentic.cluster_map, cm, "dimension")))
    known = set(doc.ids.tolist())
    for c, cl in enumerate(cm.clusters):
        missing = [i for i in ints(cl.node_ids) if i not in known]
        if missing:
            out.add(warning("amem.cluster_dangling", f"cluster {c} names missing node ids {missing[:10]}",
                            f"indexes.cluster_map.clusters[{c}]", start))


def _check_terms(doc: AgenticDocument, out: Findings) -> None:
    ti = doc.index_value(agentic.TAG_TERMS)
    dl = doc.index_value(agentic.TAG_DOC_LENGTHS)
    if ti is None and dl is None:
        return
    try:
        postings, lengths, avg = expected_terms(doc)
    except FormatError:
        return  # undecodable content is reported by the content checks
    if ti is not None:
        start = doc.index_bodies[agentic.TAG_TERMS][2]
        path = "indexes.term_index"
        if ti.doc_count != doc.node_count:
            out.add(warning("amem.term_index_mismatch", f"doc_count {ti.doc_count}, {doc.node_count} nodes",
                            f"{path}.doc_count", start))
        if doc.node_count and np.float32(ti.avg_doc_length).tobytes() != np.float32(avg).tobytes():
            out.add(warning("amem.term_index_mismatch", f"avg_doc_length {ti.avg_doc_length}, contents give {avg}",
                            f"{path}.avg_doc_length", start + locate(agentic.term_index, ti, "avg_doc_length")))
        stored = {bytes(t.term): list(zip(ints(t.postings.node_id), ints(t.postings.tf))) for t in ti.terms}
        order = [bytes(t.term) for t in ti.terms]
        if order != sorted(order):
            out.add(warning("amem.term_index_order", "terms are not sorted by UTF-8 bytes", f"{path}.terms", start))
        bad = [t for t in sorted(set(stored) | set(postings)) if stored.get(t) != postings.get(t)]
        for t in bad[:MAX_REPORT]:
            out.add(warning("amem.term_index_mismatch", f"term {t.decode('utf-8', 'replace')!r}: stored "
                            f"{stored.get(t)}, contents give {postings.get(t)}", f"{path}.terms", start))
    if dl is not None:
        start = doc.index_bodies[agentic.TAG_DOC_LENGTHS][2]
        want_count = (max(lengths) + 1) if lengths else 0
        got = ints(dl.length)
        want = [lengths.get(i, 0) for i in range(want_count)] if want_count <= len(got) + 1_000_000 else None
        if dl.count != want_count:
            out.add(warning("amem.doc_lengths_mismatch", f"count {dl.count}, max node id + 1 is {want_count}",
                            "indexes.doc_lengths.count", start))
        elif want is not None and got != want:
            i = next(k for k, (a, b) in enumerate(zip(got, want)) if a != b)
            at = start + locate(agentic.doc_lengths, dl, f"length[{i}]")
            out.add(warning("amem.doc_lengths_mismatch", f"length[{i}] = {got[i]}, the content has {want[i]} tokens",
                            f"indexes.doc_lengths.length[{i}]", at))


def summary_lines(doc: AgenticDocument) -> list[str]:
    h = doc.header
    n = doc.nodes
    lines = [f"agentic-memory layout, version {h.version}, dimension {h.dimension}, flags {h.flags:#x}: "
             f"{h.node_count} nodes, {h.edge_count} edges, {len(doc.data)} bytes"]
    if doc.node_count:
        types, counts = np.unique(n["event_type"], return_counts=True)
        lines.append("event types: " + ", ".join(f"{EVENT_NAMES.get(int(t), int(t))} {c}"
                                                   for t, c in zip(types, counts)))
        sess, counts = np.unique(n["session_id"], return_counts=True)
        shown = ", ".join(f"{int(s)}: {c}" for s, c in list(zip(sess, counts))[:10])
        lines.append(f"sessions ({len(sess)}): {shown}" + (" ..." if len(sess) > 10 else ""))
        t = n["created_at"]
        lines.append(f"time span: {int(t.min())} .. {int(t.max())} µs ({(int(t.max()) - int(t.min())) / 1e6:.0f} s)")
        with_vec = int(doc.vectors.any(axis=1).sum()) if doc.vectors.size else 0
        lines.append(f"vectors: {with_vec} of {doc.node_count} non-zero")
    if len(doc.edges):
        types, counts = np.unique(doc.edges["edge_type"], return_counts=True)
        lines.append("edge types: " + ", ".join(f"{EDGE_NAMES.get(int(t), int(t))} {c}"
                                                  for t, c in zip(types, counts)))
    health = []
    for tag, _at, length, _ in doc.index_entries:
        name = agentic.INDEX_NAMES.get(tag, f"unknown tag {tag}")
        value, err, _ = doc.index_bodies.get(tag, (None, None, 0))
        if tag not in agentic.INDEX_BODIES:
            state = "skipped"
        elif value is None:
            state = "corrupt"
        elif tag in (1, 2, 3):
            state = "ok" if doc.index_consistent(tag) else "disagrees with nodes"
        else:
            state = "parsed"
        health.append(f"{name} ({length} B) {state}")
    lines.append("indexes: " + ("; ".join(health) if health else "none"))
    return lines
