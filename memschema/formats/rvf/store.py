"""A loaded RVF file: its segments, the state of the store and the way back to bytes.

The walk goes forward from offset 0 (RVF.md 3.1, 3.4): packed segments in the runtime, ruvbot and
wasm_export dialects, `64 + payload [+ footer] + alignment_pad` in the spec dialect.  Bytes that
do not form a complete segment are kept as `tail` (a torn append, or what follows corruption).
The state (RVF.md 3.5) comes from the latest complete, parseable MANIFEST.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...document import Document
from ...errors import Finding, FormatError
from ...jsonify import to_jsonable
from ...parsing import build, parse, parse_span
from ...registry import Detection
from . import hashes
from .cow import CowAccess
from .index_access import IndexAccess
from .jsonview import text
from .lineage import is_root
from .runtime import (
    PROFILES,
    dir_entry,
    manifest_head,
    manifest_payload,
    manifest_payload_short,
    vec_head,
    vec_record_fixed,
    wasm_manifest_payload,
    wasm_vec_head,
    witness_payload,
)
from .segment import (
    FLAGS,
    HEADER_SIZE,
    SEG_TYPES,
    SEGMENT_MAGIC,
    SEGMENT_VERSION,
    flag_names,
    seg_type_name,
    segment_header,
)
from .spec import (
    LEVEL0_SIZE,
    ROOT_MANIFEST_MAGIC,
    WITNESS_ENTRY_SIZE,
    level0_root,
    level1_record,
    signature_footer,
    witness_chain,
)
from .wasm_export import wasm_record_count

RUNTIME, SPEC, WASM, RUVBOT = "runtime", "spec", "wasm_export", "ruvbot"
DIALECTS = (RUNTIME, SPEC, WASM, RUVBOT)
MANIFEST, VEC, WITNESS = SEG_TYPES["manifest"], SEG_TYPES["vec"], SEG_TYPES["witness"]
VEC_HEAD = vec_head.sizeof()


@dataclass
class Segment:
    """One complete segment: the parsed header plus where its parts sit in the file."""

    index: int
    offset: int
    header: object
    payload_offset: int
    payload_length: int
    end: int
    footer: object = None
    footer_length: int = 0
    pad_length: int = 0

    @property
    def seg_type(self) -> int:
        return int(self.header.seg_type)

    @property
    def type_name(self) -> str:
        return seg_type_name(self.header.seg_type)

    @property
    def path(self) -> str:
        return f"segments[{self.index}]"


@dataclass
class Tail:
    """Bytes after the last complete segment, and why they are not one."""

    offset: int
    length: int
    reason: str          # "torn_header" | "torn_payload" | "past_eof" | "bad_magic" | "bad_version"
    header: object = None


@dataclass
class Manifest:
    """A MANIFEST segment and its decoded payload (or why it does not decode)."""

    segment: Segment
    value: object = None
    error: FormatError | None = None
    root: object = None          # spec: Level0Root
    records: list = field(default_factory=list)   # spec: Level-1 records


def manifest_decl(data, seg: Segment):
    """The runtime manifest declaration, or the short one when the payload ends before del_count."""
    head = parse(manifest_head, data, seg.payload_offset, f"{seg.path}.manifest", seg.payload_length)
    deletions_at = manifest_head.sizeof() + head.seg_count * dir_entry.sizeof()
    if seg.payload_length < deletions_at + manifest_payload.del_count.sizeof():
        return manifest_payload_short
    return manifest_payload


def _header_at(data, offset: int, index: int):
    return parse(segment_header, data, offset, f"segments[{index}]", HEADER_SIZE)


def payload_hash(algorithm: str, payload) -> bytes | None:
    """`content_hash` of `payload` under `algorithm` (`RvfDocument.hash_algorithm`); None when unset."""
    if algorithm == "crc32_rotated":
        return hashes.crc32_rotated(payload)
    if algorithm == "xxh3_128":
        return hashes.xxh3_128_le(payload)
    if algorithm == "shake256_128":
        return hashes.shake256_128(payload)
    if algorithm == "sha256_128":
        return hashlib.sha256(bytes(payload)).digest()[:16]
    return None


def _vec_fits(data, seg_offset: int, length: int, head_decl) -> bool:
    """Does a VEC payload fit exactly as `head_decl`'s (count, dimension) + packed records?"""
    if length < VEC_HEAD:
        return False
    head = parse(head_decl, data, seg_offset + HEADER_SIZE, "", VEC_HEAD)
    return VEC_HEAD + head.vector_count * (8 + 4 * head.dimension) == length


