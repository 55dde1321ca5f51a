"""A loaded agentic-memory `.amem` file: the layout's zero-copy tables, contents decoded on demand
through one method, the index entries (bodies parsed on first use), queries and the model.
Checks: `agentic_checks`; JSON and summary: `agentic_json`."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

import lz4.block
import numpy as np
from construct import Container, Struct

from ...batches import bounded_batches
from ...budget import BudgetExceeded, Keys, SpanCache
from ...dtypes import struct_dtype
from ...errors import Finding, FormatError
from ...registry import Detection
from ...walker import parse_value
from . import agentic, queries
from .agentic import EDGE_TYPES, EVENT_TYPES, INDEX_BODIES, INDEX_NAMES
from .compression import decompress_block, over_budget, plausible, plausible_all
from .detect import AGENTIC, agentic_problems
from .indexes import matches, session_index_body, temporal_index_body, type_index_body
from .model import Cluster, Edge, Model, Node, record_extras
from .tables import AmemTables, ints

EVENT_NAMES = {v: k for k, v in EVENT_TYPES.items()}
EDGE_NAMES = {v: k for k, v in EDGE_TYPES.items()}
DECODE_ROWS = 1 << 14       # nodes whose blob spans are turned into Python ints at a time
DECODE_BATCH = 4 << 20      # and of those, declared content bytes decoded in one batch at most
PREFIX = struct_dtype(Struct(agentic.content_blob.uncompressed_size)).fields["uncompressed_size"][0]
# node fields the model names or the writer derives (the rest travel in Node.extra)
MODELLED_NODE = frozenset({"id", "event_type", "created_at", "session_id", "confidence", "access_count",
                           "last_accessed", "decay_score", "content_offset", "content_length", "edge_offset",
                           "edge_count"})
MODELLED_EDGE = frozenset({"source_id", "target_id", "edge_type", "weight", "created_at"})


class AgenticDocument(AmemTables):
    """`header` (Container), `nodes`/`edges` (numpy record views with the declared field names),
    `vectors` (node_count × dimension f32 view), `index_entries`, contents via `content(i)`."""

    layout = agentic.agentic_layout
    problems = staticmethod(agentic_problems)

    @cached_property
    def ids(self) -> np.ndarray:
        return self.nodes["id"]

    def has_vector(self) -> np.ndarray:
        return np.ones(self.node_count, bool)   # all-zero vectors are "no vector": their norm is 0

    def vector(self, i: int) -> np.ndarray | None:
        v = self.vectors[i]
        return None if not v.any() else v

    # -- content: blobs placed by the `content` view; one method decodes --------------------------
    @cached_property
    def blobs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(absolute start, stored length, u32 size prefix or -1) of every node's blob, int64 arrays
        computed with numpy once: the prefixes are gathered straight from the file."""
        starts, lengths = self.parsed.view_spans("content")
        ok = (lengths >= PREFIX.itemsize) & (starts >= 0) & (starts + lengths <= len(self.data))
        prefixes = np.full(len(starts), -1, np.int64)
        if ok.any():
            raw = np.frombuffer(self.data, np.uint8)
            at = starts[ok][:, None] + np.arange(PREFIX.itemsize)
            prefixes[ok] = raw[at].reshape(-1).view(PREFIX)
        return starts, lengths, prefixes

    def blob_span(self, i: int) -> tuple[int, int]:
        return self.parsed.view_span("content", i)

    def blob(self, i: int) -> bytes:
        """The stored blob of node `i` (u32 size + LZ4 block), exactly as in the file."""
        start, length = self.blob_span(i)
        if start < 0 or start + length > len(self.data):
            raise FormatError(f"blob of {length} bytes at {start} runs past the end of the {len(self.data)}-byte "
                              "file", f"nodes[{i}].content_length", self.node_offset(i, "content_length"),
                              "amem.content_out_of_bounds")
        return bytes(self.data[start:start + length])

    @cached_property
    def _view(self) -> memoryview:
        return memoryview(self.data)

    @cached_property
    def _shared(self) -> SpanCache:
        return SpanCache()    # decoded contents by blob span: nodes sharing a blob decode it once

    @cached_property
    def _shared_starts(self) -> frozenset[int]:
        """Blob starts that more than one node names (none in files the writers make): only their
        decoded contents are cached."""
        starts = np.sort(self.blobs[0])
        return frozenset(starts[1:][starts[1:] == starts[:-1]].tolist())

    def decoded(self, first: int = 0, stop: int | None = None, *,
                failures: bool = False) -> Iterator[bytes | FormatError]:
        """The decoded contents of nodes [first, stop) in record order: every content decode goes
        through here.  Each node's declared size is charged to the file's budget first (once per
        node, whether or not other nodes share its blob; a shared blob is decoded once; the
        well-formed blobs of a chunk of `DECODE_ROWS` nodes are charged together before it).  A
        well-formed blob (inside the file, a plausible size prefix) goes straight to lz4, which
        reads the prefix itself; anything else takes the careful path, which says what is wrong
        with it: raised, or with `failures` yielded in the node's place (validation goes on).
        When every blob of a chunk is well-formed, charged and its own, they are decoded a batch
        of about `DECODE_BATCH` at a time; a batch with a blob lz4 refuses goes node by node."""
        view, decompress, itemsize = self._view, lz4.block.decompress, PREFIX.itemsize
        stop = self.node_count if stop is None else stop
        for chunk in range(first, stop, DECODE_ROWS):          # plain ints, a chunk at a time
            rows = slice(chunk, min(stop, chunk + DECODE_ROWS))
            starts, lengths, prefixes = (column[rows] for column in self.blobs)
            fast = np.flatnonzero((prefixes > 0) & plausible_all(prefixes, lengths - itemsize))
            # the well-formed blobs of the chunk are charged at once, up to the first the budget refuses
            fit = self.meter.charge_run(prefixes[fast], Keys(("content", chunk + fast)))
            spans = (range(chunk, rows.stop), starts.tolist(), lengths.tolist(), prefixes.tolist())
            if fit == len(fast) == len(starts) and not self._shared_starts:
                for a, b in bounded_batches(prefixes, len(starts), DECODE_BATCH):
                    try:
                        yield from [decompress(view[start:start + length])
                                    for start, length in zip(spans[1][a:b], spans[2][a:b])]
                    except (lz4.block.LZ4BlockError, ValueError, MemoryError):
                        yield from self._each(zip(*(column[a:b] for column in spans)), None, failures)
            else:
                yield from self._each(zip(*spans), set((fast[:fit] + chunk).tolist()), failures)

    def _each(self, spans: Iterator[tuple[int, int, int, int]], charged: set[int] | None,
              failures: bool) -> Iterator[bytes | FormatError]:
        """`decoded` node by node: (node, start, length, prefix) spans, `charged` the nodes charged
        ahead (None: all of them)."""
        view, decompress, itemsize = self._view, lz4.block.decompress, PREFIX.itemsize
        charge, shared, shared_starts = self.meter.charge, self._shared, self._shared_starts
        for i, start, length, prefix in spans:
            if (charged is None or i in charged) and start not in shared_starts:
                try:
                    yield decompress(view[start:start + length])
                    continue
                except (lz4.block.LZ4BlockError, ValueError, MemoryError):
                    pass
            elif prefix > 0 and plausible(prefix, length - itemsize):
                try:
                    charge(prefix, f"content[{i}]", start, key=("content", i), what="LZ4 block")
                    out = shared.get((start, length))
                    if out is None:
                        out = decompress(view[start:start + length])
                        shared.put((start, length), out, len(out))
                    yield out
                    continue
                except BudgetExceeded as exc:
                    if not failures:
                        raise over_budget(exc) from None
                    yield over_budget(exc)
                    continue
                except (lz4.block.LZ4BlockError, ValueError, MemoryError):
                    pass
            try:
                yield self._careful(i, start, length, prefix)
            except FormatError as exc:
                if not failures:
                    raise
                yield exc

    def _careful(self, i: int, start: int, length: int, prefix: int) -> bytes:
        if length == 0:
            return b""
        if start < 0 or start + length > len(self.data):
            self.blob(i)    # raises amem.content_out_of_bounds
        if prefix < 0:
            raise FormatError(f"blob of {length} bytes has no u32 size prefix", f"nodes[{i}].content_length",
                              self.node_offset(i, "content_length"), "amem.bad_lz4")
        return decompress_block(self._view[start + PREFIX.itemsize:start + length], prefix, f"content[{i}]", start,
                                self.meter, key=("content", i))

    def content_bytes(self, i: int) -> bytes:
        return next(self.decoded(i, i + 1))

    def text_of(self, i: int, raw: bytes) -> str:
        """Node `i`'s decoded bytes as text (FormatError amem.bad_utf8 if they are not UTF-8)."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"content is not UTF-8: {exc.reason} at byte {exc.start}", f"content[{i}]",
                              self.blob_span(i)[0], "amem.bad_utf8") from None

    def content(self, i: int) -> str:
        return self.text_of(i, self.content_bytes(i))

    def contents(self) -> Iterator[str]:
        """Every node's content in record order (one decoded at a time); FormatError at the first
        that does not decode."""
        return (self.text_of(i, raw) for i, raw in enumerate(self.decoded()))

    def uncompressed_length(self, i: int) -> int | None:
        prefix = int(self.blobs[2][i])
        return None if prefix < 0 else prefix

    # -- indexes ---------------------------------------------------------------------------
    @property
    def index_offset(self) -> int:
        return self.parsed.placed["index"].start

    @cached_property
    def index_entries(self) -> list[tuple[int, int, int, bytes]]:
        """(tag, absolute offset of the tag byte, body length, body) in file order."""
        placed = self.parsed.placed["index"]
        return [(e.tag, at, e.length, e.body) for at, e in zip(placed.offsets, placed.value)]

    @property
    def trailing(self) -> bytes:
        """Bytes after the last complete entry (an entry that runs past the end, or < 9 bytes)."""
        tail = self.parsed.placed["index"].tail
        return b"" if tail is None else bytes(self.data[tail.offset:tail.offset + tail.length])

    @cached_property
    def index_bodies(self) -> dict[int, tuple[Container | None, FormatError | None, int]]:
        """tag -> (parsed body of the last copy that parses, error of the last failing copy, offset)."""
        return {tag: self.index_body(tag) for tag in dict.fromkeys(t for t, *_ in self.index_entries)
                if tag in INDEX_BODIES}

    def index_body(self, tag: int) -> tuple[Container | None, FormatError | None, int]:
        """One tag's (value, error, body offset), parsed on first use (a later copy wins upstream)."""
        cache = self.__dict__.setdefault("_bodies", {})
        if tag not in cache:
            value = err = None
            start = 0
            for k, (t, _at, length, body) in enumerate(self.index_entries):
                if t != tag:
                    continue
                start = self.parsed.offset_of(f"index[{k}].body")
                try:
                    parsed, used = parse_value(INDEX_BODIES[tag], body, 0, INDEX_NAMES[tag])
                    value = parsed
                    err = None if used == length else FormatError(
                        f"{length - used} bytes after the parsed body", INDEX_NAMES[tag], start + used,
                        "amem.index_body_trailing")
                except FormatError as exc:
                    err = FormatError(exc.message, exc.path, start + (exc.offset or 0), "amem.index_corrupt")
            cache[tag] = (value, err, start)
        return cache[tag]

    def index_value(self, tag: int):
        return self.index_body(tag)[0]

    def stored_body(self, tag: int) -> bytes | memoryview | None:
        """The body of the last copy of `tag` (what upstream's reader keeps), or None; a large body
        is a view over the file, not a copy."""
        bodies = [body for t, _, _, body in self.index_entries if t == tag]
        return bodies[-1] if bodies else None

    def expected_body(self, tag: int) -> bytes:
        """Tag 1, 2 or 3 as a correct writer stores it for these node records."""
        n = self.nodes
        if tag == agentic.TAG_TYPE:
            return type_index_body(self.ids, n["event_type"])
        if tag == agentic.TAG_TEMPORAL:
            return temporal_index_body(self.ids, n["created_at"])
        return session_index_body(self.ids, n["session_id"])

    def index_consistent(self, tag: int) -> bool:
        """The stored index is byte for byte what a writer stores for the node records."""
        cache = self.__dict__.setdefault("_consistent", {})
        if tag not in cache:
            stored = self.stored_body(tag)
            cache[tag] = stored is not None and matches(stored, [self.expected_body(tag)])
        return cache[tag]

    # -- queries ---------------------------------------------------------------------------
    def by_type(self, event_type: int | str) -> np.ndarray:
        t = EVENT_TYPES.get(event_type, event_type) if isinstance(event_type, str) else event_type
        if self.index_consistent(agentic.TAG_TYPE):
            for g in self.index_value(agentic.TAG_TYPE).groups:
                if int(g.event_type) == t:
                    return np.asarray(g.node_ids, dtype=np.uint64)
            return np.zeros(0, np.uint64)
        return queries.select(self.ids, self.nodes["event_type"], t)

    def by_session(self, session_id: int) -> np.ndarray:
        if self.index_consistent(agentic.TAG_SESSION):
            for s in self.index_value(agentic.TAG_SESSION).sessions:
                if s.session_id == session_id:
                    return np.asarray(s.node_ids, dtype=np.uint64)
            return np.zeros(0, np.uint64)
        return np.sort(queries.select(self.ids, self.nodes["session_id"], session_id))

    def in_time_range(self, start: int | None = None, end: int | None = None) -> np.ndarray:
        """Node ids with start <= created_at <= end (µs), in time order."""
        if self.index_consistent(agentic.TAG_TEMPORAL):
            entries = self.index_value(agentic.TAG_TEMPORAL).entries
            return queries.sorted_range(entries.created_at, entries.node_id, start, end)
        return queries.time_range(self.ids, self.nodes["created_at"], start, end)

    # -- model -----------------------------------------------------------------------------
    def to_model(self) -> Model:
        nodes = []
        for (i, r), text in zip(enumerate(self.nodes), self.contents()):
            v = self.vector(i)
            nodes.append(Node(content=text, event_type=int(r["event_type"]),
                              session_id=int(r["session_id"]), confidence=float(r["confidence"]),
                              created_at=int(r["created_at"]), id=int(r["id"]), access_count=int(r["access_count"]),
                              last_accessed=int(r["last_accessed"]), decay_score=float(r["decay_score"]),
                              vector=None if v is None else np.array(v),
                              extra=record_extras(r, agentic.node_record, MODELLED_NODE)))
        edges = [Edge(int(e["source_id"]), int(e["target_id"]), int(e["edge_type"]), float(e["weight"]),
                      int(e["created_at"]), extra=record_extras(e, agentic.edge_record, MODELLED_EDGE))
                 for e in self.edges]
        cm = self.index_value(agentic.TAG_CLUSTER)
        clusters = [] if cm is None else [Cluster(np.asarray(c.centroid, "<f4"), ints(c.node_ids))
                                          for c in cm.clusters]
        return Model(dimension=self.header.dimension, nodes=nodes, edges=edges, clusters=clusters)

    def kept_blobs(self) -> list[bytes]:
        return [self.blob(i) for i in range(self.node_count)]

    # -- JSON, summary, checks -------------------------------------------------------------
    def to_json(self) -> dict:
        from .agentic_json import agentic_json
        return agentic_json(self)

    def json_stream(self) -> dict:
        from .agentic_json import agentic_json
        return agentic_json(self, stream=True)

    def summary(self) -> list[str]:
        from .agentic_json import agentic_summary
        return agentic_summary(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .agentic_checks import check_agentic
        return check_agentic(self, strict)


def load_agentic(data, detection: Detection, name: str = "") -> AgenticDocument:
    return AgenticDocument(Detection("amem", AGENTIC, detection.description), data, name)
