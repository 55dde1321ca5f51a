"""The INDEX side of a loaded store (mixed into `RvfDocument`): every INDEX_SEG decoded, the one
the runtime would load (`doc.index`), search (exact over the live vectors, or approximate over the
HNSW graph as the runtime runs it), and the store-dependent findings of RVF-INDEX-META.md A.9."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ...errors import Finding, Severity, warning
from ...parsing import locate
from .index_graph import HnswIndex, decode_index
from .index_search import RUNTIME_EF_FLOOR, GraphSearch, distances
from .runtime_payloads import dir_entry, manifest_payload
from .segment import SEG_TYPES
from .vectors import directory

INDEX = SEG_TYPES["index"]


class IndexAccess:
    """`indexes`, `index`, `search`, `index_findings` for a document with `segments`, `latest`,
    `loaded_ids`/`loaded_matrix`, `ids`/`matrix`, `deleted_ids`, `metric`."""

    @cached_property
    def indexes(self) -> dict[int, HnswIndex]:
        """Every INDEX_SEG of the file, decoded, by segment offset."""
        return {s.offset: decode_index(self.data, s) for s in self.segments if s.seg_type == INDEX}

    def _index_entries(self) -> list:
        if self.latest is None or self.dialect == "spec":
            return []
        entries = directory(self.latest.value).view(np.recarray)
        return [(i, entries[i]) for i in np.flatnonzero(entries["seg_type"] == INDEX).tolist()]

    @cached_property
    def index(self) -> HnswIndex | None:
        """The HNSW index the runtime loads at open (A.8): the last INDEX entry of the latest
        directory, if its hash verifies, it decodes and every indexed id is a loaded vector."""
        entries = self._index_entries()
        if not entries:
            return None
        seg = self.by_offset.get(entries[-1][1].offset)
        if seg is None or seg.seg_type != INDEX or self.hash_ok(seg) is False:
            return None
        idx = self.indexes[seg.offset]
        if not idx.usable or len(self._stale(idx)):
            return None
        return idx

    def _stale(self, idx: HnswIndex) -> np.ndarray:
        return idx.ids[~np.isin(idx.ids, self.loaded_ids)]

    # -- search ------------------------------------------------------------------------------------
    def search(self, query, k: int = 10, exact: bool = True, ef: int = RUNTIME_EF_FLOOR) -> list[tuple[int, float]]:
        """The k nearest live vectors as (id, distance), by (distance, id), under the store's metric.

        `exact=True` scans every live vector.  `exact=False` walks the HNSW graph of `doc.index`
        like the runtime (ef = max(ef, k), soft-deleted vectors traversed but not returned) and,
        like the runtime, falls back to the exact scan when there is no loadable index or the graph
        cannot supply k live results."""
        metric = self.metric or "l2"
        if not exact and self.index is not None:
            found = self._graph_search(query, k, ef, metric)
            if found is not None:
                return found
        d = distances(metric, self.matrix, query)
        order = np.lexsort((self.ids, d))[:k]
        return [(int(self.ids[i]), float(d[i])) for i in order]

    def _graph_search(self, query, k: int, ef: int, metric: str) -> list[tuple[int, float]] | None:
        idx = self.index
        loaded = self.loaded_ids
        order = np.argsort(loaded, kind="stable")
        pos = np.searchsorted(loaded[order], idx.ids)
        rows = order[np.minimum(pos, len(order) - 1)]
        deleted = set(self.deleted_ids)
        want = k + len(deleted)
        hits = GraphSearch(idx, self.loaded_matrix, rows, metric, query).search(want, max(ef, want))
        live = [(int(idx.ids[o]), d) for d, o in hits if int(idx.ids[o]) not in deleted][:k]
        if len(live) < min(k, len(self.ids)):
            return None
        return sorted(live, key=lambda h: (h[1], h[0]))

    # -- findings that need the store ------------------------------------------------------------------
    def index_findings(self) -> list[Finding]:
        out: list[Finding] = []
        for idx in self.indexes.values():
            out += idx.findings
        entries = self._index_entries()
        listed = {e.offset for _, e in entries}
        manifest = self.latest.segment if self.latest is not None else None
        if len(entries) > 1:
            i, entry = entries[-1]
            at = manifest.payload_offset + locate(manifest_payload, self.latest.value, f"segment_dir[{i}]")
            out.append(warning("rvf.index_multiple", f"{len(entries)} INDEX entries in the latest directory; "
                               "the runtime loads the last", f"{manifest.path}.manifest.segment_dir[{i}]",
                               at + locate(dir_entry, entry, "offset")))
        for offset, idx in self.indexes.items():
            if offset not in listed:
                out.append(warning("rvf.index_superseded", "INDEX segment not listed in the latest manifest "
                                   "directory (an older or unfinished index; dropped at compaction)",
                                   idx.path, offset))
        active = self.indexes.get(entries[-1][1].offset) if entries else None
        if active is not None and active.usable:
            stale = self._stale(active)
            if len(stale):
                out.append(warning("rvf.index_stale", f"{len(stale)} indexed ids are not vectors of the store "
                                   f"(first: {int(stale[0])}): the runtime ignores the index and rebuilds it",
                                   f"{active.path}.trailer.id_deltas", active.offset))
            else:
                missing = int(np.count_nonzero(~np.isin(self.loaded_ids, active.ids)))
                if missing:
                    out.append(Finding(Severity.INFO, "rvf.index_incomplete", f"{missing} vectors are not in the "
                                       "index yet; the runtime inserts them at the next indexed query",
                                       active.path, active.offset))
        return out
