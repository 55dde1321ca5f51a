"""Validation of a loaded agentic-memory file (AMEM.md 2.7-2.9, AMEM-VERSIONS.md) under the
severity policy: *error* = upstream cannot read the file as its writer meant (it rejects it, data is
lost or unreachable, a reference points nowhere, a count contradicts the bytes); *warning* = the
data is intact but something is off (an index upstream rebuilds, padding, order); *info* = worth
knowing.

Validation streams: contents are decoded, checked and tokenized a batch of nodes at a time (only
the term postings are kept), vectors are scanned in chunks, and the indexes are compared byte for byte with
the bodies a writer stores for these records; only a body that differs is parsed, to say how."""

from __future__ import annotations

from itertools import islice

import numpy as np

from ...batches import bounded_batches
from ...errors import Finding, Findings, FormatError, error, warning
from ...parsing import field_offset
from ...records import default_of, fields
from ...walker import parse_value
from . import agentic
from .agentic_store import EDGE_NAMES, EVENT_NAMES, AgenticDocument
from .findings import each, info
from .indexes import TermCollector, matches
from .tokenizer import JOINER, SEPARATOR_TOKEN
from .writer import edge_scan

MAX_CONTENT = 65_536       # upstream's per-node content limit (enforced when a node is added)
RELEASE_EVERY = 1 << 14    # nodes decoded between two releases of the blob pages behind them
FLOATS_AT_ONCE = 1 << 22   # vector values checked at a time
ID_TABLE_FACTOR = 16       # node ids spanning at most this many values per id are looked up in a table
MAX_EVENT_TYPE, MAX_EDGE_TYPE = max(EVENT_NAMES), max(EDGE_NAMES)
REBUILT = (agentic.TAG_TYPE, agentic.TAG_TEMPORAL, agentic.TAG_SESSION)   # upstream rebuilds these from the nodes


def padding_fields(decl) -> list[str]:
    """The record's padding: byte fields whose declared default is all zero."""
    return [sc.name for sc in fields(decl) if isinstance(default_of(sc), bytes) and not any(default_of(sc))]


def check_agentic(doc: AgenticDocument, strict: bool = False) -> list[Finding]:
    out = Findings()
    strictly = error if strict else warning
    h = doc.header
    if h.version > agentic.FORMAT_VERSION:
        out.add(error("amem.unsupported_version", f"version {h.version} > {agentic.FORMAT_VERSION}: upstream rejects "
                      "the file (UnsupportedVersion); the MCP server moves it to <name>.corrupt.bak and starts an "
                      "empty brain", "header.version", doc.offset_of("header.version")))
    elif h.version < agentic.FORMAT_VERSION:
        out.add(warning("amem.version_zero", f"legacy version {h.version}, read like version 1 upstream; the "
                        "AgenticMemory MCP server rewrites it as version 1 when it opens it under the default "
                        "auto-safe migration policy (after a checkpoint in .amem-migrations/), refuses to start "
                        "under AMEM_STORAGE_MIGRATION_POLICY=strict, and upgrades it without a checkpoint at the "
                        "next save under off", "header.version", doc.offset_of("header.version")))
    for problem in doc.placement_problems:
        where = problem.split()[0]
        path = where if where.startswith("header.") else "header.feature_vec_offset"
        out.add(error("amem.inconsistent_header", problem, path, doc.offset_of(path)))
    for stage in (_check_nodes, _check_edges):
        stage(doc, out, strictly)
        doc.release(0, len(doc.data))     # pages a stage read are let go: the next re-reads what it needs
    terms = _check_contents(doc, out)
    _check_vectors(doc, out)
    _check_indexes(doc, out, strictly, terms)
    doc.release(0, len(doc.data))
    has_terms = any(t in (agentic.TAG_TERMS, agentic.TAG_DOC_LENGTHS) for t, *_ in doc.index_entries)
    want = agentic.FLAG_TERM_INDEX | agentic.FLAG_DOC_LENGTHS if (doc.node_count and has_terms) else 0
    if h.flags != want:
        out.add(warning("amem.flags", f"flags {h.flags:#x}, a writer of this index block writes {want} "
                        "(flags are ignored on read)", "header.flags", doc.offset_of("header.flags")))
    return out.close()


