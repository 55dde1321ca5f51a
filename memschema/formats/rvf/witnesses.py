"""Witnesses of a loaded store (mixed into `RvfDocument`): runtime WITNESS payloads in file order
with their chain `link` (RVF.md 3.8), spec WITNESS payloads as chains of 73-byte entries (4.5)."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ...errors import FormatError
from ...parsing import build, parse
from . import hashes
from .jsonview import text
from .runtime_payloads import witness_payload
from .segment import SEG_TYPES
from .spec import witness_chain, witness_entry

WITNESS = SEG_TYPES["witness"]
ENTRY_SIZE = witness_entry.sizeof()


def chain_links(entries, base: int) -> list[dict]:
    """Spec witness entries with `prev_hash_ok` and `link` (entry i's prev_hash = SHAKE-256-256
    of entry i−1's bytes; entry 0's is zero)."""
    out, previous = [], None
    for i, e in enumerate(entries):
        prev = bytes(e.prev_hash)
        if previous is None:
            ok = prev == hashes.ZERO32
            link = "genesis" if ok else "broken"
        else:
            ok = prev == hashes.shake256(previous, 32)
            link = "linked" if ok else "broken"
        out.append({"offset": base + i * ENTRY_SIZE, "prev_hash": prev.hex(),
                    "action_hash": bytes(e.action_hash).hex(), "timestamp_ns": e.timestamp_ns,
                    "witness_type": e.witness_type, "prev_hash_ok": ok, "link": link})
        previous = build(witness_entry, e)
    return out


class WitnessAccess:
    """`witnesses` and `witness_chain_ok` for a document with `segments`, their `headers` table,
    `dialect` and `payload()`."""

    @cached_property
    def witnesses(self) -> list[dict]:
        """Runtime WITNESS segments in file order with their `link`; spec WITNESS payloads as entry
        chains."""
        out, previous = [], None
        rows = np.flatnonzero(self.headers["seg_type"] == WITNESS).tolist()
        for i, segment_id in zip(rows, self.headers["segment_id"][rows].tolist()):
            seg = self.segments[i]
            if self.dialect == "spec":
                out.extend(self._spec_witness(seg))
                continue
            w = seg.decoded
            item = {"offset": seg.offset, "segment_id": segment_id}
            if w is None:
                try:   # the payload does not decode: why (or ruvbot's JSON, which is no witness payload)
                    w = parse(witness_payload, self.data, seg.payload_offset, f"{seg.path}.payload", seg.payload_length)
                except FormatError as exc:
                    item.update(link="unparseable", error=exc)
                    out.append(item)
                    previous = None
                    continue
            prev = bytes(w.prev_hash)
            if prev == hashes.ZERO32:
                link = "genesis" if not out else "restart"
            elif previous is not None and prev == hashes.fold32(previous):
                link = "linked"
            else:
                link = "broken"
            item.update(witness_type=w.witness_type, timestamp_ns=w.timestamp_ns,
                        action=text(w.action), prev_hash=prev.hex(), link=link, value=w)
            out.append(item)
            previous = self.payload(seg)
        return out

    def _spec_witness(self, seg) -> list[dict]:
        path = f"{seg.path}.payload"
        if seg.payload_length % ENTRY_SIZE:
            return [{"offset": seg.offset, "segment_id": seg.header.segment_id, "link": "unparseable",
                     "error": FormatError(f"{seg.payload_length} bytes is not a multiple of {ENTRY_SIZE}",
                                          path, seg.payload_offset, "rvf.witness_unparseable")}]
        entries = parse(witness_chain, self.data, seg.payload_offset, path, seg.payload_length)
        return [dict(item, segment_id=seg.header.segment_id) for item in chain_links(entries, seg.payload_offset)]

    @property
    def witness_chain_ok(self) -> bool:
        return all(w["link"] in ("genesis", "linked", "restart") for w in self.witnesses)
