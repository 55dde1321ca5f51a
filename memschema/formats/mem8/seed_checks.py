"""What the seed declarations cannot express (MEM8.md 1.8), checked column by column over the block
table; only the content signatures need one SHA-256 per block."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import Finding, Findings, error, warning
from .seed import CONTENT_AREA, seed_block

if TYPE_CHECKING:  # pragma: no cover
    from .seed_store import SeedDocument

CHUNK = 4096   # blocks per vectorised step (bounds the temporary masks to ~16 MiB)


def check_seed(doc: SeedDocument, strict: bool = False) -> list[Finding]:
    out = Findings()
    at = doc.offset_of
    h, blocks = doc.header, doc.blocks
    strictly = error if strict else warning
    if h.version != 1:
        out.add(warning("mem8.version", f"version {h.version}, expected 1", "header.version", at("header.version")))
    for name in ("flags", "temporal_phase", "crc32"):
        if h[name] != 0:
            out.add(warning("mem8.unused_field_nonzero", f"{name} is {h[name]!r}, always 0 upstream",
                            f"header.{name}", at(f"header.{name}")))
    if doc.trailing:
        out.add(strictly("mem8.trailing_partial_block", f"{len(doc.trailing)} bytes after the last complete block "
                         "(torn append); only complete blocks are decoded", "trailing", at("trailing")))
    if h.block_count != len(blocks):
        out.add(warning("mem8.block_count_mismatch", f"header says {h.block_count} blocks, the file holds "
                        f"{len(blocks)}", "header.block_count", at("header.block_count")))
    start = doc.parsed.placed["blocks"].start
    size = seed_block.sizeof()
    field_at = {name: doc.offset_of(f"blocks[0].{name}") - start
                for name in ("index", "timestamp", "token_id", "prev_hash", "content_len", "content_area",
                             "wave_signature")}

    def where(i: int, name: str) -> tuple[str, int]:
        return f"blocks[{i}].{name}", start + i * size + field_at[name]

    content_len = blocks.content_len.astype(np.int64)
    for i in np.nonzero(content_len > CONTENT_AREA)[0].tolist():
        out.add(strictly("mem8.content_truncated", f"content_len {content_len[i]} > {CONTENT_AREA}: only "
                         f"{CONTENT_AREA} bytes were stored (upstream open() panics on this block)",
                         *where(i, "content_len")))
    index = blocks.index
    for i in np.nonzero(index != np.arange(len(blocks), dtype=np.uint64))[0].tolist():
        out.add(warning("mem8.index_sequence", f"index {index[i]}, expected {i}", *where(i, "index")))
    for i in np.nonzero(blocks.token_id != 0)[0].tolist():
        out.add(warning("mem8.unused_field_nonzero", f"token_id is {blocks.token_id[i]}, always 0 upstream",
                        *where(i, "token_id")))
    for i in np.nonzero(blocks.prev_hash.any(axis=1))[0].tolist():
        out.add(warning("mem8.unused_field_nonzero", "prev_hash is not all zero", *where(i, "prev_hash")))
    _check_content(doc, out, where)
    ts = blocks.timestamp
    for i in (np.nonzero(ts[1:] < ts[:-1])[0] + 1).tolist():
        out.add(warning("mem8.timestamp_decreasing", f"timestamp {ts[i]} is before the previous block's "
                        f"{ts[i - 1]}", *where(i, "timestamp")))
    return out.close()


def _check_content(doc: SeedDocument, out: Findings, where) -> None:
    """Padding after the stored content must be zero; the signature must match the content."""
    from .seed_store import wave_signature
    blocks = doc.blocks
    stored = doc.stored_lengths()
    cols = np.arange(CONTENT_AREA)
    freq = doc.header.identity_freq
    for lo in range(0, len(blocks), CHUNK):
        area = blocks.content_area[lo:lo + CHUNK]
        dirty = (area != 0) & (cols[None, :] >= stored[lo:lo + CHUNK, None])
        for k in np.nonzero(dirty.any(axis=1))[0].tolist():
            i = lo + k
            first = int(np.argmax(dirty[k]))
            path, off = where(i, "content_area")
            out.add(warning("mem8.nonzero_padding", "non-zero byte in the content area after the content",
                            path, off + first))
    for i in np.nonzero(blocks.content_len <= CONTENT_AREA)[0].tolist():
        if wave_signature(doc.content(i), freq) != blocks.wave_signature[i].tobytes():
            out.add(warning("mem8.wave_signature_mismatch", "wave_signature does not match SHA-256(content || "
                            "identity_freq): content or identity_freq changed after writing",
                            *where(i, "wave_signature")))
