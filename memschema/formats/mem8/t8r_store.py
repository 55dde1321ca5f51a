"""A loaded T8R journal (MEM8.md 2.8): the frames its layout places, decoded in order (tombstones
are `None` values), the live view, and the append writer (`put`, `forget`, `commit`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import chain

import numpy as np
from construct import Container

from ...budget import Keys, Meter
from ...errors import Finding, FormatError, error
from ...journal import Journal, TornTail
from ...jsonify import Hex, materialize
from ...lazy import LazySequence
from ...parsing import build, field_offset, parse
from ...publish import FileStamp
from ...registry import Detection
from ...walker import gather, parse_value
from .appending import AppendOnly
from .codecs import CodecError, bincode
from .native import t8r_frame_header
from .record_frame import (
    FRAME_HEADER_SIZE,
    FRAME_HEADERS,
    decode_compressed,
    decode_run,
    encode_frame,
    first_untrusted,
    header_problems,
)
from .t8r import FILE_HEADER_SIZE, t8r_file_header, t8r_frame, t8r_layout

P = "t8r."
COMPRESSED_AT = field_offset(t8r_frame, "compressed")
HEADER_FIELDS = FRAME_HEADERS.names
LENGTH_INDEX = HEADER_FIELDS.index("compressed_len")


class Frame:
    """One record frame (superseded ones and tombstones included).  Its record is decoded when
    `key`, `value`, `crc_ok` or `problem` is first asked (`raw_len` charged to the meter then);
    checking it (`problem`, `crc_ok`) keeps the key but not the value, so validation holds one
    value at a time; reading it (`key`, `value`) keeps both."""

    __slots__ = ("offset", "header", "compressed", "_path", "_meter", "_state", "_key", "_value", "_crc_ok",
                 "_problem")

    def __init__(self, offset: int, header: Container, compressed, path: str, meter: Meter | None = None,
                 problem: Finding | None = None):
        self.offset, self.header, self.compressed = offset, header, compressed
        self._path, self._meter = path, meter
        self._key = self._value = None
        self._crc_ok, self._problem = problem is None, problem
        self._state = 2 if problem is not None else 0   # 0 not decoded, 1 checked, 2 decoded

    def _decoded(self, keep: bool = True) -> Frame:
        if self._state == 2 or (self._state == 1 and not keep):
            return self
        try:
            key, value = decode_compressed(self.header, self.compressed, self._meter, f"{self._path}.compressed",
                                           self.offset + COMPRESSED_AT)
        except CodecError as exc:
            self._crc_ok = exc.code != "payload_crc_mismatch"
            self._problem = error(P + exc.code, exc.message, f"{self._path}.compressed", self.offset + COMPRESSED_AT)
            self._state = 2
            return self
        self._key, self._state = key, 1
        if keep:
            self._value, self._state = value, 2
        return self

    @property
    def key(self) -> str | None:
        return self._decoded()._key

    @property
    def value(self) -> bytes | None:
        return self._decoded()._value

    @property
    def crc_ok(self) -> bool:
        return self._decoded(keep=False)._crc_ok

    @property
    def problem(self) -> Finding | None:
        return self._decoded(keep=False)._problem

    @property
    def tombstoned(self) -> bool:
        return self.value == bincode.NONE

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


class Decoded:
    """The key and value of a frame decoded in a batch (what `live` needs, without a `Frame`)."""

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: bytes):
        self.key, self.value = key, value

    @property
    def tombstoned(self) -> bool:
        return self.value == bincode.NONE


class Frames(LazySequence):
    """The journal's frames in file order: those the layout placed (a `Frame` is made when first
    asked, from the header table) and those appended or cut short since (`append`)."""

    def __init__(self, data, offsets: np.ndarray, heads: np.ndarray, meter: Meter | None):
        self._data, self._offsets, self._heads, self._meter = data, offsets, heads, meter
        self._made: list[Frame | None] = [None] * len(offsets)
        self._more: list[Frame] = []
        self._rows: list | None = None   # (offset, header fields) per frame, as Python values once asked

    def __len__(self) -> int:
        return len(self._made) + len(self._more)

    def _item(self, i: int) -> Frame:
        n = len(self._made)
        if i >= n:
            return self._more[i - n]
        return self._made[i] or self._make(i)

    def _make(self, i: int) -> Frame:
        if self._rows is None:
            columns = (self._heads[name].tolist() for name in HEADER_FIELDS)   # faster than rows
            self._rows = list(zip(self._offsets.tolist(), zip(*columns)))
        at, fields = self._rows[i]
        start = at + COMPRESSED_AT
        frame = self._made[i] = Frame(at, Container(zip(HEADER_FIELDS, fields)),
                                      self._data[start:start + fields[LENGTH_INDEX]], f"frames[{i}]", self._meter)
        return frame

    def append(self, frame: Frame) -> None:
        self._more.append(frame)

    def problems(self) -> Iterator[Finding]:
        """Every frame's `problem`, in file order.  The placed frames not made yet are checked as one
        batch (`decode_run`), and only those it refuses are made, to name their problem."""
        pending, _, _, failed = self._batch(keep=False)
        named = [pending[j] for j in failed]                     # in file order
        if len(pending) < len(self._made):                       # frames made before: theirs too
            refused = set(named)
            named = [i for i, frame in enumerate(self._made) if frame is not None or i in refused]
        for i in named:
            yield self[i].problem
        for frame in self._more:
            yield frame.problem

    def entries(self) -> Iterator[Frame | Decoded]:
        """Every frame's key and value in file order (`Journal.entries`).  The placed frames not made
        yet are decoded as one batch (`decode_run`) and given as `Decoded` pairs, not made; a frame
        the batch refuses is made, which names its problem."""
        pending, keys, values, failed = self._batch(keep=True)
        refused = set(failed)
        decoded = {i: (keys[j], values[j]) for j, i in enumerate(pending) if j not in refused}
        for i in range(len(self._made)):
            yield Decoded(*decoded[i]) if i in decoded else self[i]
        yield from self._more

    def _batch(self, keep: bool) -> tuple[list[int], list, list | None, list[int]]:
        """`decode_run` of the placed frames not made yet: (their frame indices, then its keys,
        values and failed positions among them).  Validation needs only the refused frames, not a
        mapping of the thousands that decoded."""
        if self._made.count(None) < len(self._made):
            pending = [i for i, frame in enumerate(self._made) if frame is None]
            starts, heads = self._offsets[pending] + COMPRESSED_AT, self._heads[pending]
        else:                           # none made yet (validation): no copies of the columns
            pending, starts, heads = range(len(self._made)), self._offsets + COMPRESSED_AT, self._heads
        # charged under the key Frame's own decoding uses, so that a frame is charged once
        return pending, *decode_run(self._data, starts, heads, keep, self._meter, Keys(("frame", starts)))


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
        self.parsed = self.layout.parse(buf, lazy=True)
        self.fields = self.parsed
        self.header = self.parsed.header
        self.findings: list[Finding] = []
        self._appended_values: list = []
        placed = self.parsed.placed["frames"]
        offsets = np.asarray(placed.offsets, np.int64)
        heads = gather(buf, FRAME_HEADERS, offsets)
        bad = first_untrusted(heads)
        trusted = len(offsets) if bad is None else bad
        self.frames = Frames(buf, offsets[:trusted], heads[:trusted], self.meter)
        if bad is not None:
            at = int(offsets[bad])
            self._untrusted(parse(t8r_frame_header, buf, at, f"frames[{bad}].header"), at, bad)
            return
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

    @property
    def frame_values(self) -> Iterator:
        """Every frame the layout placed, as declared (parsed when asked), then the appended ones."""
        return chain(self.parsed.placed["frames"].value, self._appended_values)

    def _untrusted(self, header, at: int, i: int) -> bool:
        """A frame header whose extent cannot be trusted ends the replay (upstream's open fails)."""
        problems = header_problems(header, bytes(self.parsed.data[at:at + FRAME_HEADER_SIZE]))
        if not problems:
            return False
        path = f"frames[{i}]"
        for code, message, name in problems:
            self.findings.append(error(P + code, message, f"{path}.header.{name}",
                                       at + field_offset(t8r_frame, f"header.{name}")))
        self.frames.append(Frame(at, header, b"", path, problem=self.findings[-1]))
        self.findings.append(error(P + "undecoded", f"{len(self.parsed.data) - at} bytes from this frame on are "
                                   "not decoded", path, at))
        return True

    def entries(self):
        return self.frames.entries()

    def _file_prefix(self) -> bytes:
        return file_header()

    # -- writing -----------------------------------------------------------------------------------
    def _put(self, key: str, value: bytes) -> None:
        piece = encode_frame(key, value)
        at = self._append(piece)
        path = f"frames[{len(self.frames)}]"
        parsed, _ = parse_value(t8r_frame, piece, 0, path)
        self._appended_values.append(parsed)
        self.frames.append(Frame(at, parsed.header, bytes(parsed.compressed), path))

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
