"""The layout-neutral model of a brain: what the writer builds from and what a loaded file decodes to.

Times are microseconds since the Unix epoch in both layouts (spec-v1 stores seconds: multiples of
10^6 survive it).  Node and edge types are integers (unknown values are kept).  `id` is the explicit
agentic-memory id (None = record index); spec-v1 ids are always record indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

US_PER_S = 1_000_000


@dataclass
class Node:
    content: str = ""
    event_type: int = 0
    session_id: int = 0
    confidence: float = 1.0
    created_at: int = 0                   # µs
    id: int | None = None                 # agentic-memory only; None = record index
    access_count: int = 0                 # agentic-memory only
    last_accessed: int | None = None      # agentic-memory only; None = created_at
    decay_score: float = 1.0              # agentic-memory only
    metadata: dict[str, str] | None = None  # spec-v1 only
    vector: np.ndarray | None = None      # None = no vector
    extra: dict = field(default_factory=dict)   # declared record fields the model does not name (padding,
                                                # a field added later): carried by name, see writer.py

    def key(self, dimension: int) -> tuple:
        """Comparable form (floats as f32 bits, vectors padded to `dimension`)."""
        vec = None if self.vector is None else pad_vector(self.vector, dimension).tobytes()
        return (self.content, self.event_type, self.session_id, f32_bits(self.confidence), self.created_at,
                self.id, self.access_count, self.last_accessed, f32_bits(self.decay_score),
                None if self.metadata is None else sorted(self.metadata.items()), vec, sorted(self.extra.items()))


@dataclass
class Edge:
    source: int
    target: int
    edge_type: int = 4
    weight: float = 1.0
    created_at: int = 0                   # µs; agentic-memory only
    extra: dict = field(default_factory=dict)

    def key(self) -> tuple:
        return (self.source, self.target, self.edge_type, f32_bits(self.weight), self.created_at,
                sorted(self.extra.items()))


@dataclass
class Cluster:
    centroid: np.ndarray
    node_ids: list[int] = field(default_factory=list)


@dataclass
class Model:
    dimension: int = 128
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)

    def node_ids(self) -> list[int]:
        return [i if n.id is None else n.id for i, n in enumerate(self.nodes)]

    def sessions(self) -> list[int]:
        return sorted({n.session_id for n in self.nodes})

    def key(self) -> tuple:
        return (self.dimension, [n.key(self.dimension) for n in self.nodes], [e.key() for e in self.edges],
                [(pad_vector(c.centroid, len(c.centroid)).tobytes(), list(c.node_ids)) for c in self.clusters])


def f32_bits(x: float) -> int:
    return int(np.float32(x).view(np.uint32))


def record_extras(row: np.void, decl, named: frozenset[str]) -> dict:
    """The fields of a record row (of declaration `decl`) that `named` does not cover and that differ
    from their declared default, as plain values (bytes for byte fields): what a model carries for
    the writer without knowing what they mean."""
    from ...records import default_of, fields
    out = {}
    for sc in fields(decl):
        if sc.name in named or sc.name not in row.dtype.names:
            continue
        value = row[sc.name]
        value = value.tobytes() if isinstance(value, np.ndarray) else value.item()
        if value != default_of(sc):
            out[sc.name] = value
    return out


def pad_vector(vector, dimension: int) -> np.ndarray:
    """`vector` as `dimension` little-endian f32, zero-padded (upstream pads short vectors)."""
    v = np.asarray(vector, dtype="<f4").ravel()[:dimension]
    if len(v) < dimension:
        v = np.concatenate([v, np.zeros(dimension - len(v), "<f4")])
    return v
