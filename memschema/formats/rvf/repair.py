"""`repair` for runtime-dialect RVF stores (RVF.md 3, LOCKS.md 3.7).

The committed state of a store is its latest manifest that is complete, hashes, parses and whose
directory names complete, hashing segments.  Repair keeps every complete segment up to that
manifest and cuts what follows (a torn append: its VEC/WITNESS/MANIFEST segments were never
committed).  Segments are found by a forward walk that resynchronises over bytes that are not a
complete, hashing segment (what a crash leaves in the middle when the runtime appended after a
torn tail): those bytes are dropped and every kept manifest's directory is moved to the new
offsets.  When a later manifest is complete but does not hash or parse (the data it committed is
intact), a new manifest is rebuilt over the complete VEC and JOURNAL segments before it, so every
vector it committed survives.  Every other dialect has no repair.
"""

from __future__ import annotations

from construct import Container, ListContainer

from ...errors import FormatError
from ...parsing import build, parse
from ...registry import Detection
from ...repairing import Action, RepairResult
from ...walker import parse_value
from . import hashes
from .document import Segment
from .layouts import RUNTIME, SEGMENTS
from .runtime_payloads import JOURNAL_DELETE_VECTOR, journal_payload, manifest_declaration
from .segment import HEADER_SIZE, MAGIC_BYTES, SEG_TYPES, segment_header

MANIFEST, VEC, JOURNAL = SEG_TYPES["manifest"], SEG_TYPES["vec"], SEG_TYPES["journal"]


def repair_rvf(data, detection: Detection) -> RepairResult | None:
    if (detection.variant or RUNTIME) != RUNTIME:
        return None
    out = RepairResult(b"")
    segments, cut_at = _walk(data, out)
    at = {s.offset: s for s in segments}
    # the latest manifest whose directory holds (each lists every segment: checking them all is quadratic)
    latest, state = next(((s, v) for s in reversed(segments) if s.seg_type == MANIFEST
                          if (v := _state(data, s, at)) is not None), (None, None))
    if latest is None:
        raise FormatError("no complete manifest that hashes and parses: nothing was committed", "", 0,
                          "rvf.no_manifest")
    unparseable = [s for s in segments if s.seg_type == MANIFEST and s.offset > latest.offset]
    broken = unparseable + _unhashed_manifests(data, out.changes, latest.end)
    commit_end = max([latest.end] + [b.end for b in broken])
    kept = [s for s in segments if s.end <= commit_end and s not in broken]
    for s in segments:
        if s.end > commit_end:
            out.add(Action.DROPPED, "rvf.uncommitted", f"{s.type_name} segment {s.header.segment_id} written after "
                    "the last complete manifest (never committed)", s.path, s.offset, s.end - s.offset)
    if cut_at is not None:
        out.add(Action.CUT, "rvf.torn_tail", "the file ends inside a segment (a torn append)", "tail", cut_at,
                len(data) - cut_at)
    moved, body = _concatenate(data, kept)
    if broken:
        for b in unparseable:
            out.add(Action.DROPPED, "rvf.manifest_unparseable", "complete manifest whose payload does not parse "
                    "or whose directory names no segment; a new manifest replaces it", b.path, b.offset,
                    b.end - b.offset)
        body += _rebuilt_manifest(data, state, latest, kept, moved, len(body), out)
    elif any(moved[s.offset] != s.offset for s in kept):
        body = _moved_directories(data, kept, moved, body, out)
    out.data = bytes(data) if not out.changes else bytes(body)
    out.kept = {"segments": len(kept) + (1 if broken else 0)}
    return out


# -- the walk ----------------------------------------------------------------------------------

def _segment_at(data, pos: int, index: int, verified: bool) -> Segment | None:
    """A complete segment (the runtime layout's record) at `pos` whose content hash matches
    (`verified`: a zero hash does not count either), else None."""
    try:
        value, end = parse_value(SEGMENTS[RUNTIME], data, pos, f"segments[{index}]")
    except FormatError:
        return None
    stored = bytes(value.header.content_hash)
    matches = stored == hashes.crc32_rotated(data[pos + HEADER_SIZE:end])
    if not matches and (verified or stored != hashes.ZERO16):
        return None
    return Segment(index, pos, end, value)


