"""Loaded V3 logs: `immortal.log` (what upstream's `load_existing` indexes, the chain, appends as
`ImmortalLog::append` makes them) and `memory.wal` (what `WriteAheadLog::recover` returns).
Checks: `checks`; JSON: `json_out`.  Writes take no lock (there is none upstream): like
`transport.wal`, only while no other process has the file open (`amem_wal.writer`)."""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from construct import Container, ListContainer

from ...document import LayoutDocument
from ...errors import Finding, FormatError
from ...registry import Detection
from ...source import append_safely, atomic_write
from ..amem_wal.writer import ensure_no_server
from .block_json import ZERO_HASH, BlockJson, NotABlock, make_block, read_block, serde_block
from .declarations import immortal_layout, memory_wal_layout


@dataclass(frozen=True)
class Chain:
    """What `load_existing` ends with: the records it read (`scanned`, up to a zero `block_len`),
    the ones that parse as Blocks (`indexed`, in order: `get(sequence)` is position in this list),
    the write position, the last hash and the block count the next append continues from."""

    scanned: int
    indexed: tuple[int, ...]
    write_pos: int
    last_hash: bytes
    block_count: int


class BlockLogDocument(LayoutDocument):
    """What both logs share: records whose `block` is a Block's JSON, read lazily, and writes."""

    section = ""

    def __init__(self, detection: Detection, data=b"", source: str = ""):
        super().__init__(detection, data, source)
        self._pending: list[Container] = []
        self._dropped = False

    @classmethod
    def parse(cls, data, detection: Detection, source: str = ""):
        doc = cls(detection, data, source)
        doc.parse_layout()
        doc.fields = doc.parsed
        return doc

    @property
    def records(self) -> ListContainer:
        loaded = self.parsed[self.section]
        if self._dropped:
            loaded = loaded[:self.kept_records]
        return ListContainer([*loaded, *self._pending])

    @cached_property
    def reads(self) -> list[BlockJson | NotABlock]:
        """Each parsed record's JSON read as a Block (or why serde would not)."""
        out: list[BlockJson | NotABlock] = []
        for record in self.parsed[self.section]:
            try:
                out.append(read_block(bytes(record.block)))
            except NotABlock as exc:
                out.append(exc)
        return out

    def block(self, i: int) -> dict | None:
        read = self.reads[i]
        return read.value if isinstance(read, BlockJson) else None

    def block_offset(self, i: int, key: str | None = None) -> int:
        """Absolute offset of record i's JSON, or of the value of its top-level member `key`."""
        start = self.offset_of(f"{self.section}[{i}].block")
        read = self.reads[i]
        if key and isinstance(read, BlockJson) and key in read.spans:
            return start + read.spans[key][0]
        if isinstance(read, NotABlock) and read.offset is not None:
            return start + read.offset
        return start

    # -- writing -------------------------------------------------------------------------------------
    @property
    def kept_records(self) -> int:
        """Records kept by `drop_unread`."""
        raise NotImplementedError

    @property
    def unread_bytes(self) -> int:
        """Bytes after the last record upstream reads."""
        raise NotImplementedError

    def drop_unread(self) -> int:
        """Cut the bytes upstream does not read (a torn append, what follows a zero `block_len`);
        returns how many.  Saving then rewrites the file (`save`)."""
        cut = self.unread_bytes
        self._dropped = self._dropped or bool(cut)
        return cut

    def _refuse_unread(self) -> None:
        if self.unread_bytes:
            raise FormatError(f"{self.unread_bytes} bytes after the last record upstream reads: a record "
                              "appended after them would not be read; drop_unread() first", self.section,
                              len(self.data) - self.unread_bytes, "amem_log.not_appendable")

    def build(self) -> bytes:
        placed = self.parsed.placed[self.section]
        tails = {self.section: bytes(self.data[placed.tail.offset:placed.end])} \
            if placed.tail is not None and not self._dropped else {}
        return self.layout.build({self.section: self.records}, tails)

    def append_to(self, path: str | os.PathLike, *, assume_no_server: bool = False) -> None:
        """Append the new records to the file this document was loaded from, only while no other
        process has it open and only if it is still the loaded length; one write + fsync."""
        if self._dropped:
            raise FormatError("the document dropped unread bytes: save() rewrites the file", self.section, None,
                              "amem_log.not_appendable")
        ensure_no_server(path, assume_no_server)
        append_safely(path, self.layout.build({self.section: self._pending}), len(self.data))
        self._reload(self.build())

    def save(self, path: str | os.PathLike, *, assume_no_server: bool = False) -> None:
        """Rewrite atomically, never while another process (an engine caching its write position)
        has the file open."""
        ensure_no_server(path, assume_no_server)
        data = self.build()
        atomic_write(path, data)
        self._reload(data)

    def _reload(self, data: bytes) -> None:
        fresh = type(self).parse(data, self.detection, self.source)
        self.__dict__.clear()
        self.__dict__.update(fresh.__dict__)

    def to_json(self) -> dict:
        from .json_out import log_json
        return log_json(self)

    def summary(self) -> list[str]:
        from .json_out import log_summary
        return log_summary(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .checks import check_log
        return check_log(self, strict)


class ImmortalLogDocument(BlockLogDocument):
    """`immortal.log`: `records` (block_len, block), `chain` (what upstream indexes)."""

    layout = immortal_layout
    section = "records"

    @classmethod
    def new(cls) -> ImmortalLogDocument:
        return cls.parse(b"", Detection("amem_log", "immortal_log", "written by memschema"))

    @cached_property
    def chain(self) -> Chain:
        placed = self.parsed.placed["records"]
        records = self.parsed.records
        scanned = next((i for i, r in enumerate(records) if r.block_len == 0), len(records))
        indexed = tuple(i for i in range(scanned) if isinstance(self.reads[i], BlockJson))
        write_pos = placed.record_span(scanned - 1)[1] if scanned else placed.start
        last = self.reads[indexed[-1]].value if indexed else None
        return Chain(scanned, indexed, write_pos, bytes(last["hash"]) if last else ZERO_HASH,
                     last["sequence"] + 1 if last else 0)

    @property
    def kept_records(self) -> int:
        return self.chain.scanned

    @property
    def unread_bytes(self) -> int:
        return 0 if self._dropped else len(self.data) - self.chain.write_pos

    def blocks(self) -> list[dict]:
        """What `iter()` yields: the indexed blocks, in order."""
        return [self.reads[i].value for i in self.chain.indexed] + \
            [read_block(bytes(r.block)).value for r in self._pending]

    def append(self, block_type: str, content: dict, when: datetime | None = None, nanos: int = 0) -> dict:
        """`ImmortalLog::append`: a Block chained to the last indexed one (or the last appended)."""
        self._refuse_unread()
        if self._pending:
            last = self._last_appended
            prev, sequence = bytes(last["hash"]), last["sequence"] + 1
        else:
            prev, sequence = self.chain.last_hash, self.chain.block_count
        try:
            block = make_block(prev, sequence, block_type, content, when, nanos)
        except ValueError as exc:
            raise FormatError(str(exc), "records", None, "amem_log.bad_block") from None
        raw = serde_block(block)
        self._pending.append(Container(block_len=len(raw), block=raw))
        self._last_appended = block
        return block


class MemoryWalDocument(BlockLogDocument):
    """`memory.wal`: `entries` (sequence, len, block, crc32) and what recovery returns."""

    layout = memory_wal_layout
    section = "entries"

    @cached_property
    def crc_ok(self) -> list[bool]:
        return [zlib.crc32(bytes(e.block)) == e.crc32 for e in self.parsed.entries]

    @property
    def kept_records(self) -> int:
        return len(self.parsed.entries)

    @property
    def unread_bytes(self) -> int:
        tail = self.parsed.placed["entries"].tail
        return 0 if self._dropped or tail is None else tail.length

    def recovered(self) -> list[dict]:
        """`WriteAheadLog::recover`: blocks whose CRC, JSON and hash all hold."""
        return [r.value for i, r in enumerate(self.reads)
                if self.crc_ok[i] and isinstance(r, BlockJson) and r.computed_hash() == bytes(r.value["hash"])]

    def append(self, block: dict) -> None:
        """`WriteAheadLog::write`: the block's JSON with the next sequence and its CRC."""
        self._refuse_unread()
        raw = serde_block(block)
        seq = max((int(e.sequence) for e in self.records), default=-1) + 1
        self._pending.append(Container(sequence=seq, len=len(raw), block=raw, crc32=zlib.crc32(raw)))