def _types_and_padding(doc: AgenticDocument, out: Findings, strictly, section: str, kind: str, limit: int) -> None:
    """A record type upstream does not know (it rejects the file) and padding that is not zero."""
    table, decl = doc.parsed[section], doc.layout.section(section).decl
    at = doc.node_offset if section == "nodes" else doc.edge_offset
    each(out, table[f"{kind}_type"] > limit, lambda i: error(
        f"amem.unknown_{kind}_type", f"{kind}_type {int(table[f'{kind}_type'][i])} (0-{limit} known): the upstream "
        "reader rejects the whole file", f"{section}[{i}].{kind}_type", at(i, f"{kind}_type")))
    for pad in padding_fields(decl):
        each(out, table[pad].any(axis=1), lambda i, pad=pad: strictly(
            "amem.nonzero_padding", f"{pad} bytes are not zero", f"{section}[{i}].{pad}", at(i, pad)))


def _check_nodes(doc: AgenticDocument, out: Findings, strictly) -> None:
    n = doc.nodes
    _types_and_padding(doc, out, strictly, "nodes", "event", MAX_EVENT_TYPE)
    ids = doc.ids
    order = np.argsort(ids, kind="stable")
    repeated = np.zeros(len(ids), bool)
    repeated[order[1:]] = ids[order[1:]] == ids[order[:-1]]
    each(out, repeated, lambda i: error(
        "amem.duplicate_id", f"id {int(ids[i])} is used by an earlier node too: upstream finds nodes by id, so this "
        "one cannot be reached and edges naming the id are ambiguous", f"nodes[{i}].id", doc.node_offset(i, "id")))
    if len(ids) > 1 and not repeated.any() and (ids[1:] < ids[:-1]).any():
        i = int(np.flatnonzero(ids[1:] < ids[:-1])[0]) + 1
        out.add(warning("amem.ids_unsorted", "node ids are not ascending (the writer writes graph order)",
                        f"nodes[{i}].id", doc.node_offset(i, "id")))
    conf = n["confidence"]
    each(out, ~((conf >= 0) & (conf <= 1)), lambda i: warning(
        "amem.confidence_range", f"confidence {float(conf[i])} outside [0, 1]", f"nodes[{i}].confidence",
        doc.node_offset(i, "confidence")))
    # edge_offset/edge_count: a cache of the edge table, as the writer's forward scan computes it
    first, counts = edge_scan(ids, doc.edges["source_id"])
    want_offset = np.asarray(first, np.uint64) * np.uint64(agentic.edge_record.sizeof())
    want_count = np.asarray(counts, np.int64)
    each(out, (n["edge_offset"] != want_offset) | (n["edge_count"] != want_count), lambda i: warning(
        "amem.edge_offset_mismatch", f"edge_offset {int(n['edge_offset'][i])}/edge_count {int(n['edge_count'][i])}, "
        f"the edge table gives {int(want_offset[i])}/{int(want_count[i])}", f"nodes[{i}].edge_offset",
        doc.node_offset(i, "edge_offset")))


def _check_edges(doc: AgenticDocument, out: Findings, strictly) -> None:
    e = doc.edges
    _types_and_padding(doc, out, strictly, "edges", "edge", MAX_EDGE_TYPE)
    if len(e) > 1:
        s, t = e["source_id"], e["target_id"]
        bad = (s[1:] < s[:-1]) | ((s[1:] == s[:-1]) & (t[1:] < t[:-1]))
        if bad.any():
            j = int(np.flatnonzero(bad)[0]) + 1
            out.add(warning("amem.edges_unsorted", "edges are not sorted by (source_id, target_id) (upstream "
                            "re-sorts on load)", f"edges[{j}].source_id", doc.edge_offset(j, "source_id")))
    known = np.unique(doc.ids)
    for side in ("source_id", "target_id"):
        each(out, ~_among(e[side], known), lambda j, side=side: error(
            "amem.dangling_edge", f"{side} {int(e[side][j])} is no node's id: the edge points nowhere",
            f"edges[{j}].{side}", doc.edge_offset(j, side)))
    w = e["weight"]
    each(out, ~((w >= 0) & (w <= 1)), lambda j: warning(
        "amem.weight_range", f"weight {float(w[j])} outside [0, 1]", f"edges[{j}].weight",
        doc.edge_offset(j, "weight")))


