"""A loaded RVF file: its dialect's layout parsed (`doc.parsed`: every segment, payloads decoded
by type), and the state of the store computed on top of it (RVF.md 3.4, 3.5): the manifests, the
latest one, hashes by the dialect's rules.  Live vectors: `vectors`; witnesses: `witnesses`;
INDEX: `index_access`; COW branch children: `cow`; JSON: `jsonout`; checks: `checks`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ...document import Document
from ...errors import Finding, FormatError
from ...lazy import LazySequence
from ...parsing import build, parse
from ...registry import Detection
from ...walker import element_dtype, gather, parse_value
from . import hashes
from .cow import CowAccess
from .detect import detect_dialect
from .index_access import IndexAccess
from .layouts import DIALECTS, LAYOUTS, PAYLOADS, RUNTIME, RUVBOT, SPEC, WASM
from .lineage import is_root
from .runtime_payloads import PROFILES, manifest_declaration
from .segment import HEADER_SIZE, MAGIC_BYTES, SEG_TYPES, seg_type_name, segment_header
from .vectors import VectorAccess
from .witnesses import WitnessAccess

MANIFEST = SEG_TYPES["manifest"]
HEADER_DTYPE = element_dtype(segment_header, {})   # the header table every segment's row is read into
RESYNC_WINDOW = 64 << 20    # how far past a cut payload a following segment header is looked for


class Segment:
    """One complete segment and where it sits in the file.  Its record (`value`: header, payload,
    and in the spec dialect footer and padding) is parsed on first use from the layout's lazy
    records; `seg_type` and `payload_length` come from the header table `load` reads in one pass."""

    def __init__(self, index: int, offset: int, end: int, value: Any = None, *, records: Any = None,
                 seg_type: int | None = None, payload_length: int | None = None):
        self.index, self.offset, self.end = index, offset, end
        self._value, self._records = value, records
        head = value.header if value is not None else None
        self.seg_type = int(head.seg_type) if seg_type is None else seg_type
        self.payload_length = int(head.payload_length) if payload_length is None else payload_length

    def __repr__(self) -> str:
        return f"Segment({self.index}, {self.type_name}, offset={self.offset}, end={self.end})"

    @property
    def value(self):
        if self._value is None:
            self._value = self._records[self.index]
        return self._value

    @cached_property
    def header(self):
        if self._value is not None:
            return self._value.header
        return parse_value(segment_header, self._records.data, self.offset, f"{self.path}.header")[0]

    @property
    def payload_offset(self) -> int:
        return self.offset + HEADER_SIZE

    @property
    def payload_value(self):
        """The payload as the layout parsed it: a Container when it decodes as its type's
        declaration, else its bytes."""
        return self.value.payload

    @property
    def decoded(self):
        payload = self.value.payload
        return payload if isinstance(payload, dict) else None

    @property
    def footer(self):
        return self.value.get("footer")

    @property
    def pad_length(self) -> int:
        padding = self.value.get("padding")
        return 0 if padding is None else len(padding)

    @property
    def footer_length(self) -> int:
        return self.end - self.payload_offset - self.payload_length - self.pad_length

    @property
    def type_name(self) -> str:
        return seg_type_name(self.seg_type)

    @property
    def path(self) -> str:
        return f"segments[{self.index}]"


@dataclass
class Tail:
    """Bytes after the last complete segment, and why they are not one."""

    offset: int
    length: int
    reason: str          # "torn_header" | "torn_payload" | "past_eof" | "bad_magic" | "bad_version"
    error: FormatError
    header: object = None


@dataclass
class Manifest:
    """A MANIFEST segment and its decoded payload (or why it does not decode)."""

    segment: Segment
    value: object = None
    error: FormatError | None = None
    root: object = None          # spec: Level0Root
    root_offset: int | None = None                # spec: where the Level0Root starts
    records: list = field(default_factory=list)   # spec: (offset, Level-1 record)


def _tail(data, placed) -> Tail | None:
    """The layout's tail of the segments section, named by why the walk stopped there."""
    t = placed.tail
    if t is None:
        return None
    error = t.error
    if t.length < HEADER_SIZE:
        return Tail(t.offset, t.length, "torn_header", error)
    if error.path.endswith("header.magic"):
        return Tail(t.offset, t.length, "bad_magic", error)
    if error.path.endswith("header.version"):
        return Tail(t.offset, t.length, "bad_version", error)
    header, _ = parse_value(segment_header, data, t.offset, error.path)
    reason = "past_eof" if _header_follows(data, t.offset + HEADER_SIZE) else "torn_payload"
    return Tail(t.offset, t.length, reason, error, header)


