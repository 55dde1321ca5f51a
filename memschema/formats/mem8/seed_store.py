"""A loaded seed `.m8` file: checks (MEM8.md 1.8), append, and the two reading orders (1.6)."""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Iterable, Iterator

import numpy as np
from construct import Container, ListContainer

from ...document import Document
from ...errors import Finding, FormatError, error, warning
from ...jsonify import to_jsonable
from ...parsing import build, locate, parse
from ...registry import Detection
from ...timestamps import stamp
from .seed import CONTENT_AREA, HEADER_SIZE, MAGIC, seed_file

KEEP_ANY = 10      # read_by_importance keeps every block until this many are kept ...
KEEP_MAX = 20      # ... and stops at this many


def encode_importance(importance: float) -> int:
    """`(importance * 65535.0) as u16` exactly as Rust computes it: f32 product, saturating cast."""
    with np.errstate(over="ignore", invalid="ignore"):
        product = np.float32(importance) * np.float32(65535.0)
    if np.isnan(product) or product <= 0:
        return 0
    if product >= 65535:
        return 65535
    return int(product)


def decode_importance(raw: int) -> float:
    """`importance as f32 / 65535.0`, the value upstream orders by."""
    return float(np.float32(raw) / np.float32(65535.0))


def wave_signature(content: bytes, identity_freq: float) -> bytes:
    return hashlib.sha256(bytes(content) + struct.pack("<d", identity_freq)).digest()[:16]


def block_content(block) -> bytes:
    """The stored content: the first min(content_len, 4024) bytes of the content area."""
    return bytes(block.content_area[: min(block.content_len, CONTENT_AREA)])


def now_us() -> int:
    return time.time_ns() // 1000


