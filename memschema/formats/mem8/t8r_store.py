"""A loaded T8R journal (MEM8.md 2.8): the frames its layout places, decoded in order (tombstones
are `None` values), the live view, and the append writer (`put`, `forget`, `commit`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from construct import Container

from ...budget import Meter
from ...errors import Finding, FormatError, error
from ...journal import Journal, TornTail
from ...jsonify import Hex, materialize
from ...parsing import build, field_offset, parse
from ...publish import FileStamp
from ...registry import Detection
from ...walker import parse_value
from .appending import AppendOnly
from .codecs import CodecError, bincode
from .native import t8r_frame_header
from .record_frame import FRAME_HEADER_SIZE, decode_compressed, encode_frame, header_problems
from .t8r import FILE_HEADER_SIZE, t8r_file_header, t8r_frame, t8r_layout

P = "t8r."
COMPRESSED_AT = field_offset(t8r_frame, "compressed")


@dataclass
class Frame:
    """One record frame (superseded ones and tombstones included)."""

    offset: int
    header: Container
    compressed: bytes
    key: str | None = None
    value: bytes | None = None
    crc_ok: bool = True
    problem: Finding | None = None

    @property
    def tombstoned(self) -> bool:
        return self.value == bincode.NONE

    def decode(self, path: str, meter: Meter | None = None) -> Frame:
        """Key and value (`raw_len` charged to `meter` first), or the codec error that stopped them."""
        try:
            self.key, self.value = decode_compressed(self.header, self.compressed, meter, f"{path}.compressed",
                                                     self.offset + COMPRESSED_AT)
        except CodecError as exc:
            self.crc_ok = exc.code != "payload_crc_mismatch"
            self.problem = error(P + exc.code, exc.message, f"{path}.compressed", self.offset + COMPRESSED_AT)
        return self

    def to_json(self) -> dict:
        return materialize(self.json_item())

    def json_item(self) -> dict:
        """`to_json` with the value as a `Hex`, written a slice at a time."""
        out = {"offset": self.offset, "key": self.key, "value": None if self.value is None else Hex(self.value),
               "tombstoned": self.tombstoned, "crc_ok": self.crc_ok,
               "compressed_len": self.header.compressed_len, "raw_len": self.header.raw_len}
        if self.problem:
            out["error"] = self.problem.to_json()
        return out


def file_header() -> bytes:
    """The 8-byte header of a new journal (magic, version 1)."""
    return build(t8r_file_header, Container(), "header")


class T8RDocument(AppendOnly, Journal):
    """`header`, `frames` (decoded `Frame`s in file order, up to the first frame that cannot be
    trusted), `frame_values` (every frame as declared), `findings` (frames that cannot be trusted),
    `torn_tail`."""

    layout = t8r_layout
    torn_code = P + "torn_tail"

    def __init__(self, detection: Detection, data=b"", source: str = ""):
        super().__init__(detection, data, source)
        self.reload()

    @classmethod
    def new(cls) -> T8RDocument:
        """A journal of no records; its file header is written by the first commit."""
        doc = cls.__new__(cls)
        Journal.__init__(doc, Detection("t8r", None, "new T8R journal"), b"")
        doc._append(build(t8r_file_header, Container(), "header"))
        doc.reload()
        return doc

    def reload(self) -> None:
        buf = self.data if not self.appended else self.build()
        if len(buf) < FILE_HEADER_SIZE:
            raise FormatError(f"file is {len(buf)} bytes, the T8R header needs {FILE_HEADER_SIZE}", "header", 0,
                              P + "truncated")
        self.parsed = self.layout.parse(buf)
        self.fields = self.parsed
        self.header = self.parsed.header
        self.findings: list[Finding] = []
        self.frames: list[Frame] = []
        placed = self.parsed.placed["frames"]
        self.frame_values = list(placed.value)   # every frame the layout placed, then the appended ones
        for i, (at, value) in enumerate(zip(placed.offsets, placed.value)):
            if self._untrusted(value.header, at, i):
                return
            self.frames.append(Frame(at, value.header, bytes(value.compressed)).decode(f"frames[{i}]", self.meter))
        tail = placed.tail
        if tail is None:
            return
        if tail.length < FRAME_HEADER_SIZE:
            self.torn_tail = TornTail(tail.offset, tail.length, "incomplete frame header")
            return
        header = parse(t8r_frame_header, buf, tail.offset, f"frames[{len(self.frames)}].header")
        if not self._untrusted(header, tail.offset, len(self.frames)):
            self.torn_tail = TornTail(tail.offset, tail.length,
                                      f"frame needs {FRAME_HEADER_SIZE + header.compressed_len} bytes")

    def _untrusted(self, header, at: int, i: int) -> bool:
        """A frame header whose extent cannot be trusted ends the replay (upstream's open fails)."""
        problems = header_problems(header)
        if not problems:
            return False
        path = f"frames[{i}]"
        for code, message, name in problems:
            self.findings.append(error(P + code, message, f"{path}.header.{name}",
                                       at + field_offset(t8r_frame, f"header.{name}")))
        frame = Frame(at, header, b"", crc_ok=False, problem=self.findings[-1])
        self.frames.append(frame)
        self.findings.append(error(P + "undecoded", f"{len(self.parsed.data) - at} bytes from this frame on are "
                                   "not decoded", path, at))
        return True

    def entries(self):
        return iter(self.frames)

    def _file_prefix(self) -> bytes:
        return file_header()

    # -- writing -----------------------------------------------------------------------------------
    def _put(self, key: str, value: bytes) -> None:
        piece = encode_frame(key, value)
        at = self._append(piece)
        parsed, _ = parse_value(t8r_frame, piece, 0, f"frames[{len(self.frames)}]")
        self.frame_values.append(parsed)
        self.frames.append(Frame(at, parsed.header, bytes(parsed.compressed)).decode(f"frames[{len(self.frames)}]"))

    def put(self, key: str, value: bytes) -> None:
        """Append `Record {key, value}` (`value`: bincode of the stored value)."""
        self._put(key, value)

    def forget(self, key: str) -> None:
        self._put(key, bincode.NONE)

    # -- JSON, summary, checks ---------------------------------------------------------------------
    def to_json(self) -> dict:
        from .t8r_json import t8r_json
        return t8r_json(self)

    def json_stream(self) -> dict:
        from .t8r_json import t8r_json
        return t8r_json(self, stream=True)

    def summary(self) -> list[str]:
        from .t8r_json import t8r_summary
        return t8r_summary(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .t8r_checks import check_t8r
        return check_t8r(self)


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
