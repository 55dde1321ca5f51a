"""Validation of native pair files (MEM8.md 2.9; lenient = strict), under the project's severity
policy: an error when a block, record or payload cannot be read as its writer meant, a warning when
the data is intact but something is off.

The pair rules run column by column over windows of the pair table (bounded temporaries on a file
of any size); the record rules stream: each record is decoded, checked and dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import Finding, Findings, error, warning
from ...padding import dirty_padding
from ...parsing import field_offset
from .native import CHUNK_SIZE, FLAG_HAS_CHAINED_RAW, FLAG_TOMBSTONED, LANES, LIVE_UNKNOWN_26, native_pair
from .native_records import P, Record

if TYPE_CHECKING:  # pragma: no cover
    from .native_store import NativeDocument

WINDOW = 2048      # pairs per vectorised step (temporaries of at most ~8 MiB)
KNOWN_FLAGS = FLAG_TOMBSTONED | FLAG_HAS_CHAINED_RAW


def check_native(doc: NativeDocument) -> list[Finding]:
    out = Findings()
    _pair_findings(doc, out)
    out.extend_capped(doc.replay_findings)
    if doc.application == "st8":
        out.extend_capped(doc.codec_problems())     # the replay's findings are added above
        units, kind = doc.index, "records"
    else:
        units, kind = doc.payloads, "payloads"
    _unit_findings(doc, units, out)
    torn = doc.torn_tail
    if torn is not None:
        before = int(np.count_nonzero(_column(units, "offset") < torn.offset))
        out.add(warning(P + "torn_tail", f"torn tail: {torn.length} bytes at offset {torn.offset} ({torn.reason}); "
                        f"recoverable: {before} complete {kind} in the first {torn.offset} bytes; upstream open() "
                        f"truncates the file to {torn.offset}", "tail", torn.offset))
    return out.close()


def _at(doc: NativeDocument, k: int, path: str) -> int:
    """Absolute offset of `pairs[k].<path>`: the pair's place in the layout plus the field's."""
    start, _ = doc.parsed.placed["pairs"].record_span(k)
    return start + field_offset(native_pair, path)


def _pair_findings(doc: NativeDocument, out: Findings) -> None:
    pairs, crc_ok = doc.pairs, doc.block_crc_ok
    for lo in range(0, len(pairs), WINDOW):
        _window(doc, pairs[lo:lo + WINDOW], crc_ok[lo:lo + WINDOW], lo, out)


def _window(doc: NativeDocument, pairs: np.ndarray, crc_ok: np.ndarray, lo: int, out: Findings) -> None:
    def each(mask, code, severity, name, message):
        for i in np.flatnonzero(mask).tolist():
            out.add(severity(P + code, message(i), f"pairs[{lo + i}].{name}", _at(doc, lo + i, name)))

    for lane, name in enumerate(LANES):
        col, want = pairs[name], LANES[name]
        each(~crc_ok[:, lane], "crc_mismatch", error, f"{name}.crc32",
             lambda i, n=name: f"{n} block seal {int(pairs[n]['crc32'][i]):#010x} does not match the block's CRC-32")
        each(col["magic"] != want["magic"], "bad_magic", error, f"{name}.magic",
             lambda i, n=name: f"magic {int(pairs[n]['magic'][i]):#010x}, expected {LANES[n]['magic']:#010x}")
        each(col["lane"] != want["lane"], "bad_lane", error, f"{name}.lane",
             lambda i, n=name: f"lane {int(pairs[n]['lane'][i])}, expected {LANES[n]['lane']}")
        each(col["version"] != 1, "bad_version", error, f"{name}.version",
             lambda i, n=name: f"version {int(pairs[n]['version'][i])}, expected 1")
        each(col["kind"] != want["kind"], "bad_kind", error, f"{name}.kind",
             lambda i, n=name: f"kind {int(pairs[n]['kind'][i])}, expected {LANES[n]['kind']}")
        each(col["state"] != want["state"], "state", warning, f"{name}.state",
             lambda i, n=name: f"state {int(pairs[n]['state'][i])}, expected {LANES[n]['state']}")
    mem8, raw8 = pairs["mem8"], pairs["raw8"]
    each(mem8["location"] != raw8["location"], "location_mismatch", error, "raw8.location",
         lambda i: f"RAW8 location {int(raw8['location'][i])} differs from the MEM8 block's {int(mem8['location'][i])}")
    each(mem8["freq_denominator"] == 0, "zero_freq_denominator", error, "mem8.freq_denominator",
         lambda i: "freq_denominator is 0")
    each((raw8["payload_len"] == 0) | (raw8["payload_len"] > CHUNK_SIZE), "payload_len", error, "raw8.payload_len",
         lambda i: f"payload_len {int(raw8['payload_len'][i])} is not in 1 .. {CHUNK_SIZE}")
    each(mem8["unknown_24"] != 0, "nonzero_reserved", warning, "mem8.unknown_24",
         lambda i: f"unknown_24 is {int(mem8['unknown_24'][i])}, always 0 upstream")
    each(mem8["unknown_32"].any(axis=1), "nonzero_reserved", warning, "mem8.unknown_32",
         lambda i: "unknown_32 is not all zero")
    each(mem8["reserved"].any(axis=1), "nonzero_reserved", warning, "mem8.reserved",
         lambda i: "reserved WaveAtom slots are not all zero")
    each((mem8["flags"] & ~np.uint8(KNOWN_FLAGS)) != 0, "unknown_flags", warning, "mem8.flags",
         lambda i: f"flags {int(mem8['flags'][i]):#04x} has bits other than TOMBSTONED and HAS_CHAINED_RAW")
    expected_26 = np.where((mem8["flags"] & FLAG_TOMBSTONED) != 0, 0, LIVE_UNKNOWN_26)
    each(mem8["unknown_26"] != expected_26, "unknown_26", warning, "mem8.unknown_26",
         lambda i: f"unknown_26 {int(mem8['unknown_26'][i]):#06x} does not match the tombstone flag "
                   f"(expected {int(expected_26[i]):#06x})")
    for i, first in dirty_padding(raw8["payload"], raw8["payload_len"]):
        out.add(warning(P + "nonzero_reserved", "RAW8 padding after the payload is not zero",
                        f"pairs[{lo + i}].raw8.payload", _at(doc, lo + i, "raw8.payload") + first))


def _unit_findings(doc: NativeDocument, units: list, out: Findings) -> None:
    """Flags that must agree over the pairs of one record or payload, for every unit at once:
    FLAG_HAS_CHAINED_RAW set exactly on the pairs of multi-pair units, FLAG_TOMBSTONED on all
    pairs of a unit or on none."""
    if not units:
        return
    first, count = _column(units, "pair_index"), _column(units, "pairs")
    pair = np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    flags = doc.pairs["mem8"]["flags"][pair]
    unit = np.repeat(np.arange(len(units)), count)
    chained = (flags & FLAG_HAS_CHAINED_RAW) != 0
    wrong = chained != (count > 1)[unit]
    bad_units, at = np.unique(unit[wrong], return_index=True)
    for u, i in zip(bad_units.tolist(), np.flatnonzero(wrong)[at].tolist()):
        k = int(pair[i])
        out.add(warning(P + "chain_flag", f"FLAG_HAS_CHAINED_RAW is {'set' if chained[i] else 'clear'} on a "
                        f"{count[u]}-pair {'record' if isinstance(units[u], Record) else 'payload'}",
                        f"pairs[{k}].mem8.flags", _at(doc, k, "mem8.flags")))
    tombs = np.add.reduceat(((flags & FLAG_TOMBSTONED) != 0).astype(np.int64), np.cumsum(count) - count)
    for u in np.flatnonzero((tombs > 0) & (tombs < count)).tolist():
        k = int(first[u])
        out.add(warning(P + "tombstone_flag", "FLAG_TOMBSTONED differs between the pairs of one unit",
                        f"pairs[{k}].mem8.flags", _at(doc, k, "mem8.flags")))


def _column(units, name: str) -> np.ndarray:
    """An integer attribute of every record or payload (the record index gives it without making them)."""
    if hasattr(units, "column"):
        return units.column(name)
    return np.fromiter((getattr(u, name) for u in units), dtype=np.int64, count=len(units))
