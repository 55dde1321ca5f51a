"""Decoding an INDEX_SEG payload (declared in `index_seg`) into an HNSW graph and the structural
findings of RVF-INDEX-META.md A.9 (the search over the graph is `index_search`).

Decoding follows the reader of A.8: the trailer is found from the end of the payload, the codec
part is header block | restart block | adjacency block.  The adjacency block is the declared
`index_node` array; it is decoded in bulk (`varint.decode_varints`, then one pass over the counts)
because a 100k-node graph holds millions of varints.  Nothing here raises on bad bytes: problems
become findings and `usable` says whether the runtime would load the index (A.8 step 3).

Severity: the index is a cache the runtime rebuilds from the vectors whenever it ignores it, so
every structural problem is a *warning* (COMMON severity policy; A.9 lists some as errors).  Only a
content hash that fails under the declared algorithm is an error, and that is the segment check's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...errors import Finding, FormatError, warning
from ...parsing import locate, parse, parse_span
from .index_seg import (
    HNSW,
    INDEX_ALIGN,
    INDEX_TYPES,
    NO_ENTRY,
    TRAILER_MAGIC,
    TRAILER_VERSION,
    index_codec_header,
    index_restart_block,
    index_trailer_end,
    index_trailer_head,
)
from .varint import decode_varints

TRAILER_END = index_trailer_end.sizeof()
TRAILER_HEAD = index_trailer_head.sizeof()
CODEC_HEADER = index_codec_header.sizeof()
# problems after which the runtime ignores the index (A.8 step 3)
FATAL = {"rvf.index_trailer", "rvf.index_trailer_version", "rvf.index_id_map", "rvf.index_codec",
         "rvf.index_type", "rvf.index_node_count", "rvf.index_neighbor_range", "rvf.index_entry_range"}


@dataclass
class IndexLayer:
    """One HNSW layer as compressed rows: `members` (node ordinals, ascending), the neighbour
    ordinals of member i in `neighbors[indptr[i]:indptr[i+1]]`."""

    members: np.ndarray
    indptr: np.ndarray
    neighbors: np.ndarray

    def row(self, ordinal: int) -> np.ndarray:
        i = int(np.searchsorted(self.members, ordinal))
        if i == len(self.members) or self.members[i] != ordinal:
            return self.neighbors[:0]
        return self.neighbors[self.indptr[i]:self.indptr[i + 1]]


@dataclass
class HnswIndex:
    """A decoded INDEX_SEG.  Ordinal i is `ids[i]`; `layer_counts[i]` = layers node i is in."""

    offset: int                                   # segment header offset
    path: str
    header: object = None
    restarts: object = None
    trailer: object = None
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    layer_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    layers: list[IndexLayer] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Would the runtime load this index (before checking it against the store's vectors)?"""
        return self.trailer is not None and not any(f.code in FATAL for f in self.findings)

    # -- the graph as the runtime rebuilds it (A.8 step 4) ---------------------------------------
    @property
    def m(self) -> int:
        return max(self.header.m, 2)

    @property
    def m0(self) -> int:
        return max(self.trailer.m0, self.m)

    @property
    def ef_construction(self) -> int:
        return max(self.header.ef_construction, 1)

    @property
    def max_layer(self) -> int:
        return min(self.trailer.max_layer, max(len(self.layers), 1) - 1)

    @property
    def entry_ordinal(self) -> int | None:
        if self.trailer.entry_ordinal != NO_ENTRY:
            return int(self.trailer.entry_ordinal)
        top = self.layers[self.max_layer].members if self.layers else []
        return int(top[0]) if len(top) else None    # upstream recovers through a top-layer node

    @property
    def entry_point(self) -> int | None:
        """Vector id of the HNSW entry point."""
        o = self.entry_ordinal
        return None if o is None else int(self.ids[o])

    def ordinal(self, vector_id: int) -> int:
        i = int(np.searchsorted(self.ids, np.uint64(vector_id)))
        if i == len(self.ids) or int(self.ids[i]) != vector_id:
            raise KeyError(f"id {vector_id} is not in the index")
        return i

    def neighbors(self, vector_id: int, layer: int = 0) -> np.ndarray:
        """Neighbour ids of `vector_id` in `layer` (ascending ordinals = ascending ids)."""
        if layer >= len(self.layers):
            return self.ids[:0]
        return self.ids[self.layers[layer].row(self.ordinal(vector_id)).astype(np.int64)]

    def level(self, vector_id: int) -> int:
        """The node's top layer (its layer count − 1)."""
        return int(self.layer_counts[self.ordinal(vector_id)]) - 1

    def summary(self) -> dict:
        return {"offset": self.offset, "index_type": INDEX_TYPES.get(self.header.index_type, self.header.index_type)
                if self.header else None, "node_count": len(self.ids), "layers": len(self.layers),
                "m": self.m if self.header else None, "m0": self.m0 if self.trailer and self.header else None,
                "ef_construction": self.ef_construction if self.header else None,
                "max_layer": self.max_layer if self.trailer else None,
                "entry_point": self.entry_point if self.usable else None, "usable": self.usable}