def _header_follows(data, start: int) -> bool:
    """Is there a complete segment header (magic and version) after `start`?  Then the cut
    segment is corruption in the middle of a file, not a torn append at its end."""
    view = bytes(data[start:start + RESYNC_WINDOW])
    at = view.find(MAGIC_BYTES)
    while at >= 0:
        try:
            parse_value(segment_header, view, at, "", at + HEADER_SIZE)
            return True
        except FormatError:
            at = view.find(MAGIC_BYTES, at + 1)
    return False


class Segments(LazySequence):
    """The complete segments in file order, from the layout's placed section and the header table:
    a `Segment` is made when first asked, so an open reads only the headers."""

    def __init__(self, placed, headers: np.ndarray):
        self._records = placed.value
        self._starts, self._stops = placed.record_spans()
        self._kinds, self._lengths = headers["seg_type"].tolist(), headers["payload_length"].tolist()
        self._made: list[Segment | None] = [None] * len(self._starts)

    def __len__(self) -> int:
        return len(self._made)

    def _item(self, i: int) -> Segment:
        return self._made[i] or self._make(i)

    def _make(self, i: int) -> Segment:
        seg = self._made[i] = Segment(i, self._starts[i], self._stops[i], records=self._records,
                                      seg_type=self._kinds[i], payload_length=self._lengths[i])
        return seg


