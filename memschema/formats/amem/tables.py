"""What both `.amem` layouts share once loaded: the document over its parsed layout (header, node
and edge tables as zero-copy numpy views with the declared field names, the vectors as a
(node_count, dimension) float32 view), records by declared names, similarity search, and bytes."""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from functools import cached_property
from typing import ClassVar

import numpy as np
from construct import Container

from ...document import Document
from ...errors import FormatError
from ...jsonify import Stream
from ...layout import Layout
from ...parsing import parse
from ...registry import Detection
from . import queries


def amem_code(code: str) -> str:
    """The engine's generic code (`truncated`) as a finding code of this format (`amem.truncated`)."""
    return code if code.startswith("amem.") else f"amem.{code}"


def f32(x) -> float:
    return float(np.float32(x))


def ints(values) -> list:
    """Plain Python ints of a numpy array or a list."""
    return values.tolist() if hasattr(values, "tolist") else [int(v) for v in values]


def pairs(a, b) -> list[list]:
    return [list(p) for p in zip(ints(a), ints(b))]


def plain(values, rows: int = 1 << 16) -> Iterator:
    """The elements of a numpy array (or a list) as plain Python values, a chunk at a time: loops
    over millions of records run on ints without holding them all as Python objects."""
    for at in range(0, len(values), rows):
        yield from (values[at:at + rows].tolist() if isinstance(values, np.ndarray) else values[at:at + rows])


def nodes_json(doc, out: dict, node_json, index_json, stream: bool) -> dict:
    """`out` (the declared sections) completed: each node by `node_json(doc, i, node)` (produced
    while written when `stream`), the decoded indexes, the findings."""
    nodes = (node_json(doc, i, node) for i, node in enumerate(out["nodes"]))
    out["nodes"] = Stream(nodes) if stream else list(nodes)
    out["indexes"] = index_json(doc)
    out["findings"] = [f.to_json() for f in doc.check()]
    return out


def enum_name(names: dict, value: int):
    return names.get(int(value), int(value))


def census(nodes: np.ndarray, event_names: dict, session_field: str, shown: int = 10) -> list[str]:
    """`inspect` lines: nodes per event type and per session."""
    types, counts = np.unique(nodes["event_type"], return_counts=True)
    sess, per = np.unique(nodes[session_field], return_counts=True)
    listed = ", ".join(f"{int(s)}: {c}" for s, c in list(zip(sess, per))[:shown])
    return ["event types: " + ", ".join(f"{enum_name(event_names, t)} {c}" for t, c in zip(types, counts)),
            f"sessions ({len(sess)}): {listed}" + (" ..." if len(sess) > shown else "")]


class AmemTables(Document):
    """A loaded `.amem` file of either layout: `self.parsed` holds every section as the layout places
    it.  Subclasses set `layout` and the detection rule of their layout (`problems`)."""

    layout: ClassVar[Layout]

    def __init__(self, detection: Detection, data, source: str = ""):
        super().__init__(detection, data, source)
        try:
            self.parse_layout()
        except FormatError as exc:
            raise FormatError(exc.message, exc.path, exc.offset, amem_code(exc.code)) from None
        self.fields = self.parsed

    @staticmethod
    def problems(data) -> list[str]:
        raise NotImplementedError

    # -- sections ----------------------------------------------------------------------------
    @property
    def header(self) -> Container:
        return self.parsed.header

    @property
    def nodes(self) -> np.ndarray:
        return self.parsed.nodes

    @property
    def edges(self) -> np.ndarray:
        return self.parsed.edges

    @property
    def vectors(self) -> np.ndarray:
        """(node_count, dimension) float32, a view over the file (unaligned: never cast in place)."""
        vectors = self.parsed.vectors
        if isinstance(vectors, np.ndarray):
            return vectors
        # no records of a dimension numpy cannot express as a dtype (2^40): an empty table
        return np.zeros((len(vectors), self.header.dimension), np.float32)

    @property
    def node_decl(self):
        """The node record declaration of this layout (what `memschema export` names columns by)."""
        return self.layout.section("nodes").decl

    @property
    def edge_decl(self):
        return self.layout.section("edges").decl

    @property
    def node_count(self) -> int:
        return len(self.nodes)

    @cached_property
    def placement_problems(self) -> list[str]:
        """Where the header disagrees with the layout (the detection rules); empty for a tiled file."""
        return self.problems(self.data)

    # -- records by declared names -----------------------------------------------------------
    def node_offset(self, i: int, field: str | None = None) -> int:
        return self.parsed.offset_of(f"nodes[{i}]" + (f".{field}" if field else ""))

    def edge_offset(self, j: int, field: str | None = None) -> int:
        return self.parsed.offset_of(f"edges[{j}]" + (f".{field}" if field else ""))

    def _record(self, section: str, i: int) -> Container:
        decl = self.layout.section(section).decl
        start, stop = self.parsed.placed[section].record_span(i)
        return parse(decl, self.data, start, f"{section}[{i}]", stop - start)

    def record(self, i: int) -> Container:
        """Node record `i` parsed by its declaration (enum names, declared field names)."""
        return self._record("nodes", i)

    def edge_record(self, j: int) -> Container:
        return self._record("edges", j)

    # -- vectors -------------------------------------------------------------------------------
    def has_vector(self) -> np.ndarray:
        """Which nodes have a vector (bool per node)."""
        raise NotImplementedError

    @cached_property
    def vector_norms(self) -> np.ndarray:
        """L2 norm of every vector, float32, computed once, chunk by chunk, without copying the vectors."""
        vectors = self.vectors
        out = np.zeros(len(vectors), np.float32)
        for at, chunk in self.vector_chunks():
            out[at:at + len(chunk)] = np.sqrt(np.einsum("ij,ij->i", chunk, chunk))
        return out

    def vector_chunks(self, size: int = 1 << 24):
        """(first row, rows) of the vectors about `size` bytes at a time (one row at least); the
        pages of a chunk are let go once it is done, so a scan over a vector block larger than RAM
        keeps the process small."""
        vectors = self.vectors
        start = self.parsed.placed["vectors"].start
        row = vectors.strides[0]
        rows = max(1, size // row) if row else max(1, len(vectors))
        for at in range(0, len(vectors), rows):
            yield at, vectors[at:at + rows]
            self.release(start + at * row, start + min(len(vectors), at + rows) * row)

    def release(self, start: int, stop: int) -> None:
        """Let go of the mapped pages of [start, stop) (a memory-mapped file only; the page cache
        keeps them): streaming checks call this behind them."""
        if isinstance(self.data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
            page = mmap.PAGESIZE
            first, last = -(-start // page) * page, stop // page * page
            if last > first:
                self.data.madvise(mmap.MADV_DONTNEED, first, last - first)

    def similar(self, query, k: int = 10) -> list[tuple[int, float]]:
        """Top-k (node id, cosine) over the vectors; nodes without a vector are skipped."""
        return queries.top_k(self.ids, self.vectors, query, k, norms=self.vector_norms, usable=self.has_vector())

    # -- bytes ---------------------------------------------------------------------------------
    def build(self) -> bytes:
        """The file from its parsed sections (header, tables, raw content, vectors, indexes and any
        torn tail); a file whose header does not tile it comes back exactly as loaded."""
        if self.placement_problems:
            return bytes(self.data)
        return self.parsed.build()