def _first_nonzero(raw) -> int:
    return next(i for i, b in enumerate(bytes(raw)) if b)


def _warn(idx: HnswIndex, code: str, message: str, path: str, offset: int | None) -> None:
    idx.findings.append(warning(code, message, f"{idx.path}.{path}", offset))


def decode_index(data, seg) -> HnswIndex:
    """Decode the INDEX_SEG `seg` of `data`; never raises for bad bytes."""
    idx = HnswIndex(seg.offset, f"{seg.path}.index")
    base, size = seg.payload_offset, seg.payload_length
    try:
        body_at = _trailer(idx, data, base, size)
        if body_at is not None:
            _codec(idx, data, base, body_at)
    except FormatError as exc:    # a declaration that did not fit: the index does not decode
        _warn(idx, "rvf.index_codec", f"does not decode: {exc.message}", "payload", exc.offset)
    return idx


def _trailer(idx: HnswIndex, data, base: int, size: int) -> int | None:
    """Parse the RVIX trailer from the end of the payload; returns where the trailer body starts."""
    if size < TRAILER_END:
        _warn(idx, "rvf.index_trailer", f"payload of {size} bytes has no RVIX trailer", "trailer_end", base)
        return None
    end_at = base + size - TRAILER_END
    end = parse(index_trailer_end, data, end_at, f"{idx.path}.trailer_end", TRAILER_END)
    if bytes(end.magic) != TRAILER_MAGIC:
        _warn(idx, "rvf.index_trailer", f"last 4 bytes are {bytes(end.magic).hex()}, not RVIX: no trailer",
              "trailer_end.magic", end_at + locate(index_trailer_end, end, "magic"))
        return None
    body_at = end_at - end.body_len
    if end.body_len > size - TRAILER_END or end.body_len < TRAILER_HEAD:
        _warn(idx, "rvf.index_trailer", f"body_len {end.body_len} is outside {TRAILER_HEAD}..{size - TRAILER_END}",
              "trailer_end.body_len", end_at)
        return None
    head = parse(index_trailer_head, data, body_at, f"{idx.path}.trailer", TRAILER_HEAD)
    if head.trailer_version != TRAILER_VERSION:
        _warn(idx, "rvf.index_trailer_version", f"trailer_version {head.trailer_version}, readers know "
              f"{TRAILER_VERSION}", "trailer.trailer_version", body_at)
        return None
    ids_at = body_at + TRAILER_HEAD
    id_count_at = body_at + locate(index_trailer_head, head, "id_count")
    if head.id_count > end_at - ids_at:
        _warn(idx, "rvf.index_id_map", f"id_count {head.id_count} > the {end_at - ids_at} bytes of id varints",
              "trailer.id_count", id_count_at)
        return None
    runs = decode_varints(memoryview(data)[ids_at:end_at])
    if len(runs) < head.id_count:
        _warn(idx, "rvf.index_id_map", f"only {len(runs)} complete id varints for id_count {head.id_count}",
              "trailer.id_deltas", ids_at + runs.complete_end)
        return None
    bad = runs.first_overlong(head.id_count)
    if bad is not None:
        _warn(idx, "rvf.index_id_map", "id varint is not a canonical u64 (over 10 bytes or not the shortest form)",
              f"trailer.id_deltas[{bad}]", ids_at + int(runs.starts[bad]))
        return None
    deltas = runs.values[:head.id_count]
    ids = np.cumsum(deltas, dtype=np.uint64)
    if len(ids) > 1 and bool(np.any(ids[1:] < ids[:-1])):
        at = int(np.flatnonzero(ids[1:] < ids[:-1])[0]) + 1
        _warn(idx, "rvf.index_id_map", "the running id sum overflows u64", f"trailer.id_deltas[{at}]",
              ids_at + int(runs.starts[at]))
        return None
    if len(ids) > 1 and not bool(np.all(deltas[1:] > 0)):
        at = int(np.flatnonzero(deltas[1:] == 0)[0]) + 1
        _warn(idx, "rvf.index_ids_order", "ids are not strictly increasing (a zero delta after the first id)",
              f"trailer.id_deltas[{at}]", ids_at + int(runs.starts[at]))
    idx.trailer, idx.ids = head, ids
    return body_at