def detect_dialect(data) -> tuple[str, str] | None:
    """(dialect, description) of bytes that start with an RVF segment header, else None."""
    if len(data) < HEADER_SIZE:
        return None
    try:
        first = _header_at(data, 0, 0)
    except FormatError:
        return None
    if first.magic != SEGMENT_MAGIC:
        return None
    if first.alignment_pad or first.flags & FLAGS["SIGNED"]:
        return SPEC, "spec dialect (64-byte aligned segments, XXH3/SHAKE-256 hashes)"
    pos, zero_hashes, index = 0, True, 0
    while pos + HEADER_SIZE <= len(data) and index < 8:
        h = _header_at(data, pos, index)
        if h.magic != SEGMENT_MAGIC:
            break
        end = pos + HEADER_SIZE + h.payload_length
        if end > len(data):
            break
        payload = memoryview(data)[pos + HEADER_SIZE:end]
        stored = bytes(h.content_hash)
        if stored != hashes.ZERO16:
            zero_hashes = False
            if stored == hashes.crc32_rotated(payload):
                return RUNTIME, "runtime dialect (rvf-runtime RvfStore: packed segments, rotated CRC-32)"
            if stored == payload_hash("sha256_128", payload):
                return RUVBOT, "ruvbot build-rvf.js file (packed segments, SHA-256[:16] hashes)"
            if stored in (hashes.xxh3_128_le(payload), hashes.shake256_128(payload)):
                return SPEC, "spec dialect (XXH3/SHAKE-256 hashes)"
        pos, index = end, index + 1
    if first.checksum_algo != 0:
        return SPEC, "spec dialect (checksum_algo set, XXH3/SHAKE-256 hashes)"
    # seg_type parses as a named enum string: compare its integer
    if zero_hashes and int(first.seg_type) == VEC and first.segment_id == 1 and \
            not _vec_fits(data, 0, first.payload_length, vec_head) and \
            wasm_record_count(data, HEADER_SIZE, first.payload_length) is not None:
        return WASM, "rvf-wasm store export (VEC + MANIFEST, u16 count / u32 dimension)"
    return RUNTIME, "runtime dialect (rvf-runtime RvfStore: packed segments)"


def walk(data, dialect: str) -> tuple[list[Segment], Tail | None]:
    """Every complete segment from offset 0, and the bytes after them."""
    segments: list[Segment] = []
    size, pos = len(data), 0
    while pos < size:
        index = len(segments)
        if size - pos < HEADER_SIZE:
            return segments, Tail(pos, size - pos, "torn_header")
        header = _header_at(data, pos, index)
        if header.magic != SEGMENT_MAGIC:
            return segments, Tail(pos, size - pos, "bad_magic", header)
        if header.version != SEGMENT_VERSION:
            return segments, Tail(pos, size - pos, "bad_version", header)
        payload_offset = pos + HEADER_SIZE
        end = payload_offset + header.payload_length
        footer, footer_length, pad = None, 0, 0
        if dialect == SPEC and end <= size:
            if header.flags & FLAGS["SIGNED"]:
                footer, footer_length = parse_span(signature_footer, data, end, f"segments[{index}].footer")
            pad = header.alignment_pad
        if end + footer_length + pad > size:
            reason = "past_eof" if _header_follows(data, payload_offset) else "torn_payload"
            return segments, Tail(pos, size - pos, reason, header)
        segments.append(Segment(index, pos, header, payload_offset, header.payload_length,
                                end + footer_length + pad, footer, footer_length, pad))
        pos = end + footer_length + pad
    return segments, None


def _header_follows(data, start: int) -> bool:
    """Is there a complete, plausible segment header after `start`?  (Corruption, not a torn tail.)"""
    magic = SEGMENT_MAGIC.to_bytes(4, "little")
    view = bytes(data[start:]) if len(data) - start < (64 << 20) else bytes(data[start:start + (64 << 20)])
    at = view.find(magic)
    while at >= 0:
        if at + HEADER_SIZE <= len(view) and parse(segment_header, view, at).version == SEGMENT_VERSION:
            return True
        at = view.find(magic, at + 1)
    return False


