"""`repair` for smart-tree's record journals (MEM8.md 2.6-2.8).

native pair files: keep every record (or raw payload) whose pairs carry no error; a record whose
frame verifies (header and payload CRC-32, so its key and value are intact) but whose pairs are
damaged (block seal, magic, lane, kind, location, frequency denominator) gets its pairs rebuilt
and resealed from the verified payload; everything else is dropped pair by pair; a torn tail is
cut.  T8R: keep every frame that verifies; drop frames whose payload does not verify (their
extent is known from the verified header); after a header that does not verify, resynchronise at
the next offset where a whole frame verifies; cut a torn tail; rebuild a damaged file header.
"""

from __future__ import annotations

import numpy as np

from ...parsing import parse
from ...registry import Detection
from ...repairing import Action, RepairResult
from .codecs import CodecError
from .codecs.location import location as key_location
from .native import FLAG_TOMBSTONED, PAIR_SIZE, ST8_MAGIC
from .native_store import NativeDocument, Record, load_native, payload_pairs, wave_fields
from .record_frame import FRAME_HEADER_SIZE, decode_compressed, header_problems, next_frame
from .t8r import FILE_HEADER_SIZE, t8r_frame_header
from .t8r_store import file_header

NATIVE = "mem8.native."


def repair_native(data, detection: Detection) -> RepairResult:
    doc = load_native(data, detection)
    sound = np.flatnonzero(doc.block_crc_ok.all(axis=1))
    if len(sound) and sound[0]:     # a damaged first pair must not decide what the file holds
        held = "st8" if doc.chunk(int(sound[0]))[:len(ST8_MAGIC)] == ST8_MAGIC else "raw"
        doc = NativeDocument(doc.detection, data, application=held)
    errors = [f for f in doc.check() if f.is_error and f.offset is not None]
    units = {u.pair_index: u for u in (doc.records if doc.application == "st8" else doc.payloads)}
    out = RepairResult(b"")
    torn = doc.torn_tail
    end_pair = len(doc.pairs) if torn is None else torn.offset // PAIR_SIZE   # the torn record's pairs go too
    kept, k, units_kept = bytearray(), 0, 0
    while k < end_pair:
        unit = units.get(k)
        span = unit.pairs if unit is not None else 1
        start, end = k * PAIR_SIZE, (k + span) * PAIR_SIZE
        bad = [f for f in errors if start <= f.offset < end]
        if isinstance(unit, Record) and unit.key is None and unit.problem not in bad:
            bad.insert(0, unit.problem)     # undecoded: its finding may point at the pair after it
        if not bad:
            kept += doc.buffer[start:end]
            units_kept += unit is not None
        elif isinstance(unit, Record) and unit.key is not None:
            kept += _resealed(doc, unit)
            units_kept += 1
            out.add(Action.REBUILT, bad[0].code, f"record {unit.key!r} verifies (frame CRCs) but its pairs do not "
                    f"({', '.join(sorted({f.code.removeprefix(NATIVE) for f in bad}))}): pairs rebuilt and resealed "
                    "from its payload", f"pairs[{k}]", start, end - start)
        else:
            what = "record" if isinstance(unit, Record) else "payload" if unit is not None else "pair"
            out.add(Action.DROPPED, bad[0].code, f"{what} of {span} pairs: {bad[0].message}", bad[0].path, start,
                    end - start)
        k += span
    if torn is not None:
        out.add(Action.CUT, NATIVE + "torn_tail", f"torn tail ({torn.reason})", "tail", torn.offset, torn.length)
    out.data = bytes(kept) if out.changes else bytes(data)
    out.kept = {"records" if doc.application == "st8" else "payloads": units_kept, "pairs": len(out.data) // PAIR_SIZE}
    return out


def _resealed(doc: NativeDocument, record: Record) -> bytes:
    """The record's pairs rebuilt from its verified payload, at the location its key hashes to,
    with its wave (the default wave when the stored one has a zero frequency denominator)."""
    first = doc.pairs[record.pair_index]["mem8"]
    payload = b"".join(doc.chunk(j) for j in range(record.pair_index, record.pair_index + record.pairs))
    wave = wave_fields(first) if int(first["freq_denominator"]) else None
    return payload_pairs(key_location(record.key), payload, wave, bool(int(first["flags"]) & FLAG_TOMBSTONED))


def repair_t8r(data, detection: Detection) -> RepairResult:
    out = RepairResult(b"")
    head = file_header()
    if bytes(data[:FILE_HEADER_SIZE]) != head:
        out.add(Action.REBUILT, "t8r.bad_magic", f"file header {bytes(data[:FILE_HEADER_SIZE]).hex()} -> "
                f"{head.hex()} (T8R\\0, version 1)", "header", 0, min(len(data), FILE_HEADER_SIZE))
    kept, frames, pos = bytearray(head), 0, FILE_HEADER_SIZE
    while pos < len(data):
        path = f"frames[{frames}]"
        if len(data) - pos < FRAME_HEADER_SIZE:
            out.add(Action.CUT, "t8r.torn_tail", "incomplete frame header", "tail", pos, len(data) - pos)
            break
        header = parse(t8r_frame_header, data, pos, f"{path}.header")
        problems = header_problems(header)
        if problems:
            resume = next_frame(data, pos + 1)
            stop = len(data) if resume is None else resume
            out.add(Action.DROPPED, "t8r." + problems[0][0], f"{problems[0][1]}: {stop - pos} bytes skipped"
                    + ("" if resume is None else f", frames resume at {resume}"), f"{path}.header", pos, stop - pos)
            pos = stop
            continue
        end = pos + FRAME_HEADER_SIZE + header.compressed_len
        if end > len(data):
            out.add(Action.CUT, "t8r.torn_tail", f"frame needs {end - pos} bytes, {len(data) - pos} remain", "tail",
                    pos, len(data) - pos)
            break
        try:
            decode_compressed(header, bytes(data[pos + FRAME_HEADER_SIZE:end]))
        except CodecError as exc:
            out.add(Action.DROPPED, "t8r." + exc.code, exc.message, f"{path}.compressed", pos + FRAME_HEADER_SIZE,
                    end - pos)
        else:
            kept += data[pos:end]
            frames += 1
        pos = end
    out.data = bytes(kept) if out.changes else bytes(data)
    out.kept = {"frames": frames}
    return out
