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


def top_k(ids: np.ndarray, vectors: np.ndarray, query, k: int = 10, *, norms: np.ndarray | None = None,
          usable: np.ndarray | None = None) -> list[tuple[int, float]]:
    """(id, cosine similarity) of the `k` most similar vectors, best first; all-zero or unusable
    vectors (and a zero query) are skipped.  float32 throughout, and the vectors (a view over the
    file) are never copied: one pass for the dot products, `norms` given or computed the same way."""
    if k <= 0 or vectors.size == 0:
        return []
    q = np.asarray(query, dtype=np.float32).ravel()
    if q.shape[0] != vectors.shape[1]:
        raise ValueError(f"query has {q.shape[0]} dimensions, the vectors {vectors.shape[1]}")
    qn = np.linalg.norm(q)
    if not qn or not np.isfinite(qn):
        return []
    if norms is None:
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    ok = (norms > 0) & np.isfinite(norms)
    if usable is not None:
        ok &= usable
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        scores = np.einsum("ij,j->i", vectors, q) / (norms * qn)
    ok &= np.isfinite(scores)
    candidates = np.flatnonzero(ok)
    if not len(candidates):
        return []
    k = min(k, len(candidates))
    best = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    best = best[np.lexsort((best, -scores[best]))]
    ids = np.asarray(ids)
    return [(int(ids[i]), float(scores[i])) for i in best]