def _header(data, pos: int, path: str):
    """The segment header at `pos`, or the FormatError that says why there is none."""
    try:
        return parse_value(segment_header, data, pos, path)[0]
    except FormatError as exc:
        return exc


def _next_segment(data, start: int, index: int) -> Segment | None:
    """The next offset >= start where a complete segment with a matching hash begins."""
    find = data.find if hasattr(data, "find") else bytes(data).find
    at = find(MAGIC_BYTES, start)
    while at >= 0:
        seg = _segment_at(data, at, index, verified=True)
        if seg is not None:
            return seg
        at = find(MAGIC_BYTES, at + 1)
    return None


def _walk(data, out: RepairResult) -> tuple[list[Segment], int | None]:
    """Every complete, hashing segment; bytes between them are dropped (recorded in `out`); the
    offset of a torn append at the end (None when the file ends after a segment)."""
    segments: list[Segment] = []
    pos = 0
    while pos < len(data):
        seg = _segment_at(data, pos, len(segments), verified=False)
        if seg is not None:
            segments.append(seg)
            pos = seg.end
            continue
        nxt = _next_segment(data, pos + 1, len(segments))
        if nxt is None:
            if _starts_torn(data, pos):
                return segments, pos
            out.add(Action.DROPPED, "rvf.undecodable", f"{len(data) - pos} bytes up to the end are not a "
                    "segment", f"segments[{len(segments)}]", pos, len(data) - pos)
            return segments, None
        out.add(Action.DROPPED, "rvf.undecodable", f"{nxt.offset - pos} bytes are not a complete segment "
                f"that hashes ({_why(data, pos)}); segments resume at {nxt.offset}", f"segments[{len(segments)}]",
                pos, nxt.offset - pos)
        pos = nxt.offset
    return segments, None


def _starts_torn(data, pos: int) -> bool:
    """Do the bytes from `pos` to the end look like the start of a segment cut short?"""
    if len(data) - pos < HEADER_SIZE:
        return MAGIC_BYTES.startswith(bytes(data[pos:pos + len(MAGIC_BYTES)]))
    h = _header(data, pos, "tail")
    return not isinstance(h, FormatError) and pos + HEADER_SIZE + h.payload_length > len(data)


def _why(data, pos: int) -> str:
    if len(data) - pos < HEADER_SIZE:
        return "too short for a header"
    h = _header(data, pos, "tail")
    if isinstance(h, FormatError):
        return "no segment magic" if h.path.endswith("magic") else f"{h.path.rpartition('.')[2]}: {h.message}"
    if pos + HEADER_SIZE + h.payload_length > len(data):
        return f"payload_length {h.payload_length} runs past the end"
    return "content_hash does not match"


def _unhashed_manifests(data, changes, after: int) -> list[Segment]:
    """Complete MANIFEST segments after `after` that were dropped because their hash fails: the
    state they committed is rebuilt, so the segments before them are committed too."""
    found = []
    for c in changes:
        if c.offset is not None and c.offset >= after and len(data) - c.offset >= HEADER_SIZE:
            h = _header(data, c.offset, c.path)
            if isinstance(h, FormatError):
                continue
            end = c.offset + HEADER_SIZE + h.payload_length
            if int(h.seg_type) == MANIFEST and end <= c.offset + (c.length or 0):
                found.append(Segment(-1, c.offset, end, Container(header=h)))
    return found


# -- manifests ---------------------------------------------------------------------------------

def _state(data, seg: Segment, at: dict[int, Segment]):
    """The parsed manifest when every directory entry names a complete segment before it
    (`at`: the segments by offset)."""
    try:
        value = parse(manifest_declaration(data, seg.payload_offset, seg.payload_length), data, seg.payload_offset,
                      f"{seg.path}.payload", seg.payload_length)
    except FormatError:
        return None
    for e in value.segment_dir:
        target = at.get(e.offset)
        if target is None or target.offset >= seg.offset or target.header.segment_id != e.seg_id or \
                target.payload_length != e.payload_length or target.seg_type != int(e.seg_type):
            return None
    return value


def _concatenate(data, kept: list[Segment]) -> tuple[dict[int, int], bytearray]:
    moved, body = {}, bytearray()
    for s in kept:
        moved[s.offset] = len(body)
        body += data[s.offset:s.end]
    return moved, body


