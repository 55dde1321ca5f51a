"""Queries the indexes exist for, over numpy columns: by event type, by session, by time range, and
top-k cosine similarity.  Documents pass an index-derived answer when the index is present and
consistent with the node records; otherwise these scan."""

from __future__ import annotations

import numpy as np


def select(ids: np.ndarray, column: np.ndarray, value: int) -> np.ndarray:
    """Ids of the records whose `column` equals `value` (a scan)."""
    return np.asarray(ids)[np.asarray(column) == value]


def time_range(ids: np.ndarray, times: np.ndarray, start: int | None, end: int | None) -> np.ndarray:
    """Ids with start <= time <= end (either bound may be None), in (time, id) order (a scan)."""
    ids, times = np.asarray(ids), np.asarray(times)
    order = np.lexsort((ids, times))
    return sorted_range(times[order], ids[order], start, end)


def sorted_range(times: np.ndarray, ids: np.ndarray, start: int | None, end: int | None) -> np.ndarray:
    """The same over (time, id) pairs already sorted by time (an index): two binary searches."""
    lo = 0 if start is None else int(np.searchsorted(times, start, side="left"))
    hi = len(times) if end is None else int(np.searchsorted(times, end, side="right"))
    return np.asarray(ids)[lo:hi]


def top_k(ids: np.ndarray, vectors: np.ndarray, query, k: int = 10) -> list[tuple[int, float]]:
    """(id, cosine similarity) of the `k` most similar vectors, best first; absent/all-zero vectors
    (and a zero query) are skipped."""
    if k <= 0 or vectors.size == 0:
        return []
    q = np.asarray(query, dtype=np.float64).ravel()
    if q.shape[0] != vectors.shape[1]:
        raise ValueError(f"query has {q.shape[0]} dimensions, the vectors {vectors.shape[1]}")
    qn = np.linalg.norm(q)
    if not qn or not np.isfinite(qn):
        return []
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1)
    usable = np.nonzero((norms > 0) & np.isfinite(norms))[0]
    if not len(usable):
        return []
    scores = (v[usable] @ q) / (norms[usable] * qn)
    k = min(k, len(usable))
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.lexsort((usable[best], -scores[best]))]
    ids = np.asarray(ids)
    return [(int(ids[usable[i]]), float(scores[i])) for i in best]