class RvfDocument(IndexAccess, CowAccess, Document):
    """A decoded `.rvf` file (any dialect).  `segments`, `tail`, `manifests`, `latest`,
    `ids`/`matrix` (live vectors), `witnesses`; `to_json()`, `build()`, `check()`."""

    def __init__(self, detection: Detection, data=b"", source: str = ""):
        super().__init__(detection, data, source)
        self.dialect = detection.variant or RUNTIME
        self.segments, self.tail = walk(data, self.dialect)
        self.fields = self.segments
        self.by_offset = {s.offset: s for s in self.segments}
        self._manifest_segments = [s for s in self.segments if s.seg_type == MANIFEST]
        self._decoded: dict[int, Manifest] = {}
        self.parent_source = None    # `load(..., parent=)`: path, bytes or RvfDocument of a branch child's parent

    # -- bytes -------------------------------------------------------------------------------
    def payload(self, seg: Segment) -> memoryview:
        return memoryview(self.data)[seg.payload_offset:seg.payload_offset + seg.payload_length]

    def build(self) -> bytes:
        parts = []
        for seg in self.segments:
            parts.append(build(segment_header, seg.header, seg.path))
            parts.append(bytes(self.data[seg.payload_offset:seg.end]))   # payload, footer, padding
        if self.tail is not None:
            parts.append(bytes(self.data[self.tail.offset:self.tail.offset + self.tail.length]))
        return b"".join(parts)

    # -- manifests ---------------------------------------------------------------------------
    def _decode_manifest(self, seg: Segment) -> Manifest:
        m = Manifest(seg)
        try:
            if self.dialect == SPEC:
                if seg.payload_length < LEVEL0_SIZE:
                    raise FormatError(f"spec manifest payload of {seg.payload_length} bytes has no "
                                      f"{LEVEL0_SIZE}-byte Level0Root", f"{seg.path}.payload",
                                      seg.payload_offset, "rvf.manifest_unparseable")
                root_at = seg.payload_offset + seg.payload_length - LEVEL0_SIZE
                m.root = parse(level0_root, self.data, root_at, f"{seg.path}.level0_root", LEVEL0_SIZE)
                pos = seg.payload_offset
                while pos < root_at:
                    rec, used = parse_span(level1_record, self.data, pos, f"{seg.path}.level1_records"
                                           f"[{len(m.records)}]", root_at - pos)
                    m.records.append((pos, rec))
                    pos += used
                m.value = m.root
            else:
                decl = wasm_manifest_payload if self.dialect == WASM else self._manifest_decl(seg)
                m.value = parse(decl, self.data, seg.payload_offset, f"{seg.path}.manifest",
                                seg.payload_length)
        except FormatError as exc:
            m.error = exc
        return m

    def _manifest_decl(self, seg: Segment):
        return manifest_decl(self.data, seg)

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
        """The last complete MANIFEST whose payload parses (RVF.md 3.4); earlier ones are only
        decoded when asked for (a store holds one manifest per write)."""
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
        if self.latest is None:
            return None
        return self.latest.value.dimension

    @property
    def epoch(self) -> int | None:
        return None if self.latest is None else self.latest.value.epoch

    @property
    def metric(self) -> str | None:
        if self.latest is None or self.dialect in (SPEC, WASM):
            return None
        return str(self.latest.value.metric)

    @property
    def profile_id(self) -> int | None:
        return None if self.latest is None else self.latest.value.profile_id

    @property
    def deleted_ids(self) -> list[int]:
        if self.latest is None or self.dialect in (SPEC, WASM):
            return []
        return list(self.latest.value.get("deleted_ids", []))

    # -- live vectors ------------------------------------------------------------------------
    def vec_segments(self) -> list[tuple[Segment, int]]:
        """(segment, vector_count) of the VEC segments the latest directory names, in directory
        order, that really are VEC segments of the manifest's dimension and full size."""
        if self.latest is None or self.dialect == SPEC:
            return []
        dim = self.latest.value.dimension
        out = []
        for entry in self.latest.value.segment_dir:
            if int(entry.seg_type) != VEC:
                continue
            seg = self.by_offset.get(entry.offset)
            if seg is None or seg.seg_type != VEC or seg.payload_length != entry.payload_length \
                    or seg.payload_length < VEC_HEAD:
                continue
            head = parse(wasm_vec_head if self.dialect == WASM else vec_head, self.data,
                         seg.payload_offset, f"{seg.path}.vec", VEC_HEAD)
            count, seg_dim = head.vector_count, head.dimension
            if self.dialect == WASM:   # every record the payload holds, also past a wrapped u16 count
                count = wasm_record_count(self.data, seg.payload_offset, seg.payload_length) or 0
            if seg_dim != dim or seg.payload_length < VEC_HEAD + count * (8 + 4 * dim):
                continue   # the runtime skips a VEC that is shorter than its count says
            out.append((seg, count))
        return out

    @cached_property
    def _live(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self.dialect == SPEC:
            from .spec_payloads import spec_vectors
            return spec_vectors(self)
        dim = self.dimension or 0
        parts = self.vec_segments()
        total = sum(count for _, count in parts)
        ids = np.empty(total, dtype=np.uint64)
        matrix = np.empty((total, dim), dtype=np.float32)
        pos = 0
        if dim:
            from ...dtypes import table
            record = vec_record_fixed(dim)
            for seg, count in parts:
                recs = table(record, self.data, seg.payload_offset + VEC_HEAD, count, f"{seg.path}.records")
                ids[pos:pos + count] = recs["id"]
                matrix[pos:pos + count] = recs["data"]
                pos += count
        if total > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            _, first_in_reversed = np.unique(ids[::-1], return_index=True)
            keep = np.sort(total - 1 - first_in_reversed)   # later records win
            if len(keep) < total:
                ids, matrix = ids[keep], matrix[keep]
        loaded, loaded_matrix = ids, matrix
        deleted = self.deleted_ids
        if deleted and len(loaded):
            mask = ~np.isin(ids, np.asarray(deleted, dtype=np.uint64))
            if not mask.all():
                ids, matrix = ids[mask], matrix[mask]
        return ids, matrix, loaded, loaded_matrix

    @property
    def records_loaded(self) -> int:
        """Distinct ids in the listed VEC segments (deleted ones included): `total_vectors`."""
        return len(self._live[2])

    @property
    def loaded_ids(self) -> np.ndarray:
        """Those distinct ids (before deletions)."""
        return self._live[2]

    @property
    def loaded_matrix(self) -> np.ndarray:
        """Their vectors, row i for `loaded_ids[i]` (what the runtime's index traverses)."""
        return self._live[3]

    def runtime_status(self) -> dict:
        """What rvf-node's `status()` reports after opening this file (live = records loaded −
        len(deleted_ids), RVF.md 3.5), in its camelCase keys."""
        if self.latest is None:
            return {}
        v = self.latest.value
        return {"totalVectors": max(self.records_loaded - len(self.deleted_ids), 0),
                "totalSegments": len(v.segment_dir), "fileSize": len(self.data),
                "currentEpoch": v.epoch, "profileId": v.profile_id}

    def vectors(self) -> dict[int, np.ndarray]:
        return {int(i): self.matrix[row] for row, i in enumerate(self.ids)}

    # -- witnesses ---------------------------------------------------------------------------
    @cached_property
    def witnesses(self) -> list[dict]:
        """Runtime WITNESS segments in file order with their `link` (RVF.md 3.8); spec WITNESS
        payloads as 73-byte entry chains (4.5)."""
        out, previous = [], None
        for seg in self.segments:
            if seg.seg_type != WITNESS:
                continue
            if self.dialect == SPEC:
                out.extend(self._spec_witness(seg))
                continue
            item = {"offset": seg.offset, "segment_id": seg.header.segment_id}
            try:
                w = parse(witness_payload, self.data, seg.payload_offset, f"{seg.path}.witness",
                          seg.payload_length)
            except FormatError as exc:
                item.update(link="unparseable", error=exc)
                out.append(item)
                previous = None
                continue
            prev = bytes(w.prev_hash)
            if prev == hashes.ZERO32:
                link = "genesis" if not out else "restart"
            elif previous is not None and prev == hashes.fold32(previous):
                link = "linked"
            else:
                link = "broken"
            item.update(witness_type=w.witness_type, timestamp_ns=w.timestamp_ns,
                        action=text(w.action), prev_hash=prev.hex(), link=link, value=w)
            out.append(item)
            previous = self.payload(seg)
        return out

    def _spec_witness(self, seg: Segment) -> list[dict]:
        if seg.payload_length % WITNESS_ENTRY_SIZE:
            return [{"offset": seg.offset, "segment_id": seg.header.segment_id, "link": "unparseable",
                     "error": FormatError(f"{seg.payload_length} bytes is not a multiple of 73",
                                          f"{seg.path}.witness_chain", seg.payload_offset,
                                          "rvf.witness_unparseable")}]
        entries = parse(witness_chain, self.data, seg.payload_offset, f"{seg.path}.witness_chain",
                        seg.payload_length)
        return [dict(item, segment_id=seg.header.segment_id) for item in chain_links(entries, seg.payload_offset)]

    @property
    def witness_chain_ok(self) -> bool:
        return all(w["link"] in ("genesis", "linked", "restart") for w in self.witnesses)

    # -- hashes --------------------------------------------------------------------------------
    def hash_algorithm(self, seg: Segment) -> str:
        """The algorithm the segment's `checksum_algo` declares (RVF.md 7: the declared algorithm
        wins; the dialect only names what 0 means): 0 = the dialect's own hash (runtime: rotated
        CRC-32, ruvbot: SHA-256[:16], spec: XXH3-128), 1 and 3 XXH3-128, 2 SHAKE-256[:16];
        `unknown` for other values, `unset` for an all-zero hash outside the spec dialect."""
        stored, algo = bytes(seg.header.content_hash), seg.header.checksum_algo
        if self.dialect != SPEC and stored == hashes.ZERO16 and (seg.payload_length or self.dialect == WASM):
            return "unset"
        if algo == 0:
            return {SPEC: "xxh3_128", RUVBOT: "sha256_128"}.get(self.dialect, "crc32_rotated")
        return {1: "xxh3_128", 2: "shake256_128", 3: "xxh3_128"}.get(algo, "unknown")

    def hash_matching(self, seg: Segment) -> str | None:
        """Which known hash rule the stored `content_hash` satisfies (to explain a mismatch)."""
        payload, stored = self.payload(seg), bytes(seg.header.content_hash)
        for name in ("crc32_rotated", "xxh3_128", "shake256_128", "sha256_128"):
            if payload_hash(name, payload) == stored:
                return name
        return None

    def hash_ok(self, seg: Segment) -> bool | None:
        """Does `content_hash` match the payload under the dialect's rule?  None when unset."""
        algorithm = self.hash_algorithm(seg)
        expected = payload_hash(algorithm, self.payload(seg))
        return None if expected is None else expected == bytes(seg.header.content_hash)

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


def chain_links(entries, base: int) -> list[dict]:
    """Spec witness entries with `prev_hash_ok` and `link` (entry i's prev_hash = SHAKE-256-256
    of entry i−1's 73 bytes; entry 0's is zero)."""
    from .spec import witness_entry
    out, previous = [], None
    for i, e in enumerate(entries):
        prev = bytes(e.prev_hash)
        if previous is None:
            ok = prev == hashes.ZERO32
            link = "genesis" if ok else "broken"
        else:
            ok = prev == hashes.shake256(previous, 32)
            link = "linked" if ok else "broken"
        out.append({"offset": base + i * WITNESS_ENTRY_SIZE, "prev_hash": prev.hex(),
                    "action_hash": bytes(e.action_hash).hex(), "timestamp_ns": e.timestamp_ns,
                    "witness_type": e.witness_type, "prev_hash_ok": ok, "link": link})
        previous = build(witness_entry, e)
    return out


def load_rvf(data, detection: Detection, name: str = "", parent=None) -> RvfDocument:
    if detection.variant is None:
        found = detect_dialect(data)
        variant = found[0] if found else RUNTIME
        detection = Detection(detection.format, variant, found[1] if found else detection.description)
    doc = RvfDocument(detection, data, name)
    doc.parent_source = parent
    return doc


def jsonify_value(value):
    return to_jsonable(value)


__all__ = ["RvfDocument", "Segment", "Tail", "Manifest", "detect_dialect", "walk", "load_rvf",
           "chain_links", "DIALECTS", "RUNTIME", "SPEC", "WASM", "RUVBOT", "ROOT_MANIFEST_MAGIC",
           "flag_names"]