def _among(values: np.ndarray, known: np.ndarray, rows: int = 1 << 20) -> np.ndarray:
    """Which `values` are in `known` (sorted, unique), a chunk at a time: a lookup table when the ids
    span a range about the size of the data (the usual 0..n), else binary searches (np.isin would
    sort both)."""
    out = np.zeros(len(values), bool)
    if not len(known):
        return out
    table = int(known[-1]) - int(known[0]) <= ID_TABLE_FACTOR * (len(known) + len(values))   # memory ~ the data
    for at in range(0, len(values), rows):
        chunk = values[at:at + rows]
        if table:
            out[at:at + rows] = np.isin(chunk, known, kind="table")
        else:
            out[at:at + rows] = known[np.minimum(np.searchsorted(known, chunk), len(known) - 1)] == chunk
    return out


def _check_contents(doc: AgenticDocument, out: Findings) -> TermCollector | None:
    """Decode, check and tokenize every content, a few hundred at a time and at most about a MiB of
    them held (what is per node and not decoding is checked on the span arrays at once).  The term
    postings (for tags 5 and 6) are returned when every content decoded."""
    placed = doc.parsed.placed["content_block"]
    block_start, block_end = placed.start, placed.end
    starts, lengths, prefixes = doc.blobs
    inside = (starts >= 0) & (starts + lengths <= len(doc.data))
    each(out, inside & (lengths > 0) & ((starts < block_start) | (starts + lengths > block_end)), lambda i: error(
        "amem.content_outside_block", f"blob [{int(starts[i])}, {int(starts[i] + lengths[i])}) is not inside the "
        f"content block [{block_start}, {block_end}): the header and the node disagree", f"nodes[{i}].content_offset",
        doc.node_offset(i, "content_offset")))
    each(out, lengths == 0, lambda i: info(
        "amem.empty_blob", "content_length 0 (content \"\"; the writer stores a 5-byte blob)",
        f"nodes[{i}].content_length", doc.node_offset(i, "content_length")))
    terms: TermCollector | None = TermCollector()
    failed = np.zeros(len(starts), bool)
    contents, ids, joiner = doc.decoded(failures=True), doc.ids, JOINER.encode()
    released = 0
    for first, stop in bounded_batches(prefixes, TermCollector.TEXTS, TermCollector.CHARS):
        batch = list(islice(contents, stop - first))
        # the batch as one text (UTF-8 joined by the separator is valid when each content is);
        # when one did not decode, is no UTF-8 or holds the separator: one at a time, in order.
        # After a failure there is no term index to rebuild: the contents are only checked.
        joined = None
        if terms is not None:
            try:
                joined = joiner.join(batch)
                if not joined.isascii():
                    joined.decode("utf-8")      # raises for a content that is no UTF-8
            except (UnicodeDecodeError, TypeError):
                joined = None
        if joined is not None and joined.count(SEPARATOR_TOKEN) == len(batch) - 1:
            terms.add_joined(ids[first:stop].tolist(), joined)
        else:
            for i, node_id, raw in zip(range(first, stop), ids[first:stop].tolist(), batch):
                try:
                    if isinstance(raw, FormatError):
                        raise raw
                    text = doc.text_of(i, raw)
                    if terms is not None:
                        terms.add(node_id, text)
                except FormatError as exc:
                    failed[i], terms = True, None
                    out.add(Finding.from_error(exc))
        del batch, joined
        if stop - released >= RELEASE_EVERY:
            doc.release(block_start, int(starts[stop - 1]))
            released = stop
    contents.close()        # its frame holds the last content; a stored error's traceback would keep it alive
    each(out, ~failed & (prefixes > MAX_CONTENT), lambda i: warning(
        "amem.content_too_long", f"content of {int(prefixes[i])} bytes exceeds the {MAX_CONTENT}-byte limit upstream "
        "enforces when adding a node", f"content[{i}]", int(starts[i])))
    _check_blob_layout(doc, out, starts, lengths, block_start, block_end)
    return terms


