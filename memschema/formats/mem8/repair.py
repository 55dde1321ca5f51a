"""`repair` for the whole-file MEM8 layouts (the journals are in `journal_repair`).

seed: keep every complete 4096-byte block; cut a torn block; a block whose `content_len` exceeds
the 4024 stored bytes (upstream's open() panics on it) keeps those bytes, with `content_len` and
`wave_signature` recomputed over them; `block_count` rebuilt.

M8MEM: keep every memory that parses, in order, up to the first one that does not (the format
has no lengths to resynchronise on); drop the rest and any bytes after the checksum; rebuild
`mem_count`, `version` and the XOR checksum.
"""

from __future__ import annotations

import numpy as np
from construct import Container, ListContainer

from ...errors import FormatError
from ...parsing import locate, parse, parse_span
from ...registry import Detection
from ...repairing import Action, RepairResult
from .m8mem import HEADER_SIZE as M8MEM_HEADER
from .m8mem import m8mem_header, m8mem_memory
from .m8mem_store import M8MemDocument
from .seed import CONTENT_AREA, seed_layout
from .seed_store import load_seed, wave_signature


def repair_seed(data, detection: Detection) -> RepairResult:
    doc = load_seed(data, detection)
    out = RepairResult(b"")
    at = doc.offset_of
    if doc.trailing:
        out.add(Action.CUT, "mem8.trailing_partial_block", f"{len(doc.trailing)} bytes of a torn block after the "
                "last complete one", "trailing", at("trailing"), len(doc.trailing))
    blocks, header = doc.blocks.copy(), doc.header
    for i in np.flatnonzero(blocks.content_len > CONTENT_AREA).tolist():
        out.add(Action.REBUILT, "mem8.content_truncated", f"content_len {int(blocks[i].content_len)} > "
                f"{CONTENT_AREA}: kept the {CONTENT_AREA} stored bytes, content_len and wave_signature recomputed "
                "over them", f"blocks[{i}].content_len", at(f"blocks[{i}].content_len"))
        blocks[i].content_len = CONTENT_AREA
        blocks[i].wave_signature = np.frombuffer(wave_signature(doc.content(i), header.identity_freq), np.uint8)
    if header.block_count != len(blocks):
        out.add(Action.REBUILT, "mem8.block_count_mismatch", f"block_count {header.block_count} -> {len(blocks)}",
                "header.block_count", at("header.block_count"))
        header.block_count = len(blocks)
    out.data = seed_layout.build({"header": header, "blocks": blocks}) if out.changes else bytes(data)
    out.kept = {"blocks": len(blocks)}
    return out


def repair_m8mem(data, detection: Detection) -> RepairResult:
    if len(data) < M8MEM_HEADER:
        raise FormatError(f"file is {len(data)} bytes, the M8MEM header needs {M8MEM_HEADER}: nothing to keep",
                          "header", 0, "m8mem.truncated")
    header = parse(m8mem_header, data, 0, "header")
    out = RepairResult(b"")
    memories, pos = ListContainer(), M8MEM_HEADER
    for i in range(header.mem_count):
        try:
            memory, size = parse_span(m8mem_memory, data, pos, f"memories[{i}]")
        except FormatError as exc:
            out.add(Action.DROPPED, "m8mem.length_past_end", f"memories {i}..{header.mem_count - 1} "
                    f"({len(data) - pos} bytes) do not parse: {exc.message}", f"memories[{i}]", pos, len(data) - pos)
            pos = len(data)
            break
        memories.append(memory)
        pos += size
    doc = M8MemDocument(detection, data)      # its fields are what was kept; seal() below rebuilds the rest
    doc.fields = Container(header=header, memories=memories, checksum=None, trailing=b"")
    stored = data[pos] if pos < len(data) else None
    if pos + 1 < len(data):
        out.add(Action.DROPPED, "m8mem.trailing_bytes", f"{len(data) - pos - 1} bytes after the checksum",
                "trailing", pos + 1, len(data) - pos - 1)
    if header.version != 1:
        out.add(Action.REBUILT, "m8mem.version", f"version {header.version} -> 1 (upstream reads only 1)",
                "header.version", locate(m8mem_header, header, "version"))
        header.version = 1
    if header.mem_count != len(memories):
        out.add(Action.REBUILT, "m8mem.mem_count", f"mem_count {header.mem_count} -> {len(memories)}",
                "header.mem_count", locate(m8mem_header, header, "mem_count"))
    doc.seal()
    if stored is None or stored != doc.fields.checksum:
        out.add(Action.REBUILT, "m8mem.checksum_mismatch", f"checksum {'missing' if stored is None else hex(stored)}"
                f" -> {doc.fields.checksum:#04x} (the XOR of the kept bytes; their content is not verified by it)",
                "checksum", min(pos, len(data)))
    out.data = doc.build() if out.changes else bytes(data)
    out.kept = {"memories": len(memories)}
    return out