class SeedDocument(Document):
    """The seed layout: `header`, `blocks` (complete blocks) and `trailing` (a torn append)."""

    def __init__(self, detection: Detection, data=b"", source: str = "", fields=None):
        super().__init__(detection, data, source)
        self.fields = fields

    @classmethod
    def new(cls, identity_freq: float = 440.0) -> SeedDocument:
        """What `M8BinaryFile::create` writes: a header with no blocks."""
        header = Container(magic=MAGIC, version=1, flags=0, block_count=0,
                           identity_freq=identity_freq, temporal_phase=0.0, crc32=0)
        return cls(Detection("mem8", "seed"), fields=Container(header=header, blocks=ListContainer(),
                                                                trailing=b""))

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> SeedDocument:
        return cls(detection, data, source, parse(seed_file, data))

    # -- access ----------------------------------------------------------------------------
    @property
    def header(self):
        return self.fields.header

    @property
    def blocks(self):
        return self.fields.blocks

    def content(self, i: int) -> bytes:
        return block_content(self.blocks[i])

    def offset_of(self, path: str) -> int:
        return locate(seed_file, self.fields, path)

    # -- writing ---------------------------------------------------------------------------
    def append_block(self, content: bytes, importance: float, timestamp: int | None = None):
        """Append one block as `M8BinaryFile::append_block` does (content cut to 4024 bytes,
        `content_len` the full length mod 2^32, signature over the full content), without
        upstream's handle bugs.  Returns the new block.  Refuses to append after a torn block."""
        if self.fields.trailing:
            raise FormatError(f"{len(self.fields.trailing)} bytes of a torn block follow the last "
                              "complete block; drop them (drop_trailing) before appending",
                              "trailing", self.offset_of("trailing"), "trailing_partial_block")
        content = bytes(content)
        header = self.header
        block = Container(
            index=header.block_count,
            wave_signature=wave_signature(content, header.identity_freq),
            timestamp=now_us() if timestamp is None else timestamp,
            importance=encode_importance(importance),
            token_id=0,
            prev_hash=bytes(32),
            content_len=len(content) & 0xFFFFFFFF,
            content_area=content[:CONTENT_AREA].ljust(CONTENT_AREA, b"\0"),
        )
        self.blocks.append(block)
        header.block_count = (header.block_count + 1) & 0xFFFFFFFF
        return block

    def drop_trailing(self) -> bytes:
        """Remove (and return) the bytes of a torn trailing block."""
        cut, self.fields.trailing = self.fields.trailing, b""
        return cut

    def build(self) -> bytes:
        return build(seed_file, self.fields, "mem8")

    # -- reading orders --------------------------------------------------------------------
    def read_backwards(self) -> Iterator:
        """Most recent first: complete blocks in reverse file order."""
        return reversed(self.blocks)

    def importance_order(self) -> list[int]:
        """Block positions by decoded importance, descending; equal importances keep file order."""
        return sorted(range(len(self.blocks)), key=lambda i: -decode_importance(self.blocks[i].importance))

    def select_by_importance(self, keywords: Iterable[str]) -> list[int]:
        """Positions `read_by_importance(keywords)` returns (MEM8.md 1.6)."""
        keywords = list(keywords)
        kept: list[int] = []
        for i in self.importance_order():
            text = self.content(i).decode("utf-8", "replace")
            if any(k in text for k in keywords) or len(kept) < KEEP_ANY:
                kept.append(i)
            if len(kept) >= KEEP_MAX:
                break
        return kept

    def read_by_importance(self, keywords: Iterable[str]) -> list:
        return [self.blocks[i] for i in self.select_by_importance(keywords)]

    # -- JSON ------------------------------------------------------------------------------
    def block_json(self, i: int) -> dict:
        b = self.blocks[i]
        out = to_jsonable({k: v for k, v in b.items() if k != "content_area"})
        stored = self.content(i)
        out["content_hex"] = stored.hex()
        out["content_truncated"] = b.content_len > CONTENT_AREA
        out["signature_ok"] = (None if out["content_truncated"] else
                               wave_signature(stored, self.header.identity_freq) == bytes(b.wave_signature))
        padding = bytes(b.content_area[len(stored):])
        if padding.strip(b"\0"):
            out["padding_hex"] = padding.hex()
        return out

    def to_json(self) -> dict:
        return {
            "format": "mem8", "variant": "seed",
            "header": to_jsonable(self.header),
            "blocks": [self.block_json(i) for i in range(len(self.blocks))],
            "trailing_bytes": len(self.fields.trailing),
            "trailing_hex": bytes(self.fields.trailing).hex(),
        }

    def summary(self) -> list[str]:
        h = self.header
        n = len(self.blocks)
        lines = [f"MEM8 seed file: {n} blocks, header block_count {h.block_count}, version {h.version}, "
                 f"identity_freq {h.identity_freq}"]
        if n:
            ts = [b.timestamp for b in self.blocks]
            lines.append(f"timestamps {stamp(min(ts), 'us')} .. {stamp(max(ts), 'us')}; content bytes stored "
                         f"{sum(len(self.content(i)) for i in range(n))}; truncated blocks "
                         f"{sum(b.content_len > CONTENT_AREA for b in self.blocks)}")
            for i in range(min(n, 5)):
                b = self.blocks[i]
                preview = self.content(i)[:60].decode("utf-8", "replace").replace("\n", " ")
                lines.append(f"  [{i}] index {b.index} importance {b.importance} len {b.content_len}: {preview!r}")
            if n > 5:
                lines.append(f"  ... {n - 5} more")
        if self.fields.trailing:
            lines.append(f"torn trailing block: {len(self.fields.trailing)} bytes")
        return lines

    # -- checks (MEM8.md 1.8) ----------------------------------------------------------------
    def check(self, strict: bool = False) -> list[Finding]:
        out: list[Finding] = []
        at = self.offset_of
        h = self.header
        strictly = error if strict else warning
        if h.version != 1:
            out.append(warning("mem8.version", f"version {h.version}, expected 1", "header.version",
                               at("header.version")))
        for name in ("flags", "temporal_phase", "crc32"):
            if h[name] != 0:
                out.append(warning("mem8.unused_field_nonzero", f"{name} is {h[name]!r}, always 0 upstream",
                                   f"header.{name}", at(f"header.{name}")))
        if self.fields.trailing:
            out.append(strictly("mem8.trailing_partial_block",
                                f"{len(self.fields.trailing)} bytes after the last complete block "
                                "(torn append); only complete blocks are decoded", "trailing", at("trailing")))
        if h.block_count != len(self.blocks):
            out.append(warning("mem8.block_count_mismatch",
                               f"header says {h.block_count} blocks, the file holds {len(self.blocks)}",
                               "header.block_count", at("header.block_count")))
        previous = None
        for i, b in enumerate(self.blocks):
            p = f"blocks[{i}]"
            if b.content_len > CONTENT_AREA:
                out.append(strictly("mem8.content_truncated",
                                    f"content_len {b.content_len} > {CONTENT_AREA}: only {CONTENT_AREA} bytes "
                                    "were stored (upstream open() panics on this block)",
                                    f"{p}.content_len", at(f"{p}.content_len")))
            if b.index != i:
                out.append(warning("mem8.index_sequence", f"index {b.index}, expected {i}", f"{p}.index",
                                   at(f"{p}.index")))
            if b.token_id != 0:
                out.append(warning("mem8.unused_field_nonzero", f"token_id is {b.token_id}, always 0 upstream",
                                   f"{p}.token_id", at(f"{p}.token_id")))
            if any(b.prev_hash):
                out.append(warning("mem8.unused_field_nonzero", "prev_hash is not all zero",
                                   f"{p}.prev_hash", at(f"{p}.prev_hash")))
            stored = self.content(i)
            padding = bytes(b.content_area[len(stored):])
            if padding.strip(b"\0"):
                first = len(padding) - len(padding.lstrip(b"\0"))
                out.append(warning("mem8.nonzero_padding", "non-zero byte in the content area after the content",
                                   f"{p}.content_area", at(f"{p}.content_area") + len(stored) + first))
            if b.content_len <= CONTENT_AREA and wave_signature(stored, h.identity_freq) != bytes(b.wave_signature):
                out.append(warning("mem8.wave_signature_mismatch",
                                   "wave_signature does not match SHA-256(content || identity_freq): content or "
                                   "identity_freq changed after writing", f"{p}.wave_signature",
                                   at(f"{p}.wave_signature")))
            if previous is not None and b.timestamp < previous:
                out.append(warning("mem8.timestamp_decreasing",
                                   f"timestamp {b.timestamp} is before the previous block's {previous}",
                                   f"{p}.timestamp", at(f"{p}.timestamp")))
            previous = b.timestamp
        return out


def load_seed(data, detection: Detection, name: str = "") -> SeedDocument:
    if len(data) < HEADER_SIZE:
        raise FormatError(f"file is {len(data)} bytes, a MEM8 header needs {HEADER_SIZE}", "header", 0, "truncated")
    return SeedDocument.parse(data, detection, name)