def _check_blob_layout(doc: AgenticDocument, out: Findings, starts, lengths, block_start: int, block_end: int) -> None:
    """Blobs follow each other from the start of the content block to its end (gaps, overlaps and
    shared blobs read fine upstream: warnings)."""
    used = np.flatnonzero((lengths > 0) & (starts >= 0) & (starts + lengths <= len(doc.data)))
    if not len(used):
        return
    used = used[np.argsort(starts[used], kind="stable")]
    ends = starts[used] + lengths[used]
    previous = np.maximum.accumulate(np.concatenate([[block_start], ends[:-1]]))
    each(out, starts[used] != previous, lambda k: warning(
        "amem.content_layout", f"blob starts at {int(starts[used[k]])}, the previous one ends at {int(previous[k])} "
        "(gap, overlap or shared blob)", f"nodes[{int(used[k])}].content_offset",
        doc.node_offset(int(used[k]), "content_offset")))
    end = int(ends.max())
    if end != block_end:
        out.add(warning("amem.content_layout", f"blobs end at {end}, the content block at {block_end}",
                        "header.feature_vec_offset", doc.offset_of("header.feature_vec_offset")))


def _check_vectors(doc: AgenticDocument, out: Findings) -> None:
    vectors = doc.vectors
    if not vectors.size:
        return
    bad = np.zeros(len(vectors), bool)
    for at, chunk in doc.vector_chunks():
        flat = chunk.reshape(-1)
        for lo in range(0, len(flat), FLOATS_AT_ONCE):     # bounded temporaries, whatever the dimension
            wrong = np.flatnonzero(~np.isfinite(flat[lo:lo + FLOATS_AT_ONCE]))
            bad[at + (lo + wrong) // vectors.shape[1]] = True
    each(out, bad, lambda i: warning("amem.vector_nonfinite", "vector holds NaN or infinity", f"vectors[{i}]",
                                     doc.offset_of(f"vectors[{i}]")))


def _check_indexes(doc: AgenticDocument, out: Findings, strictly, terms: TermCollector | None) -> None:
    entries = doc.index_entries
    tags = [t for t, *_ in entries]
    tail = doc.parsed.placed["index"].tail
    if tail is not None and tail.length >= field_offset(agentic.index_entry, "body"):
        tag = doc.data[tail.offset]
        name = agentic.INDEX_NAMES.get(tag, f"tag {tag}")
        lost = tag == agentic.TAG_CLUSTER        # the one index nothing can rebuild
        out.add((error if lost else warning)(
            "amem.index_truncated", f"the {name} entry at {tail.offset} runs past the end of the file: upstream "
            "stops reading there, so it and every later entry are absent" +
            (" (the cluster map cannot be rebuilt)" if lost else " (the nodes are intact; upstream rebuilds indexes)"),
            "index.tail", tail.offset))
    elif tail is not None:
        out.add(strictly("amem.trailing_bytes", f"{tail.length} bytes after the last index entry", "index.tail",
                         tail.offset))
    for k, (tag, at, length, _) in enumerate(entries):
        if tag not in agentic.INDEX_BODIES:
            out.add(warning("amem.unknown_index_tag", f"unknown index tag {tag} ({length} bytes): skipped, "
                            "kept on dump", f"index[{k}].tag", at))
        elif tags.count(tag) > 1 and tags.index(tag) != k:
            out.add(warning("amem.duplicate_index_tag", f"tag {tag} appears again (the later copy wins upstream)",
                            f"index[{k}].tag", at))
    for tag in (*REBUILT, agentic.TAG_CLUSTER):
        if tag not in tags:
            out.add(warning("amem.index_missing", f"no {agentic.INDEX_NAMES[tag]} (tag {tag}); the writer always "
                            "writes it", "index", doc.index_offset))
    if doc.node_count:
        for tag in (agentic.TAG_TERMS, agentic.TAG_DOC_LENGTHS):
            if tag not in tags:
                out.add(info("amem.index_missing", f"no {agentic.INDEX_NAMES[tag]} (tag {tag}): written by 0.2+ "
                             "writers only; BM25 search has no index", "index", doc.index_offset))
    known = [t for t in tags if t in agentic.INDEX_BODIES]
    if known != sorted(known):
        out.add(info("amem.index_order", f"index tags in order {tags}, the writer writes them ascending", "index",
                     doc.index_offset))
    for tag in REBUILT:
        if doc.stored_body(tag) is not None and not doc.index_consistent(tag):
            _explain_index(doc, out, strictly, tag, None)
    _check_clusters(doc, out)
    if terms is not None:
        for tag, expected in ((agentic.TAG_TERMS, terms.term_index_pieces),
                              (agentic.TAG_DOC_LENGTHS, lambda: [terms.doc_lengths_body()])):
            stored = doc.stored_body(tag)
            if stored is None:
                continue
            if tag == agentic.TAG_DOC_LENGTHS and not _dense_count_agrees(doc, out, strictly):
                continue        # never build a dense table the stored one does not already size
            try:
                if matches(stored, expected()):
                    if tag == agentic.TAG_TERMS:
                        _long_terms(doc, out, terms)
                    continue
                want = b"".join(expected())
            except FormatError:
                continue        # ids too large for a dense doc-lengths table: nothing to compare
            _explain_index(doc, out, strictly, tag, want)


def _dense_count_agrees(doc: AgenticDocument, out: Findings, strictly) -> bool:
    """Tag 6 is dense by id (count = max id + 1): its expected body is only built when the stored
    one has that count, so a large id costs a finding, not a large allocation."""
    value, _, start = doc.index_body(agentic.TAG_DOC_LENGTHS)
    if value is None:
        _explain_index(doc, out, strictly, agentic.TAG_DOC_LENGTHS, None)
        return False
    want = int(doc.ids.max()) + 1 if doc.node_count else 0
    if value.count != want:
        out.add(strictly("amem.doc_lengths_mismatch", f"doc_lengths disagrees with the contents: count {value.count}, "
                         f"max node id + 1 is {want}", "indexes.doc_lengths.count", start))
        return False
    return True


def _long_terms(doc: AgenticDocument, out: Findings, terms: TermCollector) -> None:
    for term, size in terms.long_terms()[:out.cap]:
        out.add(warning("amem.term_length_wrapped", f"the {size}-byte term {term[:20]!r}... does not fit its u16 "
                        f"length: written (as upstream writes it) with length {size % (1 << 16)}, so upstream's reader "
                        "cannot parse the term index and searches without one (it is rebuilt on the next save)",
                        "indexes.term_index", doc.index_body(agentic.TAG_TERMS)[2]))


def _named_ids(tag: int, value) -> np.ndarray:
    """The node ids an index body names."""
    if tag == agentic.TAG_TYPE:
        parts = [np.asarray(g.node_ids) for g in value.groups]
    elif tag == agentic.TAG_SESSION:
        parts = [np.asarray(s.node_ids) for s in value.sessions]
    elif tag == agentic.TAG_CLUSTER:
        parts = [np.asarray(c.node_ids) for c in value.clusters]
    elif tag == agentic.TAG_TEMPORAL:
        parts = [np.asarray(value.entries.node_id)]
    elif tag == agentic.TAG_TERMS:
        parts = [np.asarray(t.postings.node_id) for t in value.terms]
    else:
        parts = []
    return np.concatenate(parts).astype(np.uint64) if parts else np.zeros(0, np.uint64)


def _explain_index(doc: AgenticDocument, out: Findings, strictly, tag: int, want: bytes | None) -> None:
    """A stored body that is not what a writer stores: parse it and say how it differs."""
    name = agentic.INDEX_NAMES[tag]
    value, err, start = doc.index_body(tag)
    if err is not None:     # upstream rebuilds or (tags 5/6) silently drops an index it cannot parse
        out.add(warning(err.code, f"{err.message} (upstream {'drops' if tag > agentic.TAG_CLUSTER else 'rebuilds'} "
                        "this index)", f"indexes.{name}" + (f".{err.path}" if err.path != name else ""), err.offset))
    if value is None:
        return
    dangling = np.setdiff1d(_named_ids(tag, value), doc.ids)
    if len(dangling):
        out.add(error("amem.index_dangling", f"{name} names {len(dangling)} node ids that no node has "
                      f"(e.g. {dangling[:5].tolist()}): a node id was lost or changed", f"indexes.{name}", start))
    expected = None if want is None else parse_value(agentic.INDEX_BODIES[tag], want, 0, name)[0]
    for problem in _mismatches(doc, tag, value, expected)[:out.cap]:
        code = "amem.index_mismatch" if tag in REBUILT else \
            ("amem.term_index_mismatch" if tag == agentic.TAG_TERMS else "amem.doc_lengths_mismatch")
        out.add(strictly(code, f"{name} disagrees with the node records: {problem} (upstream rebuilds it on "
                         "load)" if tag in REBUILT else f"{name} disagrees with the contents: {problem}",
                         f"indexes.{name}", start))


def _mismatches(doc: AgenticDocument, tag: int, value, expected) -> list[str]:
    ids = doc.ids
    if tag == agentic.TAG_TYPE:
        got = {int(g.event_type): np.asarray(g.node_ids).tolist() for g in value.groups}
        types = doc.nodes["event_type"]
        want = {int(t): np.sort(ids[types == t]).tolist() for t in np.unique(types)}
        bad = [f"{EVENT_NAMES.get(t, t)}: stored {got.get(t)}, nodes say {want.get(t)}"
               for t in sorted(set(got) | set(want)) if got.get(t) != want.get(t)]
        order = [int(g.event_type) for g in value.groups]
        return bad + (["groups not in ascending type order"] if order != sorted(order) else [])
    if tag == agentic.TAG_SESSION:
        got = {int(s.session_id): np.asarray(s.node_ids).tolist() for s in value.sessions}
        sess = doc.nodes["session_id"]
        want = {int(s): np.sort(ids[sess == s]).tolist() for s in np.unique(sess)}
        return [f"session {s}: stored {got.get(s)}, nodes say {want.get(s)}"
                for s in sorted(set(got) | set(want)) if got.get(s) != want.get(s)]
    if tag == agentic.TAG_TEMPORAL:
        times = doc.nodes["created_at"]
        order = np.lexsort((ids, times))
        got = np.stack([value.entries.created_at, value.entries.node_id], axis=1) if value.n else np.zeros((0, 2))
        want = np.stack([times[order], ids[order]], axis=1)
        if len(got) != len(want):
            return [f"{len(got)} entries, {len(want)} nodes"]
        return [f"entry {k}: stored {got[k].tolist()}, nodes say {want[k].tolist()}"
                for k in np.flatnonzero((got != want).any(axis=1))[:20].tolist()]
    if tag == agentic.TAG_TERMS:
        bad = [f"{key} {value[key]}, contents give {expected[key]}" for key in ("doc_count", "term_count")
               if value[key] != expected[key]]
        if np.float32(value.avg_doc_length).tobytes() != np.float32(expected.avg_doc_length).tobytes():
            bad.append(f"avg_doc_length {value.avg_doc_length}, contents give {expected.avg_doc_length}")
        stored = [bytes(t.term) for t in value.terms]
        if stored != sorted(stored):
            bad.append("terms are not sorted by UTF-8 bytes")
        got = {bytes(t.term): np.asarray(t.postings).tobytes() for t in value.terms}
        want = {bytes(t.term): np.asarray(t.postings).tobytes() for t in expected.terms}
        return bad + [f"term {t.decode('utf-8', 'replace')!r}: postings differ" if t in got and t in want else
                      f"term {t.decode('utf-8', 'replace')!r} {'missing' if t in want else 'not in any content'}"
                      for t in sorted(set(got) | set(want)) if got.get(t) != want.get(t)]
    got, want = np.asarray(value.length), np.asarray(expected.length)       # doc lengths
    if len(got) != len(want):
        return [f"count {len(got)}, max node id + 1 is {len(want)}"]
    return [f"length[{i}] = {int(got[i])}, the content has {int(want[i])} tokens"
            for i in np.flatnonzero(got != want)[:20].tolist()]


def _check_clusters(doc: AgenticDocument, out: Findings) -> None:
    value, err, start = doc.index_body(agentic.TAG_CLUSTER)
    if err is not None:
        sev = error if err.code == "amem.index_corrupt" else warning     # clusters cannot be rebuilt
        out.add(sev(err.code, err.message, "indexes.cluster_map" + (f".{err.path}" if err.path != "cluster_map"
                                                                    else ""), err.offset))
    if value is None:
        return
    if value.dimension != doc.header.dimension:
        out.add(warning("amem.cluster_dimension", f"cluster map dimension {value.dimension}, header "
                        f"{doc.header.dimension}", "indexes.cluster_map.dimension",
                        start + field_offset(agentic.cluster_map, "dimension")))
    for c, cl in enumerate(value.clusters):
        missing = np.setdiff1d(np.asarray(cl.node_ids, np.uint64), doc.ids)
        if len(missing):
            out.add(error("amem.cluster_dangling", f"cluster {c} names node ids no node has: "
                          f"{missing[:10].tolist()}", f"indexes.cluster_map.clusters[{c}]", start))