def _codec(idx: HnswIndex, data, base: int, body_at: int) -> None:
    codec_len = body_at - base
    n = len(idx.ids)
    if codec_len % INDEX_ALIGN:
        _warn(idx, "rvf.index_codec_alignment", f"codec part of {codec_len} bytes is not a multiple of "
              f"{INDEX_ALIGN}", "payload", base)
    if codec_len < CODEC_HEADER:
        _warn(idx, "rvf.index_codec", f"codec part of {codec_len} bytes has no {CODEC_HEADER}-byte header",
              "header", base)
        return
    header = parse(index_codec_header, data, base, f"{idx.path}.header", codec_len)
    idx.header = header
    if header.index_type != HNSW:
        _warn(idx, "rvf.index_type", f"index_type {header.index_type} "
              f"({INDEX_TYPES.get(header.index_type, 'unknown')}): the runtime loads HNSW (0) only",
              "header.index_type", base)
    if header.node_count != n:
        _warn(idx, "rvf.index_node_count", f"node_count {header.node_count} but the trailer maps {n} ids",
              "header.node_count", base + locate(index_codec_header, header, "node_count"))
        return
    if any(bytes(header.padding)):
        _warn(idx, "rvf.nonzero_padding", "codec header padding is not zero", "header.padding",
              base + locate(index_codec_header, header, "padding") + _first_nonzero(header.padding))
    restarts, used = parse_span(index_restart_block, data, base + CODEC_HEADER, f"{idx.path}.restarts",
                                codec_len - CODEC_HEADER)
    idx.restarts = restarts
    restart_at = base + CODEC_HEADER
    if any(bytes(restarts.padding)):
        _warn(idx, "rvf.nonzero_padding", "restart block padding is not zero", "restarts.padding",
              restart_at + locate(index_restart_block, restarts, "padding") + _first_nonzero(restarts.padding))
    _adjacency(idx, data, restart_at + used, base + codec_len, restart_at)


def _walk(values: np.ndarray, n: int) -> tuple[list, list, str | None, int]:
    """One pass over the varint counts of `n` nodes: (lists as (node, layer, first value, count),
    the first value of each node, problem, varints consumed).  Counts are checked against the
    varints left before looping."""
    total, p, lists, node_starts = len(values), 0, [], []
    v = values.tolist()          # plain ints: indexing a list is several times faster than numpy scalars
    for node in range(n):
        if p >= total:
            return lists, node_starts, f"node {node}: the adjacency block ends after {node} of {n} nodes", p
        node_starts.append(p)
        layer_count = int(v[p])
        p += 1
        if layer_count > total - p:
            return lists, node_starts, f"node {node}: layer_count {layer_count} exceeds the varints left", p - 1
        for layer in range(layer_count):
            if p >= total:
                return lists, node_starts, f"node {node}: the adjacency block ends inside layer {layer}", p
            count = int(v[p])
            p += 1
            if count > total - p:
                return (lists, node_starts, f"node {node} layer {layer}: neighbor_count {count} exceeds the "
                        "varints left", p - 1)
            lists.append((node, layer, p, count))
            p += count
    return lists, node_starts, None, p


