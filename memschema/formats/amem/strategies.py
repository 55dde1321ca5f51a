"""Hypothesis strategies for whole `.amem` files (the project's property-testing convention).

`valid_files(layout)` draws random models and builds them with the writer; `broken_files()` draws a
valid file and breaks it in one known way, paired with the finding code `validate` must report."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...parsing import field_offset
from . import agentic, spec_v1
from .agentic_store import AgenticDocument
from .detect import AGENTIC, SPEC_V1
from .model import US_PER_S, Cluster, Edge, Model, Node
from .mutators import MUTATORS, reseal  # noqa: F401 - the fuzzing hooks (memschema.strategies.mutate)
from .spec_store import SpecDocument
from .writer import write_agentic, write_spec

LAYOUTS = (SPEC_V1, AGENTIC)
f32s = st.floats(width=32, allow_nan=False, allow_infinity=False)
unit32 = st.floats(0, 1, width=32)
texts = st.text(max_size=40) | st.sampled_from(["", "the quick brown fox", "Sessão 7: 日本語 ünïcödé",
                                                "memory " * 30])


def _vector(dim: int, nonzero: bool):
    vec = st.lists(f32s, min_size=dim, max_size=dim)
    if nonzero:
        vec = vec.filter(lambda v: any(x != 0 for x in v))
    return st.none() | vec.map(lambda v: np.asarray(v, "<f4"))


@st.composite
def models(draw, layout: str = AGENTIC) -> Model:
    """A random model that `layout` holds without loss (so build -> load gives it back)."""
    agentic = layout == AGENTIC
    dim = draw(st.integers(0 if agentic else 1, 6))
    count = draw(st.integers(0, 6))
    if agentic:
        ids = sorted(draw(st.lists(st.integers(0, 40), min_size=count, max_size=count, unique=True)))
    else:
        ids = list(range(count))
    nodes = []
    for nid in ids:
        created = draw(st.integers(0, 2**52)) if agentic else draw(st.integers(-2**40, 2**40)) * US_PER_S
        nodes.append(Node(
            content=draw(texts), event_type=draw(st.integers(0, 5 if agentic else 9)),
            session_id=draw(st.integers(0, 3)), confidence=draw(unit32), created_at=created,
            id=nid if agentic else None,
            access_count=draw(st.integers(0, 2**32 - 1)) if agentic else 0,
            last_accessed=draw(st.integers(0, 2**60)) if agentic else None,
            decay_score=draw(unit32) if agentic else 1.0,
            metadata=None if agentic else draw(st.none() | st.dictionaries(st.text(max_size=5), st.text(max_size=8),
                                                                           max_size=3)),
            vector=draw(_vector(dim, agentic)) if dim else None))
    edges = []
    if ids:
        for _ in range(draw(st.integers(0, 8))):
            edges.append(Edge(draw(st.sampled_from(ids)), draw(st.sampled_from(ids)),
                              draw(st.integers(0, 6 if agentic else 9)), draw(unit32),
                              draw(st.integers(0, 2**60)) if agentic else 0))
    edges.sort(key=lambda e: (e.source, e.target))
    clusters = []
    n_clusters = draw(st.integers(0, 3))
    if n_clusters and (agentic or count):
        centroid = st.lists(f32s, min_size=dim, max_size=dim).map(lambda v: np.asarray(v, "<f4"))
        if agentic:
            members = st.lists(st.sampled_from(ids), max_size=4) if ids else st.just([])
            clusters = [Cluster(draw(centroid), draw(members)) for _ in range(n_clusters)]
        else:
            owner = [draw(st.integers(0, n_clusters - 1)) for _ in ids]
            clusters = [Cluster(draw(centroid), [i for i in ids if owner[i] == c]) for c in range(n_clusters)]
    return Model(dimension=dim, nodes=nodes, edges=edges, clusters=clusters)


def build_file(model: Model, layout: str) -> bytes:
    return (write_agentic(model) if layout == AGENTIC else write_spec(model))[0]


def valid_files(layout: str | None = None) -> st.SearchStrategy[bytes]:
    """Valid whole files of `layout` (either layout if None), built by the writer from random models."""
    if layout is None:
        return st.one_of(*(valid_files(name) for name in LAYOUTS))
    return models(layout).map(lambda m: build_file(m, layout))


def _put(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value):]


def _rebuilt(decl, data: bytes, offset: int = 0, **changes) -> bytes:
    """`data` with the `decl` structure at `offset` parsed, changed and built back by its declaration."""
    value = decl.parse(data[offset:offset + decl.sizeof()])
    value.update(changes)
    return _put(data, offset, decl.build(value))


@st.composite
def _broken_agentic(draw) -> tuple[bytes, str]:
    model = draw(models(AGENTIC).filter(lambda m: m.nodes))
    data = build_file(model, AGENTIC)
    doc = AgenticDocument(None, data)
    i = draw(st.integers(0, doc.node_count - 1))
    kinds = ["event_type", "version", "lz4_size", "unknown_tag", "padding", "cut_index", "node_count"]
    if len(doc.edges):
        kinds += ["edge_type", "dangling_edge"]
    if doc.node_count > 1:
        kinds.append("duplicate_id")
    kind = draw(st.sampled_from(kinds))
    if kind == "event_type":
        return _put(data, doc.node_offset(i, "event_type"), bytes([draw(st.integers(6, 255))])), \
            "amem.unknown_event_type"
    if kind == "edge_type":
        j = draw(st.integers(0, len(doc.edges) - 1))
        return _put(data, doc.edge_offset(j, "edge_type"), bytes([draw(st.integers(7, 255))])), \
            "amem.unknown_edge_type"
    if kind == "dangling_edge":
        j = draw(st.integers(0, len(doc.edges) - 1))
        absent = draw(st.integers(0, 2**64 - 1).filter(lambda v: v not in set(doc.ids.tolist())))
        return _put(data, doc.edge_offset(j, "target_id"), agentic.edge_record.target_id.build(absent)), \
            "amem.dangling_edge"
    if kind == "duplicate_id":
        j = draw(st.integers(0, doc.node_count - 1).filter(lambda j: j != i))
        return _put(data, doc.node_offset(j, "id"), agentic.node_record.id.build(int(doc.ids[i]))), \
            "amem.duplicate_id"
    if kind == "version":
        return _rebuilt(agentic.header, data, version=draw(st.integers(2, 2**32 - 1))), "amem.unsupported_version"
    if kind == "lz4_size":
        start, length = doc.blob_span(i)
        size = draw(st.integers(max(256 * length, 1 << 20), 2**32 - 1))
        return _put(data, start, agentic.content_blob.uncompressed_size.build(size)), "amem.bad_lz4_size"
    if kind == "unknown_tag":
        body = draw(st.binary(max_size=20))
        return data + agentic.index_entry.build({"tag": draw(st.integers(7, 255)), "length": len(body),
                                                 "body": body}), "amem.unknown_index_tag"
    if kind == "padding":
        return _put(data, doc.node_offset(i, "padding_tail"), b"\x01"), "amem.nonzero_padding"
    if kind == "cut_index":
        tag, at, length, _ = doc.index_entries[-1]
        head = field_offset(agentic.index_entry, "body")
        cut = draw(st.integers(at + 1, at + head + length - 1))
        return data[:cut], "amem.index_truncated" if cut - at >= head else "amem.trailing_bytes"
    return _rebuilt(agentic.header, data, node_count=draw(st.integers(doc.node_count + 1, 2**64 - 1))), \
        "amem.inconsistent_header"


@st.composite
def _broken_spec(draw) -> tuple[bytes, str]:
    model = draw(models(SPEC_V1).filter(lambda m: m.nodes))
    data = build_file(model, SPEC_V1)
    doc = SpecDocument(None, data)
    i = draw(st.integers(0, doc.node_count - 1))
    kinds = ["reserved", "unknown_index", "uncompressed", "version", "vector_offset"]
    if len(doc.edges):
        kinds.append("dangling")
    kind = draw(st.sampled_from(kinds))
    if kind == "reserved":
        return _put(data, doc.node_offset(i, "reserved") + draw(st.integers(0, 11)), b"\x01"), "amem.nonzero_padding"
    if kind == "unknown_index":
        return data + spec_v1.index_kind.build({"index_type": draw(st.integers(5, 2**32 - 1))}) \
            + draw(st.binary(max_size=8)), "amem.unknown_index_type"
    if kind == "uncompressed":
        h = doc.header
        return _rebuilt(spec_v1.header, data,
                        content_uncompressed=draw(st.integers(256 * h.content_length + 64, 2**32 - 1))), \
            "amem.bad_lz4_size"
    if kind == "version":
        return _rebuilt(spec_v1.header, data, version=draw(st.integers(2, 65535))), "amem.unsupported_version"
    if kind == "vector_offset":
        return _put(data, doc.node_offset(i, "vector_offset"), spec_v1.node_record.vector_offset.build(2**40 + 3)), \
            "amem.bad_vector_offset"
    j = draw(st.integers(0, len(doc.edges) - 1))
    target = spec_v1.edge_record.target.build(doc.node_count + draw(st.integers(0, 99)))
    return _put(data, doc.edge_offset(j, "target"), target), "amem.dangling_edge"


def broken_files() -> st.SearchStrategy[tuple[bytes, str]]:
    """(broken file, finding code `memschema.validate` must report for it)."""
    return st.one_of(_broken_agentic(), _broken_spec())
