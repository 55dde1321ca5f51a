"""What the V3 log declarations cannot express (AMEM-WAL.md §2.4-2.6) under the project's severity
policy.

immortal.log — errors: a record serde does not read as a Block (upstream skips it silently, and
every later `get(sequence)` then returns the wrong block), a hash that is not the BLAKE3 of its
block, a `prev_hash` that is not the previous block's hash, a sequence that is not the block's
position, bytes after a zero `block_len` (upstream stops reading there and overwrites them).
Warnings: a torn final record (upstream overwrites it on the next append), a `size_bytes` that is
not the content's length, JSON not in the form serde_json writes (upstream hashes its own
re-serialisation; memschema the bytes).  memory.wal — errors: CRC, unreadable block, hash (recovery
skips the entry), an entry over 100 MiB; warnings: torn tail, sequences not increasing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import Finding, Findings, error, warning
from .block_json import ZERO_HASH, BlockJson, serde_block
from .declarations import MAX_WAL_ENTRY_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from .document import BlockLogDocument, ImmortalLogDocument, MemoryWalDocument


def check_log(doc: BlockLogDocument, strict: bool = False) -> list[Finding]:
    out = Findings()
    if doc.section == "records":
        _immortal(doc, out, strict)
    else:
        _memory_wal(doc, out, strict)
    return out.close()


def _block(doc: BlockLogDocument, out: Findings, i: int) -> BlockJson | None:
    """The record's Block, or an error finding saying why serde would not read it."""
    read = doc.reads[i]
    if isinstance(read, BlockJson):
        return read
    path = f"{doc.section}[{i}].block" + (f".{read.key}" if read.key else "")
    out.add(error("amem_log.block_unreadable", f"not a Block ({read}): upstream skips this record",
                  path, doc.block_offset(i, read.key)))
    return None


def _hash_and_form(doc: BlockLogDocument, out: Findings, i: int, read: BlockJson) -> None:
    v = read.value
    path = f"{doc.section}[{i}].block"
    if read.computed_hash() != bytes(v["hash"]):
        out.add(error("amem_log.hash_mismatch", "hash is not BLAKE3(prev_hash, sequence, timestamp, content): "
                      "the block changed after it was written", f"{path}.hash", doc.block_offset(i, "hash")))
    if v["size_bytes"] != len(read.content_bytes):
        out.add(warning("amem_log.size_bytes_mismatch", f"size_bytes {v['size_bytes']}, the content's JSON has "
                        f"{len(read.content_bytes)} bytes", f"{path}.size_bytes", doc.block_offset(i, "size_bytes")))
    if serde_block(v) != read.raw:
        out.add(warning("amem_log.not_serde_form", "the JSON is not what serde_json writes for this block (order, "
                        "spacing or number form): upstream hashes its own re-serialisation", path, doc.block_offset(i)))


def _torn(doc: BlockLogDocument, out: Findings, strict: bool, what: str) -> None:
    tail = doc.parsed.placed[doc.section].tail
    if tail is not None:
        severity = error if strict else warning
        out.add(severity("amem_log.torn_tail", f"{tail.length} bytes do not form a complete {what} (a torn "
                         f"append): {tail.error.message}", tail.error.path,
                         tail.offset if tail.error.offset is None else tail.error.offset))


def _immortal(doc: ImmortalLogDocument, out: Findings, strict: bool) -> None:
    chain = doc.chain
    records = doc.parsed.records
    if chain.scanned < len(records):
        start = doc.offset_of(f"records[{chain.scanned}].block_len")
        after = len(doc.data) - start - doc.layout.section("records").decl.block_len.sizeof()
        severity = error if any(bytes(doc.data[start:])) else warning
        out.add(severity("amem_log.zero_length_record", f"block_len 0 ends upstream's scan: the {after} bytes "
                         "after it are not read, and the next append overwrites them", f"records[{chain.scanned}]"
                         ".block_len", start))
    else:
        _torn(doc, out, strict, "record")
    expected_prev, position = ZERO_HASH, 0
    for i in range(chain.scanned):
        read = _block(doc, out, i)
        if read is None:
            continue
        v = read.value
        path = f"records[{i}].block"
        if v["sequence"] != position:
            out.add(error("amem_log.sequence_gap", f"sequence {v['sequence']}, but it is block {position} of the "
                          "chain: get(sequence) returns another block", f"{path}.sequence",
                          doc.block_offset(i, "sequence")))
        if bytes(v["prev_hash"]) != expected_prev:
            out.add(error("amem_log.chain_broken", "prev_hash is not the previous block's hash"
                          + (" (zero for block 0)" if position == 0 else ""), f"{path}.prev_hash",
                          doc.block_offset(i, "prev_hash")))
        _hash_and_form(doc, out, i, read)
        expected_prev, position = bytes(v["hash"]), position + 1


def _memory_wal(doc: MemoryWalDocument, out: Findings, strict: bool) -> None:
    _torn(doc, out, strict, "entry")
    previous = None
    for i, entry in enumerate(doc.parsed.entries):
        if entry.len > MAX_WAL_ENTRY_BYTES:
            out.add(error("amem_log.wal_entry_length", f"len {entry.len} is over recovery's "
                          f"{MAX_WAL_ENTRY_BYTES}-byte limit: it skips the entry", f"entries[{i}].len",
                          doc.offset_of(f"entries[{i}].len")))
        if not doc.crc_ok[i]:
            out.add(error("amem_log.wal_crc_mismatch", "crc32 does not match the block: recovery skips the entry",
                          f"entries[{i}].crc32", doc.offset_of(f"entries[{i}].crc32")))
        if previous is not None and entry.sequence <= previous:
            out.add(warning("amem_log.wal_sequence_not_increasing", f"sequence {entry.sequence} after {previous}",
                            f"entries[{i}].sequence", doc.offset_of(f"entries[{i}].sequence")))
        previous = entry.sequence
        read = _block(doc, out, i)
        if read is not None:
            _hash_and_form(doc, out, i, read)
