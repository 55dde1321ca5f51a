"""A loaded T8R journal (MEM8.md 2.8): frames decoded in order, tombstones (`None` values), live
view, checks and the append writer."""

from __future__ import annotations

import os
from collections.abc import Callable

from construct import Container

from ...document import Document
from ...errors import Finding, FormatError, error, warning
from ...jsonify import Hex, Stream, materialize
from ...parsing import build, field_offset, parse
from ...publish import FileStamp
from ...registry import Detection
from .appending import AppendOnly
from .codecs import CodecError, bincode
from .native import t8r_frame_header
from .record_frame import FRAME_HEADER_SIZE, decode_compressed, encode_frame, header_problems, kept, live_units
from .t8r import FILE_HEADER_SIZE, MAGIC, VERSION, t8r_file_header

P = "t8r."


def file_header() -> bytes:
    """The 8 bytes every T8R journal starts with (what upstream writes into an empty file)."""
    return build(t8r_file_header, Container(magic=MAGIC, version=VERSION), "header")


class Frame:
    """One record frame (superseded ones and tombstones included).  A value larger than
    `KEEP_VALUE` is not held: reading `value` decodes the frame again (charged once)."""

    def __init__(self, offset: int, header: Container):
        self.offset = offset
        self.header = header
        self.key: str | None = None
        self.kept: bytes | None = None
        self.value_len: int | None = None
        self.reload: Callable[[], tuple[str, bytes]] | None = None
        self.crc_ok = True
        self.problem: Finding | None = None

    @property
    def value(self) -> bytes | None:
        if self.kept is None and self.reload is not None:
            return self.reload()[1]
        return self.kept

    @property
    def tombstoned(self) -> bool:
        return self.value_len == len(bincode.NONE) and self.kept == bincode.NONE

    def to_json(self) -> dict:
        return materialize(self.json_item())

    def json_item(self) -> dict:
        """`to_json` with the value as a `Hex` read when written (a large one is decoded again)."""
        out = {"offset": self.offset, "key": self.key,
               "value": None if self.value_len is None else Hex(lambda: self.value),
               "tombstoned": self.tombstoned, "crc_ok": self.crc_ok,
               "compressed_len": self.header.compressed_len, "raw_len": self.header.raw_len}
        if self.problem:
            out["error"] = self.problem.to_json()
        return out


