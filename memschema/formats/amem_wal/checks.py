"""What the MWAL declarations cannot express: AMEM-WAL.md §1.11 under the project's severity policy.

Errors: the header version upstream refuses; every entry upstream's readers reject (total_len over
16 MiB, a direction that is neither 0 nor 1, a CRC that fails, bytes that do not frame an entry) —
the first one is where the scan stops, and the next server start cuts the file there.  Warnings:
a torn final append (upstream recovers the entries before it), unchecksummed slack, non-zero
flags/reserved bytes, another process's session, sequences or timestamps going backwards (several
servers sharing the file).  Info: a zero session (read as the header's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import Finding, Findings, Severity, error, warning
from ...parsing import field_offset
from .declarations import ENTRY_HEAD_SIZE, VERSION, mwal_entry_head
from .recovery import Rejection, entry_rejection, tail_rejection

if TYPE_CHECKING:  # pragma: no cover
    from .document import AmemWalDocument

CODES = {"entry_length": "amem_wal.entry_length", "data_len_overflow": "amem_wal.data_len_overflow",
         "direction": "amem_wal.direction", "crc_mismatch": "amem_wal.crc_mismatch", "torn": "amem_wal.torn_tail"}


def info(code: str, message: str, path: str = "", offset: int | None = None) -> Finding:
    return Finding(Severity.INFO, code, message, path, offset)


def check_wal(doc: AmemWalDocument, strict: bool = False) -> list[Finding]:
    out = Findings()
    _header(doc, out)
    _scan(doc, out, strict)
    _entries(doc, out)
    return out.close()


def _header(doc: AmemWalDocument, out: Findings) -> None:
    h, at = doc.header, doc.offset_of
    if h.version != VERSION:
        out.add(error("amem_wal.version", f"version {h.version}: upstream reads only {VERSION} ('unsupported "
                      "transport WAL version') and the MCP server does not start with capture on", "header.version",
                      at("header.version")))
    if h.flags:
        out.add(warning("amem_wal.flags_nonzero", f"flags {h.flags:#x}; upstream writes 0 and ignores them",
                        "header.flags", at("header.flags")))
    reserved = bytes(h.reserved)
    if any(reserved):
        first = next(i for i, b in enumerate(reserved) if b)
        out.add(warning("amem_wal.reserved_nonzero", "reserved header bytes are not zero (ignored by upstream)",
                        "header.reserved", at("header.reserved") + first))


def _stop_message(doc: AmemWalDocument, stop: Rejection) -> str:
    rec = doc.recovery
    later = len(doc.parsed.entries) - rec.accepted - (stop.index is not None)
    cut = len(doc.data) - rec.truncate_to
    more = f", {later} more entries after it" if later > 0 else ""
    if stop.torn:
        return (f"{stop.message}: upstream's readers stop after {rec.accepted} entries and the next server "
                f"start cuts the {cut} torn bytes off")
    return (f"{stop.message}: upstream's readers stop here, after {rec.accepted} entries; the next server start "
            f"cuts off the {cut} bytes from here to the end{more}")


def _scan(doc: AmemWalDocument, out: Findings, strict: bool) -> None:
    """The first rejection (where upstream stops), then every other entry upstream would reject."""
    stop = doc.recovery.stop
    if stop is not None:
        severity = error if not stop.torn or strict else warning
        out.add(severity(CODES[stop.step], _stop_message(doc, stop), stop.path, stop.offset))
    placed = doc.parsed.placed["entries"]
    table = doc.heads
    for i in np.nonzero(doc.problems != "")[0].tolist():
        if stop is not None and stop.index == i:
            continue
        r = entry_rejection(doc.problems[i], i, placed.offsets[i], table[i])
        out.add(error(CODES[r.step], f"{r.message} (upstream's readers reject this entry)", r.path, r.offset))
    if stop is not None and stop.index is not None and placed.tail is not None:
        r = tail_rejection(doc.parsed.data, placed.tail)
        severity = error if not r.torn or strict else warning
        out.add(severity(CODES[r.step], f"{r.message} (after the point where upstream stops)", r.path, r.offset))


def _entries(doc: AmemWalDocument, out: Findings) -> None:
    table = doc.heads
    if not len(table):
        return
    starts = np.asarray(doc.parsed.placed["entries"].offsets, dtype=np.int64)
    rel = {name: field_offset(mwal_entry_head, name) for name in ("session_id", "sequence", "timestamp_ns")}

    def where(i: int, name: str) -> tuple[str, int]:
        return f"entries[{i}].{name}", int(starts[i]) + rel[name]

    data_len = table.data_len.astype(np.int64)
    slack = table.total_len.astype(np.int64) - ENTRY_HEAD_SIZE - data_len
    for i in np.nonzero(slack > 0)[0].tolist():
        out.add(warning("amem_wal.unchecksummed_slack", f"{slack[i]} bytes after data up to total_len: skipped by "
                        "upstream's readers and covered by no checksum", f"entries[{i}].slack",
                        int(starts[i]) + ENTRY_HEAD_SIZE + int(data_len[i])))
    header = np.frombuffer(bytes(doc.header.session_id), dtype=np.uint8)
    sessions = np.asarray(table.session_id)
    zero = ~sessions.any(axis=1)
    other = ~zero & (sessions != header).any(axis=1)
    for i in np.nonzero(zero)[0].tolist():
        out.add(info("amem_wal.session_zero", "session_id is zero; upstream's read_entries reports the header's",
                     *where(i, "session_id")))
    for i in np.nonzero(other)[0].tolist():
        out.add(warning("amem_wal.session_mismatch", f"session {bytes(sessions[i]).hex()} is not the header's "
                        f"{bytes(header).hex()} (upstream always writes the header's)", *where(i, "session_id")))
    seq = table.sequence
    for i in (np.nonzero(seq[1:] <= seq[:-1])[0] + 1).tolist():
        out.add(warning("amem_wal.sequence_not_increasing", f"sequence {seq[i]} after {seq[i - 1]}: several "
                        "processes appended (each keeps its own counter); the Layer-2 daemon skips entries whose "
                        "sequence is not above its checkpoint", *where(i, "sequence")))
    ts = table.timestamp_ns
    for i in (np.nonzero(ts[1:] < ts[:-1])[0] + 1).tolist():
        out.add(warning("amem_wal.timestamp_decreasing", f"timestamp_ns {ts[i]} is before the previous entry's "
                        f"{ts[i - 1]}", *where(i, "timestamp_ns")))
