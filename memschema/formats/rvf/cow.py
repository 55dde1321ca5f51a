"""COW branch children (RVF.md 3.12; rvf-node >= 0.2.2 `branch()`): a child file holds only its own
edits plus COW_MAP (which names the parent file, relative to the child's directory) and MEMBERSHIP
(a bitmap of the parent ids the child still sees) segments before each manifest.

The child's full view = the parent's live vectors whose membership bit is set (filter_mode Include;
clear for Exclude), minus ids the child itself holds or deleted, plus the child's own live vectors.
The parent is the one given to `load(child, parent=...)`, else the file the latest COW_MAP names.
Without it the inherited vectors cannot be read: an error, like the binding's `ParentNotFound`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ...errors import Finding, FormatError, error, warning
from ...parsing import locate
from .runtime_payloads import cow_map_body, cow_map_payload, membership_header
from .segment import SEG_TYPES
from .vectors import directory

COW_MAP, MEMBERSHIP = SEG_TYPES["cow_map"], SEG_TYPES["membership"]
BITMAP, INCLUDE, EXCLUDE = 0, 0, 1
MAX_DEPTH = 64            # parents of parents followed at most (a cycle of files ends here)
_depth = threading.local()


@dataclass
class CowState:
    """The latest COW_MAP and MEMBERSHIP of a branch child, and its parent (or why there is none)."""

    cow_seg: object
    cow: object
    membership_seg: object = None
    membership: object = None
    parent: object = None                      # RvfDocument
    parent_name: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def parent_path(self) -> str:
        return bytes(self.cow.body.parent_path).decode("utf-8", errors="replace")


def _latest(doc, seg_type: int):
    if doc.latest is None or doc.dialect != "runtime":
        return None
    listed = directory(doc.latest.value)
    entries = listed["offset"][listed["seg_type"] == seg_type].tolist()
    seg = doc.by_offset.get(entries[-1]) if entries else None
    return seg if seg is not None and seg.seg_type == seg_type else None


def cow_state(doc, parent=None) -> CowState | None:
    """The branch state of `doc` (None when its latest directory has no COW_MAP)."""
    seg = _latest(doc, COW_MAP)
    if seg is None or seg.decoded is None:
        return None            # an undecodable COW_MAP is reported by the payload checks (rvf.payload_unparseable)
    state = CowState(seg, seg.decoded)
    mseg = _latest(doc, MEMBERSHIP)
    if mseg is not None and mseg.decoded is not None:
        state.membership_seg, state.membership = mseg, mseg.decoded
    _attach_parent(doc, state, parent)
    return state


def _attach_parent(doc, state: CowState, parent) -> None:
    from ...api import load
    at = state.cow_seg.payload_offset + locate(cow_map_payload, state.cow, "body") + \
        locate(cow_map_body, state.cow.body, "parent_path")
    path = f"{state.cow_seg.path}.payload.body.parent_path"
    if parent is None:
        if not doc.source or not Path(doc.source).is_file():
            state.findings.append(error("rvf.cow_parent_missing", f"branch child of {state.parent_path!r}: no parent "
                                        "given and the child has no directory to find it in; the inherited "
                                        "vectors cannot be read", path, at))
            return
        parent = Path(doc.source).parent / state.parent_path
    if hasattr(parent, "segments"):
        state.parent, state.parent_name = parent, parent.source
    else:
        try:
            if Path(str(parent)).resolve() == Path(str(doc.source)).resolve():
                raise FormatError("the parent is the child itself", "", None, "cow_cycle")
            state.parent, state.parent_name = load(parent, format="rvf"), str(parent)
        except (OSError, FormatError) as exc:
            state.findings.append(error("rvf.cow_parent_missing", f"parent {str(parent)!r} of this branch child "
                                        f"cannot be read ({exc}): the inherited vectors are unknown", path, at))
            return
    _check_parent(doc, state)


def _check_parent(doc, state: CowState) -> None:
    from .writer import runtime_parent_hash
    header, seg = state.cow.header, state.cow_seg
    pident = state.parent.identity
    base = seg.payload_offset
    if pident is None or bytes(pident.file_id) != bytes(header.base_file_id):
        have = bytes(pident.file_id).hex() if pident else "unknown"
        state.findings.append(error("rvf.cow_parent_mismatch", f"{state.parent_name!r} is not this child's parent: "
                                    f"file_id {have}, the COW_MAP names {bytes(header.base_file_id).hex()}",
                                    f"{seg.path}.payload.header.base_file_id",
                                    base + locate(cow_map_payload, state.cow, "header.base_file_id")))
        state.parent = None
        return
    if runtime_parent_hash(state.parent.data) != bytes(header.base_file_hash):
        state.findings.append(warning("rvf.cow_parent_changed", "the parent changed since the branch (base_file_hash "
                                      "no longer matches its last 64 KiB): the child sees the parent as it is now",
                                      f"{seg.path}.payload.header.base_file_hash",
                                      base + locate(cow_map_payload, state.cow, "header.base_file_hash")))


def membership_findings(state: CowState) -> list[Finding]:
    m, seg = state.membership, state.membership_seg
    if m is None:
        return []
    h = m.header
    base = seg.payload_offset
    if h.filter_type != BITMAP:
        return [warning("rvf.membership_unsupported", f"filter_type {h.filter_type} (roaring bitmap): the child's "
                        "inherited view is not computed", f"{seg.path}.payload.header.filter_type",
                        base + locate(membership_header, h, "filter_type"))]
    if len(m.filter) * 8 < h.vector_count:
        return [error("rvf.membership_size", f"bitmap of {len(m.filter)} bytes holds fewer than vector_count "
                      f"{h.vector_count} bits", f"{seg.path}.payload.header.filter_size",
                      base + locate(membership_header, h, "filter_size"))]
    return []


def visible(state: CowState, ids: np.ndarray) -> np.ndarray:
    """Mask of the parent `ids` the child's membership filter lets through."""
    m = state.membership
    if m is None:
        return np.ones(len(ids), dtype=bool)
    bits = np.unpackbits(np.frombuffer(bytes(m.filter), dtype=np.uint8), bitorder="little")
    inside = ids < np.uint64(len(bits))
    member = np.zeros(len(ids), dtype=bool)
    member[inside] = bits[ids[inside].astype(np.int64)].astype(bool)
    return ~member if m.header.filter_mode == EXCLUDE else member


