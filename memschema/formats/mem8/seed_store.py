"""A loaded seed `.m8` file: blocks as a numpy table over the file (dtype from `seed_block`),
append, and the two reading orders (MEM8.md 1.6).  Checks: `seed_checks`; JSON: `seed_json`."""

from __future__ import annotations

import hashlib
import mmap
import struct
import time
from collections.abc import Iterable, Iterator

import numpy as np
from construct import Container

from ...document import Document
from ...errors import Finding, FormatError
from ...parsing import field_offset
from ...records import record, table
from ...registry import Detection
from .seed import CONTENT_AREA, seed_block, seed_layout

CONTENT_AT = field_offset(seed_block, "content_area")
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


def decode_importance(raw) -> np.ndarray | float:
    """`importance as f32 / 65535.0`, the value upstream orders by (element-wise on arrays)."""
    out = np.asarray(raw, dtype=np.float32) / np.float32(65535.0)
    return out if out.ndim else float(out)


def wave_signature(content, identity_freq: float) -> bytes:
    """SHA-256(content || identity_freq as f64 LE), cut to the declared signature size; `content`
    may be any buffer (hashed in place)."""
    h = hashlib.sha256(content)
    h.update(struct.pack("<d", identity_freq))
    return h.digest()[:seed_block.wave_signature.sizeof()]


def now_us() -> int:
    return time.time_ns() // 1000


class SeedDocument(Document):
    """The seed layout: `header` (Container), `blocks` (numpy record table with the declared field
    names, zero-copy over the file), and the torn tail of a partial append (`trailing`)."""

    layout = seed_layout

    def __init__(self, detection: Detection, data=b"", source: str = ""):
        super().__init__(detection, data, source)
        self._pending: list[dict] = []
        self._blocks: np.ndarray | None = None

    @classmethod
    def new(cls, identity_freq: float = 440.0) -> SeedDocument:
        """What `M8BinaryFile::create` writes: a header with no blocks."""
        data = seed_layout.build({"header": {"block_count": 0, "identity_freq": identity_freq},
                                  "blocks": table(seed_block, [])})
        return cls.parse(data, Detection("mem8", "seed"))

    @classmethod
    def parse(cls, data, detection: Detection, source: str = "") -> SeedDocument:
        doc = cls(detection, data, source)
        doc.parse_layout()
        doc.fields = doc.parsed
        return doc

    # -- access ----------------------------------------------------------------------------
    @property
    def header(self) -> Container:
        return self.parsed.header

    @property
    def blocks(self) -> np.recarray:
        if self._blocks is None:
            loaded = self.parsed.blocks
            self._blocks = loaded if not self._pending else \
                np.concatenate([loaded, table(seed_block, self._pending, "blocks")]).view(np.recarray)
        return self._blocks

    @property
    def trailing(self) -> bytes:
        tail = self.parsed.placed["blocks"].tail
        return b"" if tail is None else bytes(self.data[tail.offset:tail.offset + tail.length])

    def stored_lengths(self) -> np.ndarray:
        return np.minimum(self.blocks.content_len, CONTENT_AREA)

    def content(self, i: int) -> bytes:
        """The stored content of block `i`: the first min(content_len, 4024) bytes of its area."""
        b = self.blocks[i]
        return b.content_area[: min(int(b.content_len), CONTENT_AREA)].tobytes()

    def contents(self, order: Iterable[int] | None = None) -> list[bytes]:
        """The stored content of every block (in `order`, e.g. `backwards_order()`), copied straight
        from the file's bytes at the places the layout gives (blocks appended since loading from
        the table)."""
        order = range(len(self.blocks)) if order is None else order
        if self._pending:
            return [self.content(i) for i in order]
        placed = self.parsed.placed["blocks"]
        index = np.fromiter(order, dtype=np.int64)
        starts = (placed.start + index * placed.itemsize + CONTENT_AT).tolist()
        lengths = self.stored_lengths()[index].tolist()
        data = self.data
        if isinstance(data, (bytes, mmap.mmap)):     # their slices are bytes: one copy, no view made
            return [data[a:a + n] for a, n in zip(starts, lengths)]
        view = memoryview(data)
        return [bytes(view[a:a + n]) for a, n in zip(starts, lengths)]

    def offset_of(self, path: str) -> int:
        if path == "trailing":
            return self.parsed.placed["blocks"].end - len(self.trailing)
        return self.parsed.offset_of(path)

    # -- writing ---------------------------------------------------------------------------
    def append_block(self, content: bytes, importance: float, timestamp: int | None = None):
        """Append one block as `M8BinaryFile::append_block` does (content cut to 4024 bytes,
        `content_len` the full length mod 2^32, signature over the full content), without
        upstream's handle bugs.  Returns the new block.  Refuses to append after a torn block."""
        if self.trailing:
            raise FormatError(f"{len(self.trailing)} bytes of a torn block follow the last complete block; "
                              "drop them (drop_trailing) before appending", "trailing", self.offset_of("trailing"),
                              "mem8.trailing_partial_block")
        content = bytes(content)
        header = self.header
        row = {"index": header.block_count, "wave_signature": wave_signature(content, header.identity_freq),
               "timestamp": now_us() if timestamp is None else timestamp,
               "importance": encode_importance(importance), "content_len": len(content) & 0xFFFFFFFF,
               "content_area": content[:CONTENT_AREA].ljust(CONTENT_AREA, b"\0")}
        self._pending.append(row)
        self._blocks = None
        header.block_count = (header.block_count + 1) & 0xFFFFFFFF
        return record(seed_block, row, f"blocks[{len(self.blocks) if self._blocks is not None else '-1'}]")

    def drop_trailing(self) -> bytes:
        """Remove (and return) the bytes of a torn trailing block."""
        cut = self.trailing
        self.parsed.placed["blocks"].tail = None
        return cut

    def build(self) -> bytes:
        tails = {"blocks": self.trailing} if self.trailing else {}
        return seed_layout.build({"header": self.header, "blocks": self.blocks}, tails)

    # -- reading orders --------------------------------------------------------------------
    def backwards_order(self) -> list[int]:
        """Block positions most recent first: complete blocks in reverse file order."""
        return list(range(len(self.blocks) - 1, -1, -1))

    def read_backwards(self) -> Iterator:
        return iter(self.blocks[::-1])

    def importance_order(self) -> list[int]:
        """Block positions by decoded importance, descending; equal importances keep file order."""
        return np.argsort(-decode_importance(self.blocks.importance), kind="stable").tolist()

    def select_by_importance(self, keywords: Iterable[str]) -> list[int]:
        """Positions `read_by_importance(keywords)` returns (MEM8.md 1.6)."""
        keywords = list(keywords)
        kept: list[int] = []
        for i in self.importance_order():
            if len(kept) >= KEEP_ANY and not keywords:
                break
            if len(kept) < KEEP_ANY or any(k in self.content(i).decode("utf-8", "replace") for k in keywords):
                kept.append(i)
            if len(kept) >= KEEP_MAX:
                break
        return kept

    def read_by_importance(self, keywords: Iterable[str]) -> list:
        return [self.blocks[i] for i in self.select_by_importance(keywords)]

    # -- JSON, summary, checks -------------------------------------------------------------
    def to_json(self) -> dict:
        from .seed_json import seed_json
        return seed_json(self)

    def summary(self) -> list[str]:
        from .seed_json import seed_summary
        return seed_summary(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .seed_checks import check_seed
        return check_seed(self, strict)


def load_seed(data, detection: Detection, name: str = "") -> SeedDocument:
    return SeedDocument.parse(data, detection, name)