class RvfDocument(VectorAccess, WitnessAccess, IndexAccess, CowAccess, Document):
    """A decoded `.rvf` file (any dialect).  `parsed` (the layout), `segments`, `tail`,
    `manifests`, `latest`, `ids`/`matrix` (live vectors), `witnesses`; `to_json()`, `build()`,
    `check()`."""

    def __init__(self, detection: Detection, data=b"", source: str = ""):
        super().__init__(detection, data, source)
        self.dialect = detection.variant or RUNTIME
        self.parse_layout(LAYOUTS[self.dialect], lazy=True)
        self.fields = self.parsed
        placed = self.parsed.placed["segments"]
        self.offsets = np.frombuffer(placed.offsets, np.int64)
        self.headers = gather(data, HEADER_DTYPE, self.offsets)    # every segment's header, one row each
        self.segments = Segments(placed, self.headers)
        self.tail = _tail(data, placed)
        self._decoded: dict[int, Manifest] = {}
        self._hashed: dict[int, bool | None] = {}    # hash_ok of own segments by index, as checked
        self.parent_source = None    # `load(..., parent=)`: path, bytes or RvfDocument of a branch child's parent

    @cached_property
    def by_offset(self) -> dict[int, Segment]:
        """The segments by the offset of their header."""
        return {s.offset: s for s in self.segments}

    @cached_property
    def _manifest_segments(self) -> list[Segment]:
        return [self.segments[i] for i in np.flatnonzero(self.headers["seg_type"] == MANIFEST).tolist()]

    # -- bytes -------------------------------------------------------------------------------
    def payload(self, seg: Segment) -> memoryview:
        return memoryview(self.data)[seg.payload_offset:seg.payload_offset + seg.payload_length]

    def payload_declaration(self, seg: Segment):
        """The declaration the dialect gives `seg`'s payload (None: its bytes)."""
        return PAYLOADS[self.dialect].get(seg.type_name)

    def build(self) -> bytes:
        """Each segment's header from its parsed fields, then its payload (and footer, padding) as
        stored, then the tail: an untouched document gives back its bytes, and each segment's
        bytes are copied once (the layout's own writer, `parsed.build()`, rebuilds every payload
        field by field)."""
        parts = []
        for seg in self.segments:
            parts.append(build(segment_header, seg.header, seg.path))
            parts.append(bytes(self.data[seg.payload_offset:seg.end]))
        if self.tail is not None:
            parts.append(bytes(self.data[self.tail.offset:self.tail.offset + self.tail.length]))
        return b"".join(parts)

    @cached_property
    def segment_columns(self) -> dict[str, np.ndarray]:
        """offset, segment_id, payload_length and seg_type of every segment, as uint64 columns in
        file order (what directory entries are compared with)."""
        return {"offset": self.offsets.astype(np.uint64),
                **{k: self.headers[k].astype(np.uint64) for k in ("segment_id", "payload_length", "seg_type")}}

    # -- manifests ---------------------------------------------------------------------------
    def _decode_manifest(self, seg: Segment) -> Manifest:
        m = Manifest(seg)
        try:
            if self.dialect == SPEC:
                from .spec_payloads import decode_spec_manifest
                m.root, m.root_offset, m.records = decode_spec_manifest(self, seg)
                m.value = m.root
            elif seg.decoded is not None:
                m.value = seg.decoded
            else:   # a short manifest (upstream reads no deletions), or why the payload does not decode
                decl = self.payload_declaration(seg) if self.dialect == WASM else \
                    manifest_declaration(self.data, seg.payload_offset, seg.payload_length)
                m.value = parse(decl, self.data, seg.payload_offset, f"{seg.path}.payload", seg.payload_length)
        except FormatError as exc:
            m.error = exc
        return m

    def manifest(self, seg: Segment) -> Manifest:
        """The decoded MANIFEST segment `seg` (decoded once, on first use)."""
        if seg.offset not in self._decoded:
            self._decoded[seg.offset] = self._decode_manifest(seg)
        return self._decoded[seg.offset]

    @property
    def manifests(self) -> list[Manifest]:
        """Every MANIFEST segment, decoded, in file order."""
        return [self.manifest(s) for s in self._manifest_segments]

    @cached_property
    def latest(self) -> Manifest | None:
        """The last complete MANIFEST whose payload parses (RVF.md 3.4)."""
        for seg in reversed(self._manifest_segments):
            m = self.manifest(seg)
            if m.error is None:
                return m
        return None

    @property
    def identity(self):
        if self.latest is None:
            return None
        if self.dialect == SPEC:
            return self.latest.root.file_identity
        return self.latest.value.get("file_identity")

    @property
    def dimension(self) -> int | None:
        return None if self.latest is None else int(self.latest.value.dimension)

    @property
    def epoch(self) -> int | None:
        return None if self.latest is None else int(self.latest.value.epoch)

    @property
    def metric(self) -> str | None:
        if self.latest is None or self.dialect in (SPEC, WASM):
            return None
        return str(self.latest.value.metric)

    @property
    def profile_id(self) -> int | None:
        return None if self.latest is None else int(self.latest.value.profile_id)

    @property
    def deleted_ids(self) -> list[int]:
        if self.latest is None or self.dialect in (SPEC, WASM):
            return []
        return [int(i) for i in self.latest.value.get("deleted_ids", [])]

    def runtime_status(self) -> dict:
        """What rvf-node's `status()` reports after opening this file (live = records loaded −
        len(deleted_ids), RVF.md 3.5), in its camelCase keys."""
        if self.latest is None:
            return {}
        v = self.latest.value
        return {"totalVectors": max(self.records_loaded - len(self.deleted_ids), 0),
                "totalSegments": len(v.segment_dir), "fileSize": len(self.data),
                "currentEpoch": int(v.epoch), "profileId": int(v.profile_id)}

    # -- hashes --------------------------------------------------------------------------------
    def hash_algorithm(self, seg: Segment) -> str:
        """The algorithm the segment's `checksum_algo` declares (RVF.md 7: the declared algorithm
        wins; the dialect only names what 0 means): 0 = the dialect's own hash (runtime: rotated
        CRC-32, ruvbot: SHA-256[:16], spec: XXH3-128), 1 and 3 XXH3-128, 2 SHAKE-256[:16];
        `unknown` for other values, `unset` for an all-zero hash outside the spec dialect."""
        if self._is_own(seg):
            return self.hash_algorithms[seg.index]
        stored, algo = self.stored_hash(seg)
        return self._algorithm(stored == hashes.ZERO16, algo, seg.payload_length)

    def _algorithm(self, zero: bool, algo: int, payload_length: int) -> str:
        if self.dialect != SPEC and zero and (payload_length or self.dialect == WASM):
            return "unset"
        return hashes.declared_algorithm(algo, {SPEC: "xxh3_128", RUVBOT: "sha256_128"}.get(self.dialect,
                                                                                          "crc32_rotated"))

    @cached_property
    def hash_algorithms(self) -> list[str]:
        """`hash_algorithm` of every segment in file order, read off the header table."""
        t = self.headers
        memo: dict[tuple, str] = {}
        out = []
        for zero, algo, length in zip((~t["content_hash"].any(axis=1)).tolist(), t["checksum_algo"].tolist(),
                                      (t["payload_length"] > 0).tolist()):
            key = (zero, algo, length)
            if key not in memo:
                memo[key] = self._algorithm(zero, algo, length)
            out.append(memo[key])
        return out

    @cached_property
    def hash_results(self) -> list[bool | None]:
        """`hash_ok` of every segment in file order (each payload hashed once, the segments of one
        rule together)."""
        names, out = self.hash_algorithms, [None] * len(self.offsets)
        data, starts = memoryview(self.data), (self.offsets + HEADER_SIZE).tolist()
        lengths = self.headers["payload_length"].tolist()
        for name in set(names):
            rows = [i for i, n in enumerate(names) if n == name]
            expected = hashes.payload_hashes(name, [data[starts[i]:starts[i] + lengths[i]] for i in rows])
            if expected is not None:
                for i, ok in zip(rows, (expected == self.headers["content_hash"][rows]).all(axis=1).tolist()):
                    out[i] = ok
        self._hashed = dict(enumerate(out))
        return out

    def hash_matching(self, seg: Segment) -> str | None:
        """Which known hash rule the stored `content_hash` satisfies (to explain a mismatch)."""
        payload, stored = self.payload(seg), self.stored_hash(seg)[0]
        for name in hashes.PAYLOAD_HASHES:
            if hashes.payload_hash(name, payload) == stored:
                return name
        return None

    def hash_ok(self, seg: Segment) -> bool | None:
        """Does `content_hash` match the payload under the dialect's rule?  None when unset."""
        own = self._is_own(seg)
        if own and seg.index in self._hashed:
            return self._hashed[seg.index]
        ok = _verify(self.hash_algorithm(seg), self.payload(seg), self.stored_hash(seg)[0])
        if own:
            self._hashed[seg.index] = ok
        return ok

    def _is_own(self, seg: Segment) -> bool:
        """Is `seg` one of this document's segments (its row of the header table is its header)?"""
        return 0 <= seg.index < len(self.offsets) and self.offsets[seg.index] == seg.offset

    def stored_hash(self, seg: Segment) -> tuple[bytes, int]:
        """(content_hash, checksum_algo) of `seg`, from the header table (no header parsed) when
        `seg` is one of this document's segments."""
        if self._is_own(seg):
            row = self.headers[seg.index]
            return row["content_hash"].tobytes(), int(row["checksum_algo"])
        return bytes(seg.header.content_hash), int(seg.header.checksum_algo)

    # -- Document interface -----------------------------------------------------------------------
    def to_json(self) -> dict:
        from .jsonout import document_json
        return document_json(self)

    def check(self, strict: bool = False) -> list[Finding]:
        from .checks import check_document
        return check_document(self, strict)

    def summary(self) -> list[str]:
        lines = [f"dialect {self.dialect}: {len(self.segments)} segments, {len(self.data)} bytes"]
        if self.tail is not None:
            lines.append(f"tail: {self.tail.length} bytes at {self.tail.offset} ({self.tail.reason})")
        if self.latest is None:
            lines.append("no complete manifest")
            return lines
        lines.append(f"latest manifest at {self.latest.segment.offset}: epoch {self.epoch}, "
                     f"dimension {self.dimension}, metric {self.metric}, "
                     f"profile {PROFILES.get(self.profile_id, self.profile_id)}")
        if self.dialect != SPEC:
            lines.append(f"live vectors: {len(self.ids)} (deleted ids: {len(self.deleted_ids)})")
        ident = self.identity
        if ident is not None:
            kind = "root" if is_root(ident) else f"depth {ident.lineage_depth}, parent {bytes(ident.parent_id).hex()}"
            lines.append(f"file_id {bytes(ident.file_id).hex()} ({kind})")
        if self.witnesses:
            lines.append(f"witnesses: {len(self.witnesses)}, chain {'ok' if self.witness_chain_ok else 'BROKEN'}")
        return lines


def _verify(algorithm: str, payload, stored: bytes) -> bool | None:
    """Does `stored` match the payload under `algorithm`?  None when it names no hash."""
    expected = hashes.payload_hash(algorithm, payload)
    return None if expected is None else expected == stored


def load_rvf(data, detection: Detection, name: str = "", parent=None) -> RvfDocument:
    if detection.variant is None:
        found = detect_dialect(data)
        variant = found[0] if found else RUNTIME
        detection = Detection(detection.format, variant, found[1] if found else detection.description)
    doc = RvfDocument(detection, data, name)
    doc.parent_source = parent
    return doc


__all__ = ["RvfDocument", "Segment", "Tail", "Manifest", "load_rvf", "DIALECTS", "RUNTIME", "SPEC", "WASM",
           "RUVBOT"]