class T8RDocument(AppendOnly, Document):
    def __init__(self, detection: Detection, data=b"", source: str = ""):
        super().__init__(detection, data, source)
        self.pending = bytearray()
        self._decode()

    @classmethod
    def new(cls) -> T8RDocument:
        doc = cls(Detection("t8r", None, "new T8R journal"), file_header())
        doc.data, doc.pending = b"", bytearray(doc.data)   # the header is part of the first write
        return doc

    def _decode(self) -> None:
        buf = bytes(self.data) + bytes(self.pending) if self.pending else self.data
        if len(buf) < FILE_HEADER_SIZE:
            raise FormatError(f"file is {len(buf)} bytes, the T8R header needs {FILE_HEADER_SIZE}", "header", 0,
                              P + "truncated")
        self.header = parse(t8r_file_header, buf, 0, "header")
        self.fields = Container(header=self.header)
        self.frames: list[Frame] = []
        self.findings: list[Finding] = []
        self.torn: tuple[int, int, str] | None = None
        pos = FILE_HEADER_SIZE
        while pos < len(buf):
            if len(buf) - pos < FRAME_HEADER_SIZE:
                self.torn = (pos, len(buf) - pos, "incomplete frame header")
                break
            path = f"frames[{len(self.frames)}]"
            header = parse(t8r_frame_header, buf, pos, f"{path}.header")
            frame = Frame(pos, header)
            problems = header_problems(header)
            if problems:   # the extent cannot be trusted: upstream's open fails here
                for code, message, name in problems:
                    self.findings.append(error(P + code, message, f"{path}.header.{name}",
                                               pos + field_offset(t8r_frame_header, name)))
                frame.crc_ok, frame.problem = False, self.findings[-1]
                self.frames.append(frame)
                self.findings.append(error(P + "undecoded", f"{len(buf) - pos} bytes from this frame on are not "
                                           "decoded", path, pos))
                break
            end = pos + FRAME_HEADER_SIZE + header.compressed_len
            if end > len(buf):
                self.torn = (pos, len(buf) - pos, f"frame needs {end - pos} bytes")
                break
            meter = self.meter if pos < len(self.data) else None   # pending frames are our own writes
            try:
                frame.key, value = decode_compressed(header, bytes(buf[pos + FRAME_HEADER_SIZE:end]), meter,
                                                     f"{path}.compressed", pos)
                frame.kept, frame.value_len = kept(value), len(value)
                if frame.kept is None:
                    frame.reload = self._reloader(pos, end, header, meter, f"{path}.compressed")
            except CodecError as exc:
                frame.crc_ok = exc.code != "payload_crc_mismatch"
                frame.problem = error(P + exc.code, exc.message, f"{path}.compressed", pos + FRAME_HEADER_SIZE)
                self.findings.append(frame.problem)
            self.frames.append(frame)
            pos = end

    def _reloader(self, pos: int, end: int, header, meter, path: str) -> Callable[[], tuple[str, bytes]]:
        def again() -> tuple[str, bytes]:
            buf = self.build() if self.pending else self.data
            try:
                return decode_compressed(header, bytes(buf[pos + FRAME_HEADER_SIZE:end]), meter, path, pos)
            except CodecError as exc:   # the bytes decoded when loaded: they changed since
                raise FormatError(exc.message, path, pos + FRAME_HEADER_SIZE, P + exc.code) from None
        return again

    def live(self) -> dict[str, bytes]:
        """Last write wins; a `None` value (tombstone) deletes the key."""
        return {key: f.value for key, f in live_units(self.frames).items()}

    def _append(self, key: str, value: bytes) -> None:
        if self.torn is not None:
            offset, length, reason = self.torn
            raise FormatError(f"{length} bytes of a torn tail ({reason}) follow the last complete frame; "
                              "drop them explicitly (drop_torn_tail) before appending", "tail", offset, P + "torn_tail")
        self.pending += encode_frame(key, value)
        self._decode()

    def put(self, key: str, value: bytes) -> None:
        """Append `Record {key, value}` (`value`: bincode of the stored value)."""
        self._append(key, value)

    def forget(self, key: str) -> None:
        self._append(key, bincode.NONE)

    # -- AppendOnly hooks (commit under the RecordStore lock) -----------------------------
    def _file_prefix(self) -> bytes:
        return file_header()

    def _queued_records(self) -> bytes:
        """The pending frames; a new journal also queues its file header, which commit writes
        only when the file is new or empty."""
        return bytes(self.pending[FILE_HEADER_SIZE:] if not len(self.data) else self.pending)

    def _complete_length(self, current: bytes) -> int:
        """MEM8.md 2.8 replay of the file as it is now; a file that does not start with the T8R
        magic is refused untouched (upstream's open fails on it)."""
        if not len(current):
            return 0
        if bytes(current[:FILE_HEADER_SIZE]) != file_header():
            raise FormatError("the file does not start with the T8R magic and version 1", "header", 0, P + "bad_magic")
        fresh = T8RDocument(Detection("t8r"), current)
        return len(current) if fresh.torn is None else fresh.torn[0]

    def _reset(self, data: bytes) -> None:
        self.data, self.pending = data, bytearray()
        self._decode()

    def drop_torn_tail(self) -> bytes:
        if self.torn is None:
            return b""
        data = self.build()
        self.data, self.pending = data[:self.torn[0]], bytearray()
        self._decode()
        return data[len(self.data):]

    def to_json(self) -> dict:
        return materialize(self.json_stream())

    def json_stream(self) -> dict:
        """`to_json` with records and live values produced one at a time while written."""
        return {"format": "t8r", "header": {"magic": bytes(self.header.magic).hex(), "version": self.header.version},
                "records": Stream(f.json_item() for f in self.frames),
                "live": Stream(((k, Hex(lambda f=f: f.value)) for k, f in live_units(self.frames).items()), pairs=True),
                "torn_tail": None if self.torn is None else dict(zip(("offset", "length", "reason"), self.torn))}

    def summary(self) -> list[str]:
        lines = [f"T8R journal: {len(self.frames)} frames, {len(live_units(self.frames))} live keys"]
        lines += [f"  @{f.offset} {f.key!r}{' (tombstone)' if f.tombstoned else ''}" for f in self.frames[:5]]
        if self.torn:
            lines.append(f"torn tail: {self.torn[1]} bytes at {self.torn[0]} ({self.torn[2]})")
        return lines

    def check(self, strict: bool = False) -> list[Finding]:
        out: list[Finding] = []
        if bytes(self.header.magic) != MAGIC or self.header.version != VERSION:
            out.append(error(P + "bad_magic", f"file header {bytes(self.header.magic).hex()} version "
                             f"{self.header.version}, expected T8R\\0 version 1", "header", 0))
        out += self.findings
        if self.torn is not None:
            offset, length, reason = self.torn
            out.append(warning(P + "torn_tail", f"torn tail: {length} bytes at offset {offset} ({reason}); "
                               f"recoverable: {len(self.frames)} complete frames in the first {offset} bytes; "
                               f"upstream open() truncates the file to {offset}", "tail", offset))
        return out


def load_t8r(data, detection: Detection, name: str = "") -> T8RDocument:
    return T8RDocument(Detection("t8r", None, detection.description), data, name)


def open_journal(path: str | os.PathLike) -> T8RDocument:
    """The journal at `path` for appending; an absent or empty file is a new journal."""
    origin = FileStamp.maybe(path)
    if origin is None or origin.size == 0:
        doc = T8RDocument.new()
    else:
        with open(path, "rb") as fh:
            doc = T8RDocument(Detection("t8r"), fh.read(), os.fspath(path))
    doc.source, doc.origin = os.fspath(path), origin
    return doc
