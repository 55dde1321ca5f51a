"""What the seed declarations cannot express (MEM8.md 1.8), checked column by column over windows
of the block table (bounded temporaries on a file of any size); only the content signatures need
one SHA-256 per block, hashed straight from the file's bytes.

Severity (the project's policy): errors for content that was lost (`content_len` > 4024: the
writer stored only 4024 bytes and upstream's reader panics) and for a header that counts more
blocks than the file holds (blocks lost); warnings for what leaves the data readable (a torn
trailing block, a stale `block_count` behind the file, unused fields, padding, order, signatures
upstream never verifies).  Strict mode turns the torn block into an error too (MEM8.md 1.8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import Finding, Findings, error, warning
from ...padding import dirty_padding
from .seed import CONTENT_AREA, seed_block

if TYPE_CHECKING:  # pragma: no cover
    from .seed_store import SeedDocument

CHUNK = 4096   # blocks per vectorised step (bounds the temporary masks to ~16 MiB)


def check_seed(doc: SeedDocument, strict: bool = False) -> list[Finding]:
    out = Findings()
    at = doc.offset_of
    h, blocks = doc.header, doc.blocks
    if h.version != 1:
        out.add(warning("mem8.version", f"version {h.version}, expected 1", "header.version", at("header.version")))
    for name in ("flags", "temporal_phase", "crc32"):
        if h[name] != 0:
            out.add(warning("mem8.unused_field_nonzero", f"{name} is {h[name]!r}, always 0 upstream",
                            f"header.{name}", at(f"header.{name}")))
    if doc.trailing:
        torn = error if strict else warning
        out.add(torn("mem8.trailing_partial_block", f"{len(doc.trailing)} bytes after the last complete block "
                     "(torn append); only complete blocks are decoded", "trailing", at("trailing")))
    if h.block_count > len(blocks):
        out.add(error("mem8.blocks_missing", f"header says {h.block_count} blocks, the file holds {len(blocks)}: "
                      f"{h.block_count - len(blocks)} blocks were lost", "header.block_count",
                      at("header.block_count")))
    elif h.block_count < len(blocks):
        out.add(warning("mem8.block_count_mismatch", f"header says {h.block_count} blocks, the file holds "
                        f"{len(blocks)} (a stale count: upstream reads every block, and appends after it reuse "
                        "indexes)", "header.block_count", at("header.block_count")))
    placed = doc.parsed.placed["blocks"]
    field_at = {name: doc.offset_of(f"blocks[0].{name}") - placed.start
                for name in ("index", "timestamp", "token_id", "prev_hash", "content_len", "content_area",
                             "wave_signature")}

    def where(i: int, name: str) -> tuple[str, int]:
        return f"blocks[{i}].{name}", placed.record_span(i)[0] + field_at[name]

    previous_ts = None
    for lo in range(0, len(blocks), CHUNK):
        window = blocks[lo:lo + CHUNK]
        _fields(window, lo, previous_ts, out, where)
        _content(doc, window, lo, out, where)
        previous_ts = int(window.timestamp[-1])
    return out.close()


def _fields(blocks, lo: int, previous_ts: int | None, out: Findings, where) -> None:
    content_len = blocks.content_len.astype(np.int64)
    for i in np.nonzero(content_len > CONTENT_AREA)[0].tolist():
        out.add(error("mem8.content_truncated", f"content_len {content_len[i]} > {CONTENT_AREA}: only "
                      f"{CONTENT_AREA} bytes were stored (upstream open() panics on this block)",
                      *where(lo + i, "content_len")))
    index = blocks.index
    for i in np.nonzero(index != np.arange(lo, lo + len(blocks), dtype=np.uint64))[0].tolist():
        out.add(warning("mem8.index_sequence", f"index {index[i]}, expected {lo + i}", *where(lo + i, "index")))
    for i in np.nonzero(blocks.token_id != 0)[0].tolist():
        out.add(warning("mem8.unused_field_nonzero", f"token_id is {blocks.token_id[i]}, always 0 upstream",
                        *where(lo + i, "token_id")))
    for i in np.nonzero(blocks.prev_hash.any(axis=1))[0].tolist():
        out.add(warning("mem8.unused_field_nonzero", "prev_hash is not all zero", *where(lo + i, "prev_hash")))
    ts = blocks.timestamp
    before = np.concatenate([[ts[0] if previous_ts is None else previous_ts], ts[:-1]]).astype(np.uint64)
    for i in np.nonzero(ts < before)[0].tolist():
        out.add(warning("mem8.timestamp_decreasing", f"timestamp {ts[i]} is before the previous block's "
                        f"{before[i]}", *where(lo + i, "timestamp")))


def _content(doc: SeedDocument, blocks, lo: int, out: Findings, where) -> None:
    """Padding after the stored content must be zero; the signature must match the content."""
    stored = np.minimum(blocks.content_len, CONTENT_AREA)
    area = blocks.content_area
    for k, first in dirty_padding(area, stored):
        path, off = where(lo + k, "content_area")
        out.add(warning("mem8.nonzero_padding", "non-zero byte in the content area after the content",
                        path, off + first))
    from .seed_store import wave_signature
    freq = doc.header.identity_freq
    complete = np.nonzero(blocks.content_len <= CONTENT_AREA)[0]
    if not len(complete):
        return
    computed = np.frombuffer(b"".join(wave_signature(area[k, :stored[k]], freq) for k in complete.tolist()),
                             dtype=np.uint8).reshape(-1, seed_block.wave_signature.sizeof())
    for k in complete[(computed != blocks.wave_signature[complete]).any(axis=1)].tolist():
        out.add(warning("mem8.wave_signature_mismatch", "wave_signature does not match SHA-256(content || "
                        "identity_freq): content or identity_freq changed after writing",
                        *where(lo + k, "wave_signature")))

