"""A loaded agentic-memory `.amem` file: zero-copy tables, lazy content, indexes, checks, queries."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from construct import Container

from ...budget import BudgetExceeded, SpanCache
from ...dtypes import floats
from ...errors import Finding, FormatError
from ...jsonify import Stream, materialize
from ...parsing import build, parse
from ...registry import Detection
from ...walker import parse_value
from . import agentic, queries
from .agentic import EDGE_TYPES, EVENT_TYPES, INDEX_BODIES, INDEX_NAMES
from .compression import decompress_block, over_budget
from .detect import AGENTIC, agentic_problems
from .model import Cluster, Edge, Model, Node
from .tables import AmemTables
from .tokenizer import term_frequencies

EVENT_NAMES = {v: k for k, v in EVENT_TYPES.items()}
EDGE_NAMES = {v: k for k, v in EDGE_TYPES.items()}


def f32(x) -> float:
    return float(np.float32(x))


def ints(values) -> list:
    """Plain Python ints of a numpy array or a list."""
    return values.tolist() if hasattr(values, "tolist") else [int(v) for v in values]


def pairs(a, b) -> list[list]:
    return [list(p) for p in zip(ints(a), ints(b))]


def enum_name(names: dict, value: int):
    return names.get(int(value), int(value))


class AgenticDocument(AmemTables):
    """Fields: `header` (Container), `nodes`/`edges` (numpy record views with the declared field
    names), `vectors` (node_count × dimension f32 view), `index` (TLV entries + trailing bytes)."""

    node_decl = agentic.node_record
    edge_decl = agentic.edge_record

    def __init__(self, detection: Detection, data, source: str = ""):
        super().__init__(detection, data, source)
        if len(data) < agentic.HEADER_SIZE:
            raise FormatError(f"file is {len(data)} bytes, the header needs {agentic.HEADER_SIZE}", "header", 0,
                              "amem.truncated")
        self.header = h = parse(agentic.header, data, 0, "header", agentic.HEADER_SIZE)
        self.node_table_offset, self.edge_table_offset = h.node_table_offset, h.edge_table_offset
        self.nodes = self._table(agentic.node_record, h.node_table_offset, h.node_count, "nodes")
        self.edges = self._table(agentic.edge_record, h.edge_table_offset, h.edge_count, "edges")
        count = h.node_count * h.dimension
        try:
            flat = floats(data, h.feature_vec_offset, count, "vectors")
        except FormatError as exc:
            raise FormatError(exc.message, "vectors", exc.offset, "amem.truncated") from None
        self.vectors = flat.reshape(h.node_count, h.dimension)
        self.index_offset = h.feature_vec_offset + 4 * count
        self.index = parse(agentic.index_block, data, self.index_offset, "index")
        self.fields = Container(header=h, nodes=self.nodes, edges=self.edges, vectors=self.vectors, index=self.index)
        self._texts = SpanCache()    # decoded contents by blob span: nodes sharing a blob decode it once
        self._bodies: dict[int, tuple] = {}
        self._consistent: dict[int, bool] = {}

    # -- records ---------------------------------------------------------------------------
    @cached_property
    def ids(self) -> np.ndarray:
        return self.nodes["id"]

    # -- content (lazy, capped) -------------------------------------------------------------
    def blob_span(self, i: int) -> tuple[int, int]:
        rec = self.nodes[i]
        start = self.header.content_block_offset + int(rec["content_offset"])
        return start, int(rec["content_length"])

    def blob(self, i: int) -> bytes:
        """The stored blob of node `i` (u32 size + LZ4 block), exactly as in the file."""
        start, length = self.blob_span(i)
        if start + length > len(self.data):
            raise FormatError(f"blob of {length} bytes at {start} runs past the end of the {len(self.data)}-byte "
                              "file", f"nodes[{i}].content_length", self.node_offset(i, "content_length"),
                              "amem.content_out_of_bounds")
        return bytes(self.data[start:start + length])

    def content_bytes(self, i: int) -> bytes:
        """Node `i`'s decoded content; its declared size is charged to the file's budget first
        (once per node, whether or not other nodes share the blob)."""
        start, length = self.blob_span(i)
        if length == 0:
            return b""
        blob = self.blob(i)
        if length < 4:
            raise FormatError(f"blob of {length} bytes has no u32 size prefix", f"nodes[{i}].content_length",
                              self.node_offset(i, "content_length"), "amem.bad_lz4")
        parsed = parse(agentic.content_blob, blob, 0, f"content[{i}]")
        return decompress_block(parsed.block, parsed.uncompressed_size, f"content[{i}]", start, self.meter,
                                key=("content", i))

    def content(self, i: int) -> str:
        span = self.blob_span(i)
        cached = self._texts.get(span)
        if cached is not None:
            text, size = cached
            try:    # a node whose blob another node decoded still counts its own bytes
                self.meter.charge(size, f"content[{i}]", span[0], key=("content", i), what="LZ4 block")
            except BudgetExceeded as exc:
                raise over_budget(exc) from None
            return text
        raw = self.content_bytes(i)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"content is not UTF-8: {exc.reason} at byte {exc.start}", f"content[{i}]",
                              span[0], "amem.bad_utf8") from None
        self._texts.put(span, (text, len(raw)), len(raw))
        return text

    def uncompressed_length(self, i: int) -> int | None:
        start, length = self.blob_span(i)
        if length < 4 or start + 4 > len(self.data):
            return None
        return parse(agentic.content_blob, self.data, start, f"content[{i}]", 4).uncompressed_size

    def vector(self, i: int) -> np.ndarray | None:
        v = self.vectors[i]
        return None if not v.any() else v

    # -- indexes ---------------------------------------------------------------------------
    @cached_property
    def index_entries(self) -> list[tuple[int, int, int, bytes]]:
        """(tag, absolute offset of the tag byte, body length, body) in file order."""
        out, at = [], self.index_offset
        for e in self.index.entries:
            out.append((e.tag, at, e.length, e.body))
            at += agentic.ENTRY_HEAD + e.length
        return out

    @cached_property
    def index_bodies(self) -> dict[int, tuple[Container | None, FormatError | None, int]]:
        """tag -> (parsed body of the last copy that parses, error of the last failing copy, offset)."""
        return {tag: self.index_body(tag) for tag in dict.fromkeys(t for t, *_ in self.index_entries)
                if tag in INDEX_BODIES}

    def index_body(self, tag: int) -> tuple[Container | None, FormatError | None, int]:
        """One tag's (value, error, body offset), parsed on first use."""
        if tag not in self._bodies:
            self._bodies[tag] = self._parse_tag(tag)
        return self._bodies[tag]

    def _parse_tag(self, wanted: int):
        out: dict[int, tuple] = {}
        for tag, at, length, body in self.index_entries:
            decl = INDEX_BODIES.get(tag)
            if decl is None or tag != wanted:
                continue
            start = at + agentic.ENTRY_HEAD
            try:
                value, used = parse_value(decl, body, 0, INDEX_NAMES[tag])
                err = None if used == length else FormatError(
                    f"{length - used} bytes after the parsed body", INDEX_NAMES[tag], start + used,
                    "amem.index_body_trailing")
                out[tag] = (value, err, start)
            except FormatError as exc:
                failed = FormatError(exc.message, exc.path, start + (exc.offset or 0), "amem.index_corrupt")
                prev = out.get(tag)
                out[tag] = (prev[0] if prev else None, failed, start)
        return out.get(wanted, (None, None, 0))

    def index_value(self, tag: int):
        return self.index_body(tag)[0]

    def expected_index(self, name: str):
        """Tag 1, 2 or 3 recomputed from the node records (what a correct writer stores)."""
        ids = self.ids
        if name == "type_index":
            types = self.nodes["event_type"]
            return {int(t): np.sort(ids[types == t]).tolist() for t in np.unique(types)}
        if name == "session_index":
            sess = self.nodes["session_id"]
            return {int(s): np.sort(ids[sess == s]).tolist() for s in np.unique(sess)}
        times = self.nodes["created_at"]
        order = np.lexsort((ids, times))
        return pairs(times[order], ids[order])

    def index_consistent(self, tag: int) -> bool:
        if tag not in self._consistent:
            value = self.index_value(tag)
            self._consistent[tag] = value is not None and not self._index_mismatches(tag, value)
        return self._consistent[tag]

    def _index_mismatches(self, tag: int, value) -> list[str]:
        exp = {agentic.TAG_TYPE: "type_index", agentic.TAG_TEMPORAL: "temporal_index",
               agentic.TAG_SESSION: "session_index"}
        if tag not in exp:
            return []
        exp = {exp[tag]: self.expected_index(exp[tag])}
        if tag == agentic.TAG_TYPE:
            got = {int(g.event_type): ints(g.node_ids) for g in value.groups}
            want = exp["type_index"]
            return [f"{enum_name(EVENT_NAMES, t)}: stored {got.get(t)}, nodes say {want.get(t)}"
                    for t in sorted(set(got) | set(want)) if got.get(t) != want.get(t)] + \
                   (["groups not in ascending type order"] if [int(g.event_type) for g in value.groups] !=
                    sorted(got) else [])
        if tag == agentic.TAG_TEMPORAL:
            got = pairs(value.entries.created_at, value.entries.node_id)
            want = exp["temporal_index"]
            bad = [f"entry {i}: stored {g}, nodes say {w}" for i, (g, w) in enumerate(zip(got, want)) if g != w]
            if len(got) != len(want):
                bad.insert(0, f"{len(got)} entries, {len(want)} nodes")
            return bad
        if tag == agentic.TAG_SESSION:
            got = {int(s.session_id): ints(s.node_ids) for s in value.sessions}
            want = exp["session_index"]
            return [f"session {s}: stored {got.get(s)}, nodes say {want.get(s)}"
                    for s in sorted(set(got) | set(want)) if got.get(s) != want.get(s)]
        return []

    # -- queries ---------------------------------------------------------------------------
    def by_type(self, event_type: int | str) -> np.ndarray:
        t = EVENT_TYPES.get(event_type, event_type) if isinstance(event_type, str) else event_type
        if self.index_consistent(agentic.TAG_TYPE):
            for g in self.index_value(agentic.TAG_TYPE).groups:
                if int(g.event_type) == t:
                    return np.asarray(list(g.node_ids), dtype=np.uint64)
            return np.zeros(0, np.uint64)
        return queries.select(self.ids, self.nodes["event_type"], t)

    def by_session(self, session_id: int) -> np.ndarray:
        if self.index_consistent(agentic.TAG_SESSION):
            for s in self.index_value(agentic.TAG_SESSION).sessions:
                if s.session_id == session_id:
                    return np.asarray(list(s.node_ids), dtype=np.uint64)
            return np.zeros(0, np.uint64)
        return np.sort(queries.select(self.ids, self.nodes["session_id"], session_id))

    def in_time_range(self, start: int | None = None, end: int | None = None) -> np.ndarray:
        """Node ids with start <= created_at <= end (µs), in time order."""
        if self.index_consistent(agentic.TAG_TEMPORAL):
            entries = self.index_value(agentic.TAG_TEMPORAL).entries
            return queries.sorted_range(entries.created_at, entries.node_id, start, end)
        return queries.time_range(self.ids, self.nodes["created_at"], start, end)

    def similar(self, query, k: int = 10) -> list[tuple[int, float]]:
        """Top-k (node id, cosine) over the vectors; all-zero vectors are 'no vector' and skipped."""
        return queries.top_k(self.ids, self.vectors, query, k)

    # -- model -----------------------------------------------------------------------------
    def to_model(self) -> Model:
        nodes = []
        for i, r in enumerate(self.nodes):
            v = self.vector(i)
            nodes.append(Node(content=self.content(i), event_type=int(r["event_type"]),
                              session_id=int(r["session_id"]), confidence=f32(r["confidence"]),
                              created_at=int(r["created_at"]), id=int(r["id"]), access_count=int(r["access_count"]),
                              last_accessed=int(r["last_accessed"]), decay_score=f32(r["decay_score"]),
                              vector=None if v is None else np.array(v)))
        edges = [Edge(int(e["source_id"]), int(e["target_id"]), int(e["edge_type"]), f32(e["weight"]),
                      int(e["created_at"])) for e in self.edges]
        cm = self.index_value(agentic.TAG_CLUSTER)
        clusters = [] if cm is None else [Cluster(np.asarray(c.centroid, "<f4"), ints(c.node_ids))
                                          for c in cm.clusters]
        return Model(dimension=self.header.dimension, nodes=nodes, edges=edges, clusters=clusters)

    def kept_blobs(self) -> list[bytes]:
        return [self.blob(i) for i in range(self.node_count)]

    # -- bytes -----------------------------------------------------------------------------
    def is_tiled(self) -> bool:
        """Sections follow each other exactly as the writer lays them out (no gaps, no overlaps)."""
        h = self.header
        return (not agentic_problems(self.data)) and self.index_offset <= len(self.data) and \
            h.feature_vec_offset >= h.content_block_offset

    def build(self) -> bytes:
        """The file from its parts (header, tables, raw content block, vectors, raw index entries);
        a file whose offsets do not tile it comes back as loaded."""
        if not self.is_tiled():
            return bytes(self.data)
        h = self.header
        content = self.data[h.content_block_offset:h.feature_vec_offset]
        return b"".join([build(agentic.header, h, "header"), self.nodes.tobytes(), self.edges.tobytes(),
                         bytes(content), self.vectors.tobytes(), build(agentic.index_block, self.index, "index")])

    # -- JSON ------------------------------------------------------------------------------
    def node_json(self, i: int) -> dict:
        r = self.nodes[i]
        out = {"id": int(r["id"]), "event_type": enum_name(EVENT_NAMES, r["event_type"]),
               "created_at": int(r["created_at"]), "session_id": int(r["session_id"]),
               "confidence": f32(r["confidence"]), "access_count": int(r["access_count"]),
               "last_accessed": int(r["last_accessed"]), "decay_score": f32(r["decay_score"]),
               "content_offset": int(r["content_offset"]), "content_length": int(r["content_length"])}
        try:
            out["content_uncompressed_length"] = self.uncompressed_length(i)
        except FormatError:
            out["content_uncompressed_length"] = None
        out["edge_offset"] = int(r["edge_offset"])
        out["edge_count"] = int(r["edge_count"])
        try:
            out["content"] = self.content(i)
        except FormatError as exc:
            out["content"] = None
            out["content_error"] = str(exc)
        v = self.vectors[i]
        out["vector_all_zero"] = not v.any()
        out["vector"] = None if out["vector_all_zero"] else [float(x) for x in v]
        for pad in ("padding", "padding_tail"):
            if r[pad].any():
                out[f"{pad}_hex"] = r[pad].tobytes().hex()
        return out

    def edge_json(self, j: int) -> dict:
        e = self.edges[j]
        out = {"source_id": int(e["source_id"]), "target_id": int(e["target_id"]),
               "edge_type": enum_name(EDGE_NAMES, e["edge_type"]), "weight": f32(e["weight"]),
               "created_at": int(e["created_at"])}
        if e["padding"].any():
            out["padding_hex"] = e["padding"].tobytes().hex()
        return out

    def index_json(self) -> dict:
        out: dict = {"index_block_offset": self.index_offset,
                     "tags": [t for t, *_ in self.index_entries],
                     "entries": [{"tag": t, "offset": at, "length": n} for t, at, n, _ in self.index_entries]}
        for tag, (value, _err, _) in self.index_bodies.items():
            if value is not None:
                out[INDEX_NAMES[tag]] = index_body_json(tag, value, self._entry_length(tag))
        out["term_index_loaded"] = self.index_value(agentic.TAG_TERMS) is not None
        out["doc_lengths_loaded"] = self.index_value(agentic.TAG_DOC_LENGTHS) is not None
        if self.index.trailing:
            out["trailing_hex"] = bytes(self.index.trailing).hex()
        return out

    def _entry_length(self, tag: int) -> int:
        return [n for t, _, n, _ in self.index_entries if t == tag][-1]

    def to_json(self) -> dict:
        return materialize(self.json_stream())

    def json_stream(self) -> dict:
        """`to_json` with the nodes (and their contents) produced one at a time while written."""
        return {"format": "amem", "layout": AGENTIC, "variant": AGENTIC,
                "header": {k: (bytes(v).hex() if isinstance(v, bytes) else v)
                           for k, v in self.header.items() if not k.startswith("_")},
                "nodes": Stream(self.node_json(i) for i in range(self.node_count)),
                "edges": [self.edge_json(j) for j in range(len(self.edges))],
                "indexes": self.index_json(),
                "findings": [f.to_json() for f in self.check()]}

    def summary(self) -> list[str]:
        from .checks import summary_lines
        return summary_lines(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .checks import check_agentic
        return check_agentic(self, strict)


def index_body_json(tag: int, value, length: int):
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
                "body_length": length,
                "terms": {bytes(t.term).decode("utf-8", "backslashreplace"): pairs(t.postings.node_id, t.postings.tf)
                          for t in value.terms}}
    if tag == agentic.TAG_DOC_LENGTHS:
        return ints(value.length)
    return None


def expected_terms(doc: AgenticDocument) -> tuple[dict[bytes, list[tuple[int, int]]], dict[int, int], float]:
    """Tags 5/6 recomputed from the decoded contents with the upstream tokenizer."""
    postings: dict[bytes, list[tuple[int, int]]] = {}
    lengths: dict[int, int] = {}
    total = 0
    for i, nid in enumerate(doc.ids.tolist()):
        tf, count = term_frequencies(doc.content(i))
        total += count
        lengths[nid] = count
        for term, n in tf.items():
            postings.setdefault(term.encode("utf-8"), []).append((nid, n))
    n = max(doc.node_count, 1)
    return ({t: sorted(p) for t, p in sorted(postings.items())}, lengths,
            float(np.float32(total) / np.float32(n)))


def load_agentic(data, detection: Detection, name: str = "") -> AgenticDocument:
    return AgenticDocument(Detection("amem", AGENTIC, detection.description), data, name)

