"""A loaded spec-v1 `.amem` file (AMEM.md Part 1): tables, the content frame, indexes, queries.
Checks: `spec_checks`; JSON and summary: `spec_json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cached_property

import numpy as np
from construct import Container

from ...budget import BudgetExceeded, Keys
from ...errors import Finding, FormatError
from ...parsing import parse
from ...registry import Detection
from ...walker import parse_value
from . import queries, spec_v1
from .agentic import EDGE_TYPES, EVENT_TYPES
from .compression import decompress_frame
from .detect import SPEC_V1, spec_problems
from .model import US_PER_S, Cluster, Edge, Model, Node, record_extras
from .spec_indexes import session_ranges, time_entries, type_bitsets
from .tables import AmemTables, pairs

EVENT_NAMES = {v: k for k, v in EVENT_TYPES.items()}
EDGE_NAMES = {v: k for k, v in EDGE_TYPES.items()}
# node fields the model names or the writer derives (the rest travel in Node.extra)
MODELLED_NODE = frozenset({"event_type", "session", "confidence", "timestamp", "content_offset", "content_length",
                           "vector_offset", "metadata_offset", "metadata_length"})
MODELLED_EDGE = frozenset({"source", "target", "edge_type", "weight"})


class SpecDocument(AmemTables):
    """`header`, `nodes`/`edges` (numpy record views), `vectors` (node_count × dimension f32 view),
    `index_scan` (the indexes in file order), the content block decoded on first use."""

    layout = spec_v1.spec_layout
    problems = staticmethod(spec_problems)

    @cached_property
    def ids(self) -> np.ndarray:
        return np.arange(self.node_count, dtype=np.uint32)

    def has_vector(self) -> np.ndarray:
        return self.nodes["vector_offset"] != spec_v1.NO_OFFSET

    # -- content ---------------------------------------------------------------------------
    @property
    def compressed(self) -> bool:
        return bool(self.header.flags & spec_v1.FLAG_COMPRESSED)

    def raw_content(self) -> bytes:
        placed = self.parsed.placed["content"]
        return bytes(self.data[placed.start:placed.end])

    @cached_property
    def block(self) -> bytes:
        """The decompressed content block (capped by content_uncompressed): every content decode
        goes through here."""
        raw = self.raw_content()
        if not self.compressed:
            return raw
        return decompress_frame(raw, self.header.content_uncompressed, "content", self.parsed.placed["content"].start,
                                self.meter)

    def _slice(self, i: int, offset: int, length: int, what: str) -> bytes:
        """Node `i`'s content or metadata; its length is charged to the file's budget (once per
        node, however many nodes point at the same bytes)."""
        block = self.block
        if offset + length > len(block):
            raise FormatError(f"{what} [{offset}, {offset + length}) is outside the {len(block)}-byte decompressed "
                              "content block", f"nodes[{i}].{what}_offset", self.node_offset(i, f"{what}_offset"),
                              "amem.content_out_of_bounds")
        try:
            self.meter.charge(length, f"nodes[{i}].{what}_offset", key=(what, i), what=what)
        except BudgetExceeded as exc:
            raise FormatError(exc.message, exc.path, self.node_offset(i, f"{what}_offset"),
                              "amem.budget_exceeded") from None
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

    def sound(self, *whats: str) -> dict[str, np.ndarray]:
        """For each of `whats` ("content", "metadata"), a mask of the nodes whose slice needs no
        further check: it lies inside the block and starts and ends on character boundaries of a
        block that is UTF-8 as a whole (so the slice is UTF-8 too).  Their lengths are charged to
        the budget at once, or, when they do not all fit, none are sound and the one-by-one path
        says which node is refused.  A node that names no metadata is not sound for "metadata"."""
        block = self.block
        size = len(block)
        cont = (np.frombuffer(block, np.uint8) & 0xC0) == 0x80     # UTF-8 continuation bytes
        whole = block.isascii() or _utf8(block)
        masks, sizes, keys = {}, [], []   # keys: (what, node rows) runs
        for what in whats:
            offset = self.nodes[f"{what}_offset"].astype(np.uint64)
            length = self.nodes[f"{what}_length"].astype(np.uint64)
            ok = (length <= size) & (offset <= np.uint64(size) - length)
            if what == "metadata":
                ok &= offset != spec_v1.NO_OFFSET
            rows = np.flatnonzero(ok)
            start, stop = offset[rows].astype(np.int64), (offset[rows] + length[rows]).astype(np.int64)
            if not whole:
                ok[:] = False
            elif size:
                splits_first = cont[np.minimum(start, size - 1)]
                splits_last = cont[np.minimum(stop, size - 1)] & (stop < size)
                ok[rows[(length[rows] > 0) & (splits_first | splits_last)]] = False
            masks[what] = ok
            sizes.append(length[rows])
            keys.append((what, rows))
        if not self.meter.charge_all(np.concatenate(sizes) if sizes else [], Keys(*keys)):
            return {what: np.zeros(self.node_count, bool) for what in whats}
        return masks

    def contents(self) -> Iterator[str]:
        """Every node's content in record order; FormatError at the first that cannot be read (as
        `content(i)` raises it)."""
        sound = self.sound("content")["content"].tolist()
        block = self.block
        text = block.decode("ascii") if block.isascii() else None    # then byte offsets are str offsets
        offsets = self.nodes["content_offset"].tolist()
        lengths = self.nodes["content_length"].tolist()
        for i, ok, start, length in zip(range(self.node_count), sound, offsets, lengths):
            if not ok:
                yield self.content(i)
            elif text is not None:
                yield text[start:start + length]
            else:
                yield block[start:start + length].decode("utf-8")

    def vector(self, i: int) -> np.ndarray | None:
        return None if int(self.nodes[i]["vector_offset"]) == spec_v1.NO_OFFSET else self.vectors[i]

    # -- indexes ---------------------------------------------------------------------------
    @property
    def index_offset(self) -> int:
        return self.parsed.placed["indexes"].start

    @cached_property
    def index_scan(self) -> tuple[list[tuple[int, int, int, Container]], FormatError | None]:
        """Indexes in file order as (index_type, offset, length, value), and why the section stopped
        early: an unknown type cannot be skipped (there is no length field)."""
        if not self.header.flags & spec_v1.FLAG_INDEXES:
            return [], None
        placed = self.parsed.placed["indexes"]
        out = []
        for k, value in enumerate(placed.value):
            start, stop = placed.record_span(k)
            out.append((int(value.index_type), start, stop - start, value))
        tail = placed.tail
        if tail is None:
            return out, None
        at, path = tail.offset, f"indexes[{len(out)}]"
        if tail.length < spec_v1.index_kind.sizeof():
            return out, FormatError(f"{tail.length} bytes after the last index", "indexes", at, "amem.trailing_bytes")
        kind = parse(spec_v1.index_kind, self.data, at, path).index_type
        decl = spec_v1.INDEX_BODIES.get(kind)
        if decl is None:
            return out, FormatError(f"unknown index_type {kind}: without a length field the rest ({tail.length} "
                                    "bytes) cannot be skipped", f"{path}.index_type", at, "amem.unknown_index_type")
        try:
            parse_value(decl, self.data, at, path, header=self.header)
        except FormatError as exc:
            return out, FormatError(exc.message, exc.path, exc.offset, "amem.index_corrupt")
        return out, FormatError(tail.error.message, path, at, "amem.index_corrupt")

    def index_value(self, kind: int):
        found = [v for k, _, _, v in self.index_scan[0] if k == kind]
        return found[0] if found else None

    def _bits(self, kind_value, t: int) -> np.ndarray:
        raw = np.frombuffer(bytes(kind_value.bitsets[t]), np.uint8)
        return np.unpackbits(raw, bitorder="little")[: self.node_count].astype(bool)

    def index_mismatches(self, kind: int, value) -> list[str]:
        """How an index disagrees with the node records (what a correct writer stores)."""
        n = self.node_count
        types, sess, ts = self.nodes["event_type"], self.nodes["session"], self.nodes["timestamp"]
        bad = []
        if kind == spec_v1.TYPE_INDEX:
            want = type_bitsets(types)
            if value.num_types != len(want):
                bad.append(f"num_types {value.num_types}, expected {len(want)}")
            for t, (got, expected) in enumerate(zip(value.bitsets, want)):
                if bytes(got) != expected:
                    diff = np.flatnonzero(self._bits(value, t) != (types == t))
                    bad.append(f"{EVENT_NAMES[t]} bitset disagrees for nodes {diff[:10].tolist()}"
                               if len(diff) else f"bitset {t}: unused high bits set")
        elif kind == spec_v1.SESSION_INDEX:
            got = [(int(s.session_id), int(s.start_node), int(s.end_node)) for s in value.sessions]
            want = session_ranges(sess)
            if want is None:
                bad.append("a session's nodes are not contiguous ids: no range can state it")
            elif got != want:
                wrong = [g for g in got if g not in want] + [w for w in want if w not in got]
                bad.append(f"session ranges {wrong[:10]} disagree with the nodes")
        elif kind == spec_v1.TIME_INDEX:
            want = time_entries(ts)
            stamps, ids = np.asarray(value.entries.timestamp, np.int64), np.asarray(value.entries.node_id, np.int64)
            if len(stamps) != n:
                bad.append(f"{len(stamps)} entries, {n} nodes")
            k = min(len(stamps), n)
            wrong = np.flatnonzero((stamps[:k] != want["timestamp"][:k]) | (ids[:k] != want["node_id"][:k]))[:20]
            bad += [f"entry {j}: stored {[int(stamps[j]), int(ids[j])]}, nodes say "
                    f"{[int(want['timestamp'][j]), int(want['node_id'][j])]}" for j in wrong.tolist()]
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

    def dangling_entries(self, kind: int, value) -> list[int]:
        """Node ids an index names that are no node (>= node_count)."""
        if kind == spec_v1.SESSION_INDEX:
            named = np.concatenate([value.sessions.start_node, value.sessions.end_node])
        elif kind == spec_v1.TIME_INDEX:
            named = value.entries.node_id
        elif kind == spec_v1.CLUSTER_MAP:
            named = value.assignments.node_id
        else:
            return []
        named = np.asarray(named, np.int64)
        return np.unique(named[named >= self.node_count]).tolist()

    def index_consistent(self, kind: int) -> bool:
        value = self.index_value(kind)
        return value is not None and not self.index_mismatches(kind, value)

    # -- queries ---------------------------------------------------------------------------
    def by_type(self, event_type: int | str) -> np.ndarray:
        t = EVENT_TYPES.get(event_type, event_type) if isinstance(event_type, str) else event_type
        if t in EVENT_NAMES and self.index_consistent(spec_v1.TYPE_INDEX):
            return np.flatnonzero(self._bits(self.index_value(spec_v1.TYPE_INDEX), t)).astype(np.uint32)
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

    # -- model -----------------------------------------------------------------------------
    def to_model(self) -> Model:
        nodes = []
        for i, r in enumerate(self.nodes):
            v = self.vector(i)
            nodes.append(Node(content=self.content(i), event_type=int(r["event_type"]), session_id=int(r["session"]),
                              confidence=float(r["confidence"]), created_at=int(r["timestamp"]) * US_PER_S,
                              metadata=self.metadata(i), vector=None if v is None else np.array(v),
                              extra=record_extras(r, spec_v1.node_record, MODELLED_NODE)))
        edges = [Edge(int(e["source"]), int(e["target"]), int(e["edge_type"]), float(e["weight"]),
                      extra=record_extras(e, spec_v1.edge_record, MODELLED_EDGE)) for e in self.edges]
        clusters = []
        cm = self.index_value(spec_v1.CLUSTER_MAP)
        if cm is not None:
            clusters = [Cluster(np.asarray(c, "<f4"), []) for c in cm.centroids]
            for cid, nid in pairs(cm.assignments.cluster_id, cm.assignments.node_id):
                if cid < len(clusters):
                    clusters[cid].node_ids.append(nid)
        return Model(dimension=self.header.dimension, nodes=nodes, edges=edges, clusters=clusters)

    # -- JSON, summary, checks -------------------------------------------------------------
    def to_json(self) -> dict:
        from .spec_json import spec_json
        return spec_json(self)

    def json_stream(self) -> dict:
        from .spec_json import spec_json
        return spec_json(self, stream=True)

    def summary(self) -> list[str]:
        from .spec_json import spec_summary
        return spec_summary(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .spec_checks import check_spec
        return check_spec(self, strict)


def _utf8(block: bytes) -> bool:
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def load_spec(data, detection: Detection, name: str = "") -> SpecDocument:
    return SpecDocument(Detection("amem", SPEC_V1, detection.description), data, name)
