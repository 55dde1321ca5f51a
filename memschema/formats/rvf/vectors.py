"""The live vectors of a loaded store (mixed into `RvfDocument`; RVF.md 3.5): the VEC segments the
latest directory lists, read in directory order from the record tables the layout parsed (numpy
views over the file), later records of an id replacing earlier ones, minus `deleted_ids`.

Ids are computed alone (8 bytes a vector: what validation and counting need); a vector matrix is
assembled, in one copy, only when asked for."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ...dtypes import table
from .runtime_payloads import dir_entry, vec_record_fixed, wasm_vec_head
from .segment import SEG_TYPES
from .wasm_export import wasm_record_count

VEC = SEG_TYPES["vec"]


def directory(manifest_value) -> np.ndarray:
    """A manifest's `segment_dir` as a numpy table (the layout gives one; a manifest parsed by
    construct, e.g. a short one, gives a list that is converted)."""
    entries = manifest_value.segment_dir
    if isinstance(entries, np.ndarray):
        return entries
    from ...records import table as fill_table
    return fill_table(dir_entry, [{k: int(e[k]) for k in ("seg_id", "offset", "payload_length", "seg_type")}
                                  for e in entries], "segment_dir")


def _select(tables: list[np.ndarray], rows: np.ndarray | None, dimension: int) -> np.ndarray:
    """The `data` of records `rows` (ascending indices into the tables concatenated; None = all)
    as one float32 (n, dimension) matrix, copied once."""
    counts = np.array([len(t) for t in tables], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)]) if len(counts) else np.zeros(1, np.int64)
    n = int(starts[-1]) if rows is None else len(rows)
    out = np.empty((n, dimension), dtype=np.float32)
    if not dimension:
        return out
    pos = 0
    for i, t in enumerate(tables):
        if rows is None:
            part = t["data"]
        else:
            lo, hi = np.searchsorted(rows, starts[i:i + 2])
            if lo == hi:
                continue
            part = t["data"][rows[lo:hi] - starts[i]]
        out[pos:pos + len(part)] = part
        pos += len(part)
    return out


class VectorAccess:
    """`vec_segments`, `loaded_ids`/`loaded_matrix` (records loaded, deleted ones included),
    `own_ids`/`own_matrix` (this file's live vectors) and `records_loaded`, for a document with
    `latest`, `by_offset`, `dialect`, `deleted_ids`."""

    def vec_segments(self) -> list[tuple[object, int]]:
        """(segment, records) of the VEC segments the latest directory names, in directory order,
        that really are VEC segments of the manifest's dimension whose records are all there (the
        runtime skips a VEC that is shorter than its count says)."""
        return [(seg, len(records)) for seg, records in self._vec_tables]

    @cached_property
    def _vec_tables(self) -> list[tuple[object, np.ndarray]]:
        if self.latest is None or self.dialect == "spec":
            return []
        dim = int(self.latest.value.dimension)
        entries = directory(self.latest.value)
        offsets, lengths = entries["offset"].tolist(), entries["payload_length"].tolist()
        out = []
        for row in np.flatnonzero(entries["seg_type"] == VEC).tolist():
            seg = self.by_offset.get(offsets[row])
            if seg is None or seg.seg_type != VEC or seg.payload_length != lengths[row]:
                continue
            payload = seg.decoded
            if payload is None or int(payload.dimension) != dim:
                continue
            records = payload.records
            if self.dialect == "wasm_export":   # every record the payload holds, also past a wrapped u16 count
                count = wasm_record_count(self.data, seg.payload_offset, seg.payload_length) or 0
                records = table(vec_record_fixed(dim), self.data, seg.payload_offset + wasm_vec_head.sizeof(), count,
                                f"{seg.path}.payload.records")
            out.append((seg, records))
        return out

    @cached_property
    def _loaded(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(distinct loaded ids, their rows in the concatenated records; None = every row)."""
        if self.dialect == "spec":
            return self._spec[0], None
        tables = [records for _, records in self._vec_tables]
        ids = np.concatenate([t["id"] for t in tables]) if tables else np.zeros(0, np.uint64)
        ids = ids.astype(np.uint64, copy=False)
        total = len(ids)
        if total > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            _, first_in_reversed = np.unique(ids[::-1], return_index=True)
            keep = np.sort(total - 1 - first_in_reversed)        # later records win
            if len(keep) < total:
                return ids[keep], keep
        return ids, None

    @cached_property
    def _own(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(live ids of this file, their rows in the concatenated records; None = every row)."""
        ids, rows = self._loaded
        deleted = self.deleted_ids
        if deleted and len(ids):
            mask = ~np.isin(ids, np.asarray(deleted, dtype=np.uint64))
            if not mask.all():
                return ids[mask], (np.flatnonzero(mask) if rows is None else rows[mask])
        return ids, rows

    def _matrix(self, rows) -> np.ndarray:
        if self.dialect == "spec":
            return self._spec[1] if rows is None else self._spec[1][rows]
        return _select([records for _, records in self._vec_tables], rows, self.dimension or 0)

    @cached_property
    def _spec(self) -> tuple[np.ndarray, np.ndarray]:
        from .spec_payloads import spec_vectors
        return spec_vectors(self)

    @property
    def records_loaded(self) -> int:
        """Distinct ids in the listed VEC segments (deleted ones included): `total_vectors`."""
        return len(self._loaded[0])

    @property
    def loaded_ids(self) -> np.ndarray:
        """Those distinct ids (before deletions)."""
        return self._loaded[0]

    @cached_property
    def loaded_matrix(self) -> np.ndarray:
        """Their vectors, row i for `loaded_ids[i]` (what the runtime's index traverses)."""
        return self._matrix(self._loaded[1])

    @property
    def own_ids(self) -> np.ndarray:
        """Live ids of this file's own VEC segments (uint64), in the order their winning records appear."""
        return self._own[0]

    @cached_property
    def own_matrix(self) -> np.ndarray:
        """Their vectors (float32, one row per id of `own_ids`)."""
        return self._matrix(self._own[1])

    def vectors(self) -> dict[int, np.ndarray]:
        return {int(i): self.matrix[row] for row, i in enumerate(self.ids)}