def branch_rows(doc, state: CowState) -> np.ndarray | None:
    """Mask of the parent's live ids the child sees (its membership bit set, not shadowed by an id
    the child holds or deleted), or None when the parent or the filter is unusable."""
    if state.parent is None or (state.membership is not None and membership_findings(state)):
        return None
    depth = getattr(_depth, "n", 0)
    if depth >= MAX_DEPTH:
        return None
    _depth.n = depth + 1
    try:
        pids = state.parent.ids
        if (state.parent.dimension or 0) != (doc.dimension or 0):
            return None
    finally:
        _depth.n = depth
    shadowed = np.concatenate([doc.loaded_ids, np.asarray(doc.deleted_ids, dtype=np.uint64)])
    return visible(state, pids) & ~np.isin(pids, shadowed)


def map_findings(state: CowState) -> list[Finding]:
    """map_len must be the size of the cluster map that follows the parent path."""
    from ...parsing import build
    from .runtime_payloads import cow_map_map
    body, seg = state.cow.body, state.cow_seg
    size = len(build(cow_map_map, body.map, f"{seg.path}.payload.body.map"))
    if body.map_len == size:
        return []
    at = seg.payload_offset + locate(cow_map_payload, state.cow, "body") + locate(cow_map_body, body, "map_len")
    return [error("rvf.cow_map_length", f"map_len {body.map_len} but the cluster map is {size} bytes",
                  f"{seg.path}.payload.body.map_len", at)]


def cow_findings(doc) -> list[Finding]:
    state = doc.cow
    if state is None:
        return []
    return list(state.findings) + map_findings(state) + membership_findings(state)


class CowAccess:
    """The vectors a loaded store shows (mixed into `RvfDocument`): its own (`own_ids`,
    `own_matrix`), and for a branch child also the parent's it inherits.  Needs `parent_source`."""

    @cached_property
    def cow(self) -> CowState | None:
        """Branch-child state (COW_MAP, MEMBERSHIP, parent) or None."""
        return cow_state(self, self.parent_source)

    @cached_property
    def _inherited(self) -> np.ndarray | None:
        return branch_rows(self, self.cow) if self.cow is not None else None

    @cached_property
    def ids(self) -> np.ndarray:
        """Live vector ids (uint64): this file's own, and for a COW branch child also those it
        inherits from its parent (parent rows first)."""
        keep = self._inherited
        if keep is None:
            return self.own_ids
        return np.concatenate([self.cow.parent.ids[keep], self.own_ids])

    @cached_property
    def matrix(self) -> np.ndarray:
        """Live vectors as a float32 `(n, dimension)` matrix, row i for `ids[i]`."""
        keep = self._inherited
        if keep is None:
            return self.own_matrix
        depth = getattr(_depth, "n", 0)
        _depth.n = depth + 1
        try:
            inherited = self.cow.parent.matrix[keep]
        finally:
            _depth.n = depth
        return np.concatenate([inherited, self.own_matrix])
