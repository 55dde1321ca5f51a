"""A loaded spec-v1 `.amem` file (AMEM.md Part 1): tables, the content frame, indexes, checks, queries."""

from __future__ import annotations

import json
from functools import cached_property

import numpy as np
from construct import Container

from ...budget import BudgetExceeded
from ...dtypes import floats
from ...errors import Finding, FormatError
from ...jsonify import Stream, materialize
from ...parsing import build, locate, parse
from ...registry import Detection
from ...timestamps import stamp
from ...walker import parse_value
from . import queries, spec_v1
from .agentic_store import EDGE_NAMES, EVENT_NAMES, enum_name, f32, ints, pairs
from .compression import decompress_frame, over_budget
from .detect import SPEC_V1, spec_problems
from .model import US_PER_S, Cluster, Edge, Model, Node
from .tables import AmemTables

EVENT_TYPES = {v: k for k, v in EVENT_NAMES.items()}


class SpecDocument(AmemTables):
    """Fields: `header`, `nodes`/`edges` (numpy record views), `vectors` (N × dimension f32 view),
    `indexes` (list of (index_type, offset, length, parsed value)), raw content block."""

    node_decl = spec_v1.node_record
    edge_decl = spec_v1.edge_record

    def __init__(self, detection: Detection, data, source: str = ""):
        super().__init__(detection, data, source)
        if len(data) < spec_v1.HEADER_SIZE:
            raise FormatError(f"file is {len(data)} bytes, the header needs {spec_v1.HEADER_SIZE}", "header", 0,
                              "amem.truncated")
        self.header = h = parse(spec_v1.header, data, 0, "header", spec_v1.HEADER_SIZE)
        self.node_table_offset = spec_v1.HEADER_SIZE
        self.edge_table_offset = self.node_table_offset + spec_v1.NODE_SIZE * h.node_count
        self.nodes = self._table(spec_v1.node_record, self.node_table_offset, h.node_count, "nodes")
        self.edges = self._table(spec_v1.edge_record, self.edge_table_offset, h.edge_count, "edges")
        if h.content_offset + h.content_length > len(data):
            raise FormatError(f"content block [{h.content_offset}, {h.content_offset + h.content_length}) runs past "
                              f"the end of the {len(data)}-byte file", "header.content_length",
                              locate(spec_v1.header, h, "content_length"), "amem.truncated")
        try:
            flat = floats(data, h.vector_offset, h.node_count * h.dimension, "vectors")
        except FormatError as exc:
            raise FormatError(exc.message, "vectors", exc.offset, "amem.truncated") from None
        self.vectors = flat.reshape(h.node_count, h.dimension)
        self.fields = Container(header=h, nodes=self.nodes, edges=self.edges, vectors=self.vectors)

    @cached_property
    def ids(self) -> np.ndarray:
        return np.arange(self.node_count, dtype=np.uint32)

    # -- content ---------------------------------------------------------------------------
    @property
    def compressed(self) -> bool:
        return bool(self.header.flags & spec_v1.FLAG_COMPRESSED)

    def raw_content(self) -> bytes:
        h = self.header
        return bytes(self.data[h.content_offset:h.content_offset + h.content_length])

    @cached_property
    def block(self) -> bytes:
        """The decompressed content block (capped by content_uncompressed)."""
        h = self.header
        raw = self.raw_content()
        if not self.compressed:
            return raw
        return decompress_frame(raw, h.content_uncompressed, "content", h.content_offset, self.meter)

    def _slice(self, i: int, offset: int, length: int, what: str) -> bytes:
        """Node `i`'s content or metadata; its length is charged to the file's budget (once per
        node, however many nodes point at the same bytes)."""
        block = self.block
        if offset + length > len(block):
            raise FormatError(f"{what} [{offset}, {offset + length}) is outside the {len(block)}-byte decompressed "
                              "content block", f"nodes[{i}].{what}_offset", self.node_offset(i, f"{what}_offset"),
                              "amem.content_out_of_bounds")
        try:
            self.meter.charge(length, f"nodes[{i}].{what}_offset", self.node_offset(i, f"{what}_offset"),
                              key=(what, i), what=what)
        except BudgetExceeded as exc:
            raise over_budget(exc) from None
        return block[offset:offset + length]

    def content(self, i: int) -> str:
        r = self.nodes[i]
        raw = self._slice(i, int(r["content_offset"]), int(r["content_length"]), "content")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"content is not UTF-8: {exc.reason}", f"nodes[{i}].content_offset",
                              self.node_offset(i, "content_offset"), "amem.bad_utf8") from None

    def metadata(self, i: int) -> dict | None:
        r = self.nodes[i]
        if int(r["metadata_offset"]) == spec_v1.NO_OFFSET:
            return None
        raw = self._slice(i, int(r["metadata_offset"]), int(r["metadata_length"]), "metadata")
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise FormatError(f"metadata is not JSON: {exc}", f"nodes[{i}].metadata_offset",
                              self.node_offset(i, "metadata_offset"), "amem.bad_metadata") from None
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise FormatError("metadata is not a flat object of strings", f"nodes[{i}].metadata_offset",
                              self.node_offset(i, "metadata_offset"), "amem.bad_metadata")
        return value

    def vector(self, i: int) -> np.ndarray | None:
        return None if int(self.nodes[i]["vector_offset"]) == spec_v1.NO_OFFSET else self.vectors[i]

    # -- indexes ---------------------------------------------------------------------------
    @property
    def index_offset(self) -> int:
        return self.header.index_offset

    @cached_property
    def index_scan(self) -> tuple[list[tuple[int, int, int, Container]], FormatError | None]:
        """Indexes in file order as (index_type, offset, length, value), and why the scan stopped early
        (an unknown type cannot be skipped: there is no length field)."""
        out = []
        if not self.header.flags & spec_v1.FLAG_INDEXES:
            return out, None
        pos, end = self.index_offset, len(self.data)
        ctx = {"bitset_size": (self.node_count + 7) // 8, "node_count": self.node_count}
        while pos < end:
            if end - pos < 4:
                return out, FormatError(f"{end - pos} bytes after the last index", "indexes", pos,
                                        "amem.trailing_bytes")
            kind = parse(spec_v1.index_kind, self.data, pos, "indexes").index_type
            decl = spec_v1.INDEX_BODIES.get(kind)
            if decl is None:
                return out, FormatError(f"unknown index_type {kind}: without a length field the rest "
                                        f"({end - pos} bytes) cannot be skipped", f"indexes[{len(out)}].index_type",
                                        pos, "amem.unknown_index_type")
            try:
                value, after = parse_value(decl, self.data, pos, f"indexes[{len(out)}]", **ctx)
                used = after - pos
            except FormatError as exc:
                return out, FormatError(exc.message, exc.path, exc.offset, "amem.index_corrupt")
            out.append((kind, pos, used, value))
            pos += used
        return out, None

    def index_value(self, kind: int):
        found = [v for k, _, _, v in self.index_scan[0] if k == kind]
        return found[0] if found else None

    def _bits(self, kind_value, t: int) -> np.ndarray:
        raw = np.frombuffer(bytes(kind_value.bitsets[t]), np.uint8)
        return np.unpackbits(raw, bitorder="little")[: self.node_count].astype(bool)

    def index_mismatches(self, kind: int, value) -> list[str]:
        types, sess, ts = self.nodes["event_type"], self.nodes["session"], self.nodes["timestamp"]
        n = self.node_count
        bad = []
        if kind == spec_v1.TYPE_INDEX:
            if value.num_types != 6:
                bad.append(f"num_types {value.num_types}, expected 6")
            for t in range(min(value.num_types, 6)):
                diff = np.nonzero(self._bits(value, t) != (types == t))[0]
                if len(diff):
                    bad.append(f"{EVENT_NAMES[t]} bitset disagrees for nodes {diff[:10].tolist()}")
            if n % 8:
                for t, bits in enumerate(value.bitsets):
                    if bytes(bits)[-1] >> (n % 8):
                        bad.append(f"bitset {t}: unused high bits set")
        elif kind == spec_v1.SESSION_INDEX:
            seen = set()
            for s in value.sessions:
                ids = np.nonzero(sess == s.session_id)[0]
                want = (int(ids[0]), int(ids[-1])) if len(ids) else None
                if want != (s.start_node, s.end_node) or (len(ids) and ids[-1] - ids[0] + 1 != len(ids)):
                    bad.append(f"session {s.session_id}: range {s.start_node}..{s.end_node}, nodes are "
                               f"{ids[:10].tolist()}")
                seen.add(s.session_id)
            missing = sorted(set(np.unique(sess).tolist()) - seen)
            if missing:
                bad.append(f"sessions {missing[:10]} have no range")
            if [s.session_id for s in value.sessions] != sorted(seen):
                bad.append("sessions not ascending")
        elif kind == spec_v1.TIME_INDEX:
            order = np.lexsort((np.arange(n), ts))
            want = [(int(ts[i]), int(i)) for i in order]
            got = [tuple(p) for p in pairs(value.entries.timestamp, value.entries.node_id)]
            if len(got) != len(want):
                bad.append(f"{len(got)} entries, {n} nodes")
            bad += [f"entry {k}: stored {g}, nodes say {w}" for k, (g, w) in enumerate(zip(got, want)) if g != w][:20]
        elif kind == spec_v1.CLUSTER_MAP:
            assigned = [tuple(p) for p in pairs(value.assignments.cluster_id, value.assignments.node_id)]
            if assigned != sorted(assigned):
                bad.append("assignments not sorted by (cluster_id, node_id)")
            if sorted(i for _, i in assigned) != list(range(n)):
                bad.append("assignments do not name every node exactly once")
            if any(c >= value.num_clusters for c, _ in assigned):
                bad.append("assignment to a cluster id >= num_clusters")
            if value.dimension != self.header.dimension:
                bad.append(f"dimension {value.dimension}, header {self.header.dimension}")
        return bad

    def index_consistent(self, kind: int) -> bool:
        value = self.index_value(kind)
        return value is not None and not self.index_mismatches(kind, value)

    # -- queries ---------------------------------------------------------------------------
    def by_type(self, event_type: int | str) -> np.ndarray:
        t = EVENT_TYPES.get(event_type, event_type) if isinstance(event_type, str) else event_type
        if 0 <= t < 6 and self.index_consistent(spec_v1.TYPE_INDEX):
            return np.nonzero(self._bits(self.index_value(spec_v1.TYPE_INDEX), t))[0].astype(np.uint32)
        return queries.select(self.ids, self.nodes["event_type"], t)

    def by_session(self, session_id: int) -> np.ndarray:
        if self.index_consistent(spec_v1.SESSION_INDEX):
            for s in self.index_value(spec_v1.SESSION_INDEX).sessions:
                if s.session_id == session_id:
                    return np.arange(s.start_node, s.end_node + 1, dtype=np.uint32)
            return np.zeros(0, np.uint32)
        return queries.select(self.ids, self.nodes["session"], session_id)

    def in_time_range(self, start: int | None = None, end: int | None = None) -> np.ndarray:
        """Node ids with start <= timestamp <= end (seconds), in time order."""
        if self.index_consistent(spec_v1.TIME_INDEX):
            entries = self.index_value(spec_v1.TIME_INDEX).entries
            return queries.sorted_range(entries.timestamp, entries.node_id, start, end)
        return queries.time_range(self.ids, self.nodes["timestamp"], start, end)

    def similar(self, query, k: int = 10) -> list[tuple[int, float]]:
        present = self.nodes["vector_offset"] != spec_v1.NO_OFFSET
        return queries.top_k(self.ids[present], self.vectors[present], query, k)

    # -- model / bytes ---------------------------------------------------------------------
    def to_model(self) -> Model:
        nodes = []
        for i, r in enumerate(self.nodes):
            v = self.vector(i)
            nodes.append(Node(content=self.content(i), event_type=int(r["event_type"]), session_id=int(r["session"]),
                              confidence=f32(r["confidence"]), created_at=int(r["timestamp"]) * US_PER_S,
                              metadata=self.metadata(i), vector=None if v is None else np.array(v)))
        edges = [Edge(int(e["source"]), int(e["target"]), int(e["edge_type"]), f32(e["weight"])) for e in self.edges]
        clusters = []
        cm = self.index_value(spec_v1.CLUSTER_MAP)
        if cm is not None:
            clusters = [Cluster(np.asarray(c, "<f4"), []) for c in cm.centroids]
            for cid, nid in pairs(cm.assignments.cluster_id, cm.assignments.node_id):
                if cid < len(clusters):
                    clusters[cid].node_ids.append(nid)
        return Model(dimension=self.header.dimension, nodes=nodes, edges=edges, clusters=clusters)

    def is_tiled(self) -> bool:
        return not spec_problems(self.data)

    def build(self) -> bytes:
        """The file from its parts (header, tables, raw content block, vectors, raw index bytes)."""
        if not self.is_tiled():
            return bytes(self.data)
        h = self.header
        return b"".join([build(spec_v1.header, h, "header"), self.nodes.tobytes(), self.edges.tobytes(),
                         self.raw_content(), self.vectors.tobytes(), bytes(self.data[h.index_offset:])])

    # -- JSON ------------------------------------------------------------------------------
    def node_json(self, i: int) -> dict:
        r = self.nodes[i]
        out = {"id": i, "event_type": enum_name(EVENT_NAMES, r["event_type"]), "session": int(r["session"]),
               "confidence": f32(r["confidence"]), "timestamp": int(r["timestamp"])}
        for k in ("content_offset", "content_length", "vector_offset", "metadata_offset", "metadata_length"):
            out[k] = int(r[k])
        for k in ("padding", "reserved"):
            out[f"{k}_hex"] = r[k].tobytes().hex()
        for k, fn in (("content", self.content), ("metadata", self.metadata)):
            try:
                out[k] = fn(i)
            except FormatError as exc:
                out[k], out[f"{k}_error"] = None, str(exc)
        v = self.vectors[i]
        out["vector"] = None if self.vector(i) is None else [float(x) for x in v]
        out["vector_all_zero"] = not v.any()
        return out

    def index_json(self) -> dict:
        entries, stop = self.index_scan
        out: dict = {"index_offset": self.index_offset, "index_types": [k for k, *_ in entries],
                     "entries": [{"index_type": k, "offset": at, "length": n} for k, at, n, _ in entries]}
        for kind, _, _, v in entries:
            name = spec_v1.INDEX_NAMES[kind]
            if kind == spec_v1.TYPE_INDEX:
                out[name] = {EVENT_NAMES.get(t, str(t)): np.nonzero(self._bits(v, t))[0].tolist()
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
            out["unparsed_length"] = len(self.data) - (stop.offset or 0)
        return out

    def to_json(self) -> dict:
        return materialize(self.json_stream())

    def json_stream(self) -> dict:
        """`to_json` with the nodes (and their contents) produced one at a time while written."""
        h = self.header
        return {"format": "amem", "layout": SPEC_V1, "variant": SPEC_V1,
                "header": {k: (bytes(v).hex() if isinstance(v, bytes) else v) for k, v in h.items()
                           if not k.startswith("_")},
                "nodes": Stream(self.node_json(i) for i in range(self.node_count)),
                "edges": [{"source": int(e["source"]), "target": int(e["target"]),
                           "edge_type": enum_name(EDGE_NAMES, e["edge_type"]), "weight": f32(e["weight"])}
                          for e in self.edges],
                "indexes": self.index_json(),
                "findings": [f.to_json() for f in self.check()]}

    def summary(self) -> list[str]:
        h = self.header
        n = self.nodes
        lines = [f"spec-v1 layout, version {h.version}, dimension {h.dimension}, flags {h.flags:#x}: "
                 f"{h.node_count} nodes, {h.edge_count} edges, {h.session_count} sessions, {len(self.data)} bytes"]
        if self.node_count:
            types, counts = np.unique(n["event_type"], return_counts=True)
            lines.append("event types: " + ", ".join(f"{EVENT_NAMES.get(int(t), int(t))} {c}"
                                                       for t, c in zip(types, counts)))
            sess, counts = np.unique(n["session"], return_counts=True)
            lines.append(f"sessions ({len(sess)}): " + ", ".join(f"{int(s)}: {c}" for s, c in
                                                                 list(zip(sess, counts))[:10]))
            lines.append(f"time span: {stamp(n['timestamp'].min())} .. {stamp(n['timestamp'].max())}")
        health = [f"{spec_v1.INDEX_NAMES[k]} ({length} B) {'ok' if self.index_consistent(k) else 'disagrees'}"
                  for k, _, length, _ in self.index_scan[0]]
        if self.index_scan[1] is not None:
            health.append(f"stopped: {self.index_scan[1].message}")
        lines.append("indexes: " + ("; ".join(health) if health else "none"))
        return lines

    def check(self, strict: bool = False) -> list[Finding]:
        from .spec_checks import check_spec
        return check_spec(self, strict)


def load_spec(data, detection: Detection, name: str = "") -> SpecDocument:
    return SpecDocument(Detection("amem", SPEC_V1, detection.description), data, name)



