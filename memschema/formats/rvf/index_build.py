"""Writing INDEX_SEG payloads through the `index_seg` declarations, as `VectorIndex::encode_payload`
does (RVF-INDEX-META.md A.2-A.7), and appending one to a store as `persist_index()` does.  Used to
build files from the reference (tests) and checked against real rvf-node output byte for byte."""

from __future__ import annotations

from construct import Container, ListContainer

from ...parsing import build
from .index_seg import (
    DEFAULT_RESTART_INTERVAL,
    HNSW,
    INDEX_ALIGN,
    LAYER_C,
    NO_ENTRY,
    TRAILER_MAGIC,
    TRAILER_VERSION,
    index_codec_head,
    index_codec_header,
    index_node,
    index_restart_head,
    index_trailer,
    index_trailer_end,
)
from .segment import SEG_TYPES


def _pad(raw: bytes) -> bytes:
    return raw + bytes(-len(raw) % INDEX_ALIGN)


def _varint_list(ordinals: list[int], absolute: bool) -> list[int]:
    values = sorted(ordinals)
    if absolute or not values:
        return values
    return [values[0]] + [b - a for a, b in zip(values, values[1:])]


def encode_index_payload(ids: list[int], adjacency: list[list[list[int]]], *, m: int = 16,
                         ef_construction: int = 200, m0: int | None = None, max_layer: int | None = None,
                         entry_ordinal: int | None = None,
                         restart_interval: int = DEFAULT_RESTART_INTERVAL) -> bytes:
    """INDEX_SEG payload for sorted vector `ids` and, per ordinal, its neighbour ordinals per layer
    (layer 0 first)."""
    n = len(ids)
    header = Container(index_type=HNSW, layer_level=LAYER_C, m=m, ef_construction=ef_construction, node_count=n,
                       padding=bytes(INDEX_ALIGN - index_codec_head.sizeof()))
    nodes, offsets, adj = [], [], b""
    for i, layers in enumerate(adjacency):
        restart = i % restart_interval == 0 if restart_interval else i == 0
        if restart:
            offsets.append(len(adj) + sum(len(x) for x in nodes))
        values = [Container(neighbor_count=len(nb), neighbors=_varint_list(nb, restart)) for nb in layers]
        nodes.append(build(index_node, Container(layer_count=len(layers), layers=ListContainer(values)), "index_node"))
    adj = b"".join(nodes)
    restarts = build(index_restart_head, Container(restart_interval=restart_interval, restart_count=len(offsets),
                                                   restart_offsets=offsets), "index_restart_head")
    codec = build(index_codec_header, header, "index_codec_header") + _pad(restarts) + _pad(adj)
    top = max((len(layers) for layers in adjacency), default=1) - 1
    deltas = [ids[0]] + [b - a for a, b in zip(ids, ids[1:])] if ids else []
    body = build(index_trailer, Container(
        trailer_version=TRAILER_VERSION, m0=min(2 * m if m0 is None else m0, 0xFFFF),
        max_layer=top if max_layer is None else max_layer,
        entry_ordinal=NO_ENTRY if entry_ordinal is None else entry_ordinal, id_count=n, id_deltas=deltas),
        "index_trailer")
    return codec + body + build(index_trailer_end, Container(body_len=len(body), magic=TRAILER_MAGIC))


def append_index(writer, payload: bytes) -> bytes:
    """`persist_index()`: the INDEX_SEG, then (epoch + 1) a manifest whose directory drops older
    INDEX entries.  `writer` is a `StoreWriter` positioned at the end of its file."""
    index_type = SEG_TYPES["index"]
    writer.directory = ListContainer(e for e in writer.directory if int(e.seg_type) != index_type)
    out = writer._segment("index", payload)
    writer.epoch += 1
    return out + writer.manifest()
