"""The runtime's HNSW search (`rvf-index` `hnsw.rs`, ported over the ordinals of a decoded
`index_graph.HnswIndex`): greedy descent through the upper layers, then a beam search of width ef at
layer 0, distances as the store computes them (squared L2, −dot, 1 − cosine) in float32."""

from __future__ import annotations

import bisect

import numpy as np

from .index_graph import HnswIndex

RUNTIME_EF_FLOOR = 256     # rvf-runtime INDEX_MIN_EF_SEARCH: queries use ef = max(ef_search, 256, k)


def distances(metric: str, matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The runtime's distances in float32: squared L2, −dot, 1 − cosine (1 when a norm is ~0)."""
    with np.errstate(all="ignore"):      # damaged vectors (inf, NaN) give NaN distances, not warnings
        return _distances(metric, matrix, np.asarray(query, dtype=np.float32))


def _distances(metric: str, matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    if metric == "inner_product":
        return -(matrix @ q)
    if metric == "cosine":
        dot = matrix @ q
        denom = np.sqrt(np.einsum("ij,ij->i", matrix, matrix) * np.float32(q @ q))
        out = np.float32(1) - dot / denom
        return np.where(denom < np.finfo(np.float32).eps, np.float32(1), out).astype(np.float32)
    diff = matrix - q
    return np.einsum("ij,ij->i", diff, diff)


class GraphSearch:
    """HNSW search of one query over a decoded index; `rows[o]` = matrix row of ordinal o (−1 when
    the id has no vector, which upstream's `get_vector` skips)."""

    def __init__(self, index: HnswIndex, matrix: np.ndarray, rows: np.ndarray, metric: str, query):
        self.index, self.matrix, self.rows, self.metric = index, matrix, rows, metric
        self.query = np.asarray(query, dtype=np.float32)

    def _dist(self, ordinals) -> list:
        ordinals = np.asarray(ordinals, dtype=np.int64)
        rows = self.rows[ordinals]
        d = np.full(len(ordinals), np.nan, dtype=np.float32)
        ok = rows >= 0
        if ok.any():
            d[ok] = distances(self.metric, self.matrix[rows[ok]], self.query)
        return [None if r < 0 else float(x) for r, x in zip(rows.tolist(), d.tolist())]

    def greedy(self, ep: int, layer: int) -> int:
        (current_dist,) = self._dist([ep])
        if current_dist is None:
            return ep
        current = ep
        while True:
            changed = False
            nbrs = self.index.layers[layer].row(current).astype(np.int64)
            for nid, d in zip(nbrs.tolist(), self._dist(nbrs)):
                if d is not None and d < current_dist:
                    current, current_dist, changed = nid, d, True
            if not changed:
                return current

    def beam(self, entry_points: list[int], ef: int, layer: int) -> list[tuple[float, int]]:
        """`search_layer`: candidates and results kept sorted by distance (insertion by bisection,
        candidates only after the one being expanded)."""
        visited: set[int] = set()
        start: list[tuple[float, int]] = []
        for ep in entry_points:
            if ep not in visited:
                visited.add(ep)
                (d,) = self._dist([ep])
                if d is not None:
                    start.append((d, ep))
        start.sort(key=lambda c: c[0])
        ckeys, cids = [c[0] for c in start], [c[1] for c in start]
        rkeys, rids = list(ckeys), list(cids)
        ci = 0
        while ci < len(ckeys):
            cdist, cid = ckeys[ci], cids[ci]
            ci += 1
            if len(rkeys) >= ef and cdist > rkeys[-1]:
                break
            fresh = [o for o in self.index.layers[layer].row(cid).tolist() if o not in visited]
            visited.update(fresh)
            for nid, d in zip(fresh, self._dist(fresh) if fresh else []):
                if d is None or (len(rkeys) >= ef and d >= rkeys[-1]):
                    continue
                pos = bisect.bisect_left(ckeys, d, lo=ci)
                ckeys.insert(pos, d)
                cids.insert(pos, nid)
                r = bisect.bisect_left(rkeys, d)
                rkeys.insert(r, d)
                rids.insert(r, nid)
                if len(rkeys) > ef:
                    rkeys.pop()
                    rids.pop()
        return list(zip(rkeys, rids))

    def search(self, k: int, ef: int) -> list[tuple[float, int]]:
        ep = self.index.entry_ordinal
        if ep is None:
            return []
        current = ep
        for layer in range(self.index.max_layer, 0, -1):
            current = self.greedy(current, layer)
        return self.beam([current], max(ef, k), 0)[:k]