def _segment_bytes(header, payload: bytes) -> bytes:
    header.content_hash = hashes.crc32_rotated(payload)
    return build(segment_header, header, "segment_header") + payload


def _moved_directories(data, kept: list[Segment], moved: dict[int, int], body: bytearray,
                       out: RepairResult) -> bytearray:
    """Every kept manifest rewritten in place with its directory at the new offsets (same size)."""
    for s in kept:
        if s.seg_type != MANIFEST:
            continue
        try:
            decl = manifest_declaration(data, s.payload_offset, s.payload_length)
            value = parse(decl, data, s.payload_offset, f"{s.path}.payload", s.payload_length)
        except FormatError:
            continue
        if all(moved.get(e.offset, e.offset) == e.offset for e in value.segment_dir):
            continue
        for e in value.segment_dir:
            e.offset = moved.get(e.offset, e.offset)
        at = moved[s.offset]
        body[at:at + s.end - s.offset] = _segment_bytes(Container(s.header), build(decl, value, s.path))
        out.add(Action.REBUILT, "rvf.dir_entry_mismatch", f"manifest (epoch {value.epoch}) directory moved to the "
                "offsets the segments have once the dropped bytes are gone", f"{s.path}.payload.segment_dir",
                s.offset)
    return body


def _rebuilt_manifest(data, base, latest: Segment, kept: list[Segment], moved: dict[int, int], size: int,
                      out: RepairResult) -> bytes:
    """A new manifest: `base` (the latest good one) plus the VEC and JOURNAL segments after it."""
    from .writer import StoreWriter, _plain, new_file_id
    after = [s for s in kept if s.offset >= latest.offset]
    directory = [_plain(e) for e in base.segment_dir] + [
        Container(seg_id=s.header.segment_id, offset=s.offset, payload_length=s.payload_length, seg_type=s.seg_type)
        for s in after]
    for e in directory:
        e.offset = moved.get(e.offset, e.offset)
    identity = base.get("file_identity")
    if identity is None:
        identity = Container(file_id=new_file_id(), parent_id=bytes(16), parent_hash=bytes(32), lineage_depth=0)
        out.add(Action.REBUILT, "rvf.identity_truncated", "the latest good manifest has no FileIdentity: a new "
                "root identity", f"{latest.path}.payload", latest.payload_offset)
    loaded, deleted = _ids(data, base, [s for s in kept if s.seg_type == VEC and s.offset < latest.offset]), \
        set(base.get("deleted_ids", []))
    ops = 0
    for s in after:
        if s.seg_type == VEC:
            loaded |= _vec_ids(s, base.dimension)
            ops += 1
        elif s.seg_type == JOURNAL:
            journal = s.decoded if s.decoded is not None else \
                parse(journal_payload, data, s.payload_offset, f"{s.path}.payload", s.payload_length)
            deleted |= {int(e.vector_id) for e in journal.entries if e.entry_type == JOURNAL_DELETE_VECTOR} & loaded
            ops += 1
    writer = StoreWriter(dimension=base.dimension, metric=str(base.metric), profile_id=base.profile_id,
                         identity=_plain(identity), size=size, epoch=base.epoch + ops,
                         directory=ListContainer(directory), loaded_ids=loaded, deleted_ids=deleted)
    out.add(Action.REBUILT, "rvf.manifest", f"manifest at epoch {writer.epoch} over {len(directory)} segments "
            f"({len(loaded)} vectors, {len(deleted)} deleted)", "manifest", size)
    return writer.manifest()


def _vec_ids(seg: Segment, dimension: int) -> set[int]:
    """Ids of a VEC segment whose payload decodes with every record (of the store's dimension)."""
    payload = seg.decoded
    if payload is None or payload.dimension != dimension:
        return set()
    return set(payload.records["id"].tolist())


def _ids(data, base, vecs: list[Segment]) -> set[int]:
    """Ids of the VEC segments the latest good manifest lists."""
    listed = {e.offset for e in base.segment_dir if int(e.seg_type) == VEC}
    out: set[int] = set()
    for s in vecs:
        if s.offset in listed:
            out |= _vec_ids(s, base.dimension)
    return out