def _adjacency(idx: HnswIndex, data, start: int, end: int, restart_at: int) -> None:
    n = len(idx.ids)
    runs = decode_varints(memoryview(data)[start:end]) if end > start else decode_varints(b"")
    lists, node_starts, problem, consumed = _walk(runs.values, n)
    if problem is None:
        bad = runs.first_overlong(consumed)
        if bad is not None:
            problem, consumed = "a varint that is not a canonical u64 (over 10 bytes or not the shortest form)", bad
    if problem is not None:
        at = start + (int(runs.starts[consumed]) if consumed < len(runs) else runs.complete_end)
        _warn(idx, "rvf.index_codec", f"adjacency does not decode: {problem}", "nodes", at)
        return
    used_end = int(runs.starts[consumed - 1] + runs.lengths[consumed - 1]) if consumed else 0
    if any(bytes(data[start + used_end:end])):
        _warn(idx, "rvf.nonzero_padding", "adjacency block padding is not zero", "adjacency_padding",
              start + used_end + _first_nonzero(data[start + used_end:end]))
    table = np.array(lists, dtype=np.int64).reshape(-1, 4)
    nodes, layer_of, firsts, counts = table.T
    interval = idx.restarts.restart_interval
    restart = (nodes % interval == 0) if interval else (nodes == 0)
    flat_index = np.repeat(firsts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + \
        np.arange(int(counts.sum()))
    raw = runs.values[flat_index]
    list_of = np.repeat(np.arange(len(counts)), counts)
    # per list: restart nodes store absolute ordinals, the others the first value and then deltas
    decoded = _lists_decode(raw, counts, restart)
    idx.layer_counts = np.bincount(nodes, minlength=n)[:n] if len(nodes) else np.zeros(n, np.int64)
    _list_checks(idx, decoded, list_of, restart, nodes, layer_of)
    _restart_checks(idx, runs.starts[np.asarray(node_starts, dtype=np.int64)], restart_at, n)
    for layer in range(int(layer_of.max()) + 1 if len(layer_of) else 0):
        sel = layer_of == layer
        idx.layers.append(IndexLayer(nodes[sel], np.concatenate(([0], np.cumsum(counts[sel]))),
                                     decoded[sel[list_of]] if len(list_of) else decoded))
    if idx.trailer.entry_ordinal != NO_ENTRY and idx.trailer.entry_ordinal >= n:
        _warn(idx, "rvf.index_entry_range", f"entry_ordinal {idx.trailer.entry_ordinal} >= node count {n}",
              "trailer.entry_ordinal", None)


def _lists_decode(raw: np.ndarray, counts: np.ndarray, restart: np.ndarray) -> np.ndarray:
    """Neighbour ordinals of every list: a running sum from each delta list's first value."""
    out = raw.copy()
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    delta = ~restart & (counts > 1)
    if delta.any():
        sums = np.cumsum(raw, dtype=np.uint64)
        before = np.concatenate(([np.uint64(0)], sums))[starts]
        list_of = np.repeat(np.arange(len(counts)), counts)
        mask = delta[list_of]
        out[mask] = (sums - before[list_of])[mask]
    return out


def _list_checks(idx, decoded, list_of, restart, nodes, layer_of) -> None:
    n = len(idx.ids)
    out_of_range = np.flatnonzero(decoded >= np.uint64(n))
    if len(out_of_range):
        li = int(list_of[out_of_range[0]])
        _warn(idx, "rvf.index_neighbor_range", f"{len(out_of_range)} neighbour ordinals >= node count {n} "
              f"(first: node {nodes[li]} layer {layer_of[li]})",
              f"nodes[{nodes[li]}].layers[{layer_of[li]}].neighbors", None)
    if len(decoded) > 1:
        same_list = list_of[1:] == list_of[:-1]
        down = np.flatnonzero(same_list & (decoded[1:] < decoded[:-1]) & restart[list_of[1:]])
        if len(down):
            li = int(list_of[down[0] + 1])
            _warn(idx, "rvf.index_unsorted", f"{len(np.unique(list_of[down + 1]))} neighbour lists are not "
                  f"ascending (first: node {nodes[li]} layer {layer_of[li]})",
                  f"nodes[{nodes[li]}].layers[{layer_of[li]}].neighbors", None)


def _restart_checks(idx, node_offsets: np.ndarray, restart_at: int, n: int) -> None:
    """restart_count = ceil(N / interval); restart_offsets[k] = where node k·interval starts."""
    interval = idx.restarts.restart_interval
    want = (math.ceil(n / interval) if interval else 1) if n else 0
    got = idx.restarts.restart_count
    if got != want:
        _warn(idx, "rvf.index_restart_count", f"restart_count {got}, ceil({n} / {interval}) = {want}",
              "restarts.restart_count", restart_at + locate(index_restart_block, idx.restarts, "restart_count"))
        return
    offsets = node_offsets[::interval] if interval else node_offsets[:1]
    wrong = np.flatnonzero(np.asarray(idx.restarts.restart_offsets, dtype=np.int64) != offsets)
    if len(wrong):
        k = int(wrong[0])
        _warn(idx, "rvf.index_restart_offsets", f"{len(wrong)} restart offsets differ from where the nodes "
              f"start (first: restart_offsets[{k}] = {idx.restarts.restart_offsets[k]}, node "
              f"{k * interval} starts at {int(offsets[k])})", f"restarts.restart_offsets[{k}]",
              restart_at + locate(index_restart_block, idx.restarts, f"restart_offsets[{k}]"))
