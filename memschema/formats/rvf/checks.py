"""What a validator reports for an RVF file (RVF.md 7), each finding with a stable `rvf.*` code,
the field path the layout gives it (`segments[3].payload.segment_dir[2].offset`) and the absolute
byte offset (computed from the declarations with `locate`).  Work is linear in the segments: the
latest directory is compared with the segments as numpy columns, earlier manifests are only read
for whether they decode."""

from __future__ import annotations

import numpy as np

from ...errors import Finding, FormatError, error, warning
from ...parsing import locate, parse
from . import hashes
from .cow import cow_findings
from .document import RvfDocument, Segment
from .layouts import SPEC, WASM
from .meta_seg import is_meta_v1, meta_findings
from .runtime_payloads import (
    IDENTITY_MARKER,
    VEC_HEAD_SIZE,
    dir_entry,
    manifest_payload,
    manifest_payload_short,
    vec_head,
    vec_payload_size,
    witness_payload,
)
from .segment import HEADER_SIZE, KNOWN_FLAGS_MASK, RUNTIME_MAX_PAYLOAD, SEG_TYPE_NAMES, SEG_TYPES, segment_header
from .spec import LEVEL0_SIZE, LEVEL1_TAGS, ROOT_CHECKSUM_AT, ROOT_MANIFEST_MAGIC, level0_root, level1_record
from .spec_payloads import spec_findings
from .vectors import directory
from .wasm_export import wasm_findings

EMBEDDED_HASHES = {"kernel": ("image", "image_hash"), "ebpf": ("bytecode", "program_hash"),
                   "membership": ("filter", "filter_hash")}
DECODED_TYPES = ("journal", "kernel", "ebpf", "membership", "cow_map")


def _at(seg: Segment, field: str) -> int:
    return seg.offset + locate(segment_header, seg.header, field)


def check_document(doc: RvfDocument, strict: bool = False) -> list[Finding]:
    out: list[Finding] = []
    out += _tail(doc)
    flagged = _flagged_headers(doc)
    for seg in doc.segments:
        out += _header(doc, seg) if flagged[seg.index] else _hash(doc, seg)
    out += _duplicates(doc)
    out += _manifests(doc)
    out += _payloads(doc)
    out += _witnesses(doc)
    if doc.dialect != SPEC:
        out += doc.index_findings()
        out += cow_findings(doc)
    return out


def _tail(doc: RvfDocument) -> list[Finding]:
    t = doc.tail
    if t is None:
        return []
    path = f"segments[{len(doc.segments)}]"
    if t.reason == "bad_magic":
        return [error("rvf.bad_magic", f"segment magic: {t.error.message} (53 46 56 52 'RVFS'); {t.length} bytes "
                      "not decoded", t.error.path, t.error.offset)]
    if t.reason == "bad_version":
        return [error("rvf.unsupported_version", f"segment version: {t.error.message}; {t.length} bytes not "
                      "decoded", t.error.path, t.error.offset)]
    if t.reason == "past_eof":
        return [error("rvf.payload_past_eof", f"payload_length {t.header.payload_length} runs past the end of the "
                      f"file ({t.length - HEADER_SIZE} bytes follow the header) while complete segment headers "
                      "follow: corruption, not a torn append",
                      f"{path}.header.payload_length",
                      t.offset + locate(segment_header, t.header, "payload_length"))]
    what = "segment header" if t.reason == "torn_header" else "payload"
    return [warning("rvf.torn_tail", f"the file ends inside a {what} ({t.length} bytes): a torn append; "
                    "the state is the last complete manifest", path, t.offset)]


def _flagged_headers(doc: RvfDocument) -> np.ndarray:
    """Per segment: may a rule of `_header` other than the hash fire?  Read off the header table
    for all segments at once, so that only those segments' headers are parsed."""
    t = doc.headers
    if doc.dialect == SPEC:      # its padding rule reads the segment record itself
        return np.ones(len(t), bool)
    known = np.isin(t["seg_type"], list(SEG_TYPE_NAMES)) & (t["seg_type"] != SEG_TYPES["invalid"])
    return ((t["flags"] != 0) | (t["reserved_0"] != 0) | (t["reserved_1"] != 0) | (t["alignment_pad"] != 0)
            | ~known | (t["compression"] != 0) | (t["payload_length"] > RUNTIME_MAX_PAYLOAD))


def _header(doc: RvfDocument, seg: Segment) -> list[Finding]:
    h, out, path = seg.header, [], f"{seg.path}.header"
    if h.flags & ~KNOWN_FLAGS_MASK:
        out.append(warning("rvf.unknown_flags", f"reserved flag bits 0x{h.flags & ~KNOWN_FLAGS_MASK:04x} set",
                           f"{path}.flags", _at(seg, "flags")))
    if doc.dialect != SPEC and h.flags:
        out.append(warning("rvf.runtime_flags", f"flags 0x{h.flags:04x}: the runtime writes 0 and ignores them",
                           f"{path}.flags", _at(seg, "flags")))
    for name in ("reserved_0", "reserved_1"):
        if h[name]:
            out.append(warning("rvf.nonzero_reserved", f"{name} = {h[name]}", f"{path}.{name}", _at(seg, name)))
    if doc.dialect != SPEC and h.alignment_pad:
        out.append(warning("rvf.nonzero_reserved", f"alignment_pad = {h.alignment_pad} in a packed dialect",
                           f"{path}.alignment_pad", _at(seg, "alignment_pad")))
    if doc.dialect == SPEC and any(bytes(seg.value.padding)):
        out.append(warning("rvf.nonzero_padding", "alignment padding is not zero", f"{seg.path}.padding",
                           seg.offset + locate(doc.parsed.layout.section("segments").decl, seg.value, "padding")))
    if int(h.seg_type) not in SEG_TYPE_NAMES or int(h.seg_type) == SEG_TYPES["invalid"]:
        out.append(warning("rvf.unknown_seg_type", f"segment type 0x{int(h.seg_type):02x} is unknown "
                           "(kept byte for byte)", f"{path}.seg_type", _at(seg, "seg_type")))
    if h.compression:
        out.append(warning("rvf.compressed", f"compression {h.compression}: payload not decoded",
                           f"{path}.compression", _at(seg, "compression")))
    if doc.dialect != SPEC and seg.payload_length > RUNTIME_MAX_PAYLOAD:
        out.append(warning("rvf.payload_too_large", "the runtime reader refuses payloads over 256 MiB",
                           f"{path}.payload_length", _at(seg, "payload_length")))
    return out + _hash(doc, seg)


def _hash(doc: RvfDocument, seg: Segment) -> list[Finding]:
    """The content_hash rules (every segment); its header is parsed only for a finding."""
    out, path = [], f"{seg.path}.header"
    ok, algorithm = doc.hash_results[seg.index], doc.hash_algorithms[seg.index]
    if ok is True:
        return out
    algo = doc.stored_hash(seg)[1]
    if ok is False:
        other = doc.hash_matching(seg)
        hint = f"; it is the {other} of the payload, which checksum_algo {algo} does not declare" \
            if other else ""
        out.append(error("rvf.hash_mismatch", f"content_hash does not match the payload under {algorithm}, "
                         f"the algorithm checksum_algo {algo} declares in the {doc.dialect} dialect"
                         f"{hint}", f"{path}.content_hash", _at(seg, "content_hash")))
    elif algorithm == "unknown":
        out.append(warning("rvf.checksum_algo_unknown", f"checksum_algo {algo} names no known hash: "
                           "the payload cannot be verified", f"{path}.checksum_algo", _at(seg, "checksum_algo")))
    elif ok is None and doc.dialect != WASM:
        out.append(warning("rvf.hash_unset", "content_hash is all zero: the payload is not protected",
                           f"{path}.content_hash", _at(seg, "content_hash")))
    return out


def _duplicates(doc: RvfDocument) -> list[Finding]:
    seen: dict[int, Segment] = {}
    out = []
    for seg, sid in zip(doc.segments, doc.headers["segment_id"].tolist()):
        if sid in seen:
            out.append(warning("rvf.duplicate_segment_id", f"segment_id {sid} already used at offset "
                               f"{seen[sid].offset} (normal after a reopen)", f"{seg.path}.header.segment_id",
                               _at(seg, "segment_id")))
        else:
            seen[sid] = seg
    return out


def _manifests(doc: RvfDocument) -> list[Finding]:
    out: list[Finding] = []
    manifests = doc.manifests
    if doc.latest is None:
        # a spec segment stream without a manifest is a codec output, not a store
        severity = warning if doc.dialect == SPEC and not manifests else error
        out.append(severity("rvf.no_manifest", "no complete MANIFEST segment parses: the store has no state",
                            "", len(doc.data) if not manifests else manifests[-1].segment.offset))
    for m in manifests:
        if m.error is not None:
            severity = error if m is manifests[-1] else warning
            out.append(severity("rvf.manifest_unparseable", f"manifest payload does not decode: {m.error.message}"
                                + (" (the latest valid state is an older manifest)" if doc.latest else ""),
                                m.error.path, m.error.offset))
    latest = doc.latest
    if latest is None:
        return out
    if doc.dialect == SPEC:
        return out + _spec_manifest(doc, latest)
    if doc.dialect != WASM:
        out += _runtime_manifest(latest)
    out += _directory(doc, latest)
    if doc.records_loaded != latest.value.total_vectors:
        out.append(warning("rvf.total_vectors_mismatch", f"total_vectors {latest.value.total_vectors} but the "
                           f"listed VEC segments hold {doc.records_loaded} distinct ids",
                           f"{latest.segment.path}.payload.total_vectors",
                           latest.segment.payload_offset + locate(manifest_payload, latest.value, "total_vectors")))
    return out


def _runtime_manifest(latest) -> list[Finding]:
    out: list[Finding] = []
    seg, v = latest.segment, latest.value
    base, path = seg.payload_offset, f"{seg.path}.payload"
    if any(bytes(v.reserved)):
        out.append(warning("rvf.nonzero_reserved", "manifest reserved bytes are not zero", f"{path}.reserved",
                           base + locate(manifest_payload, v, "reserved")))
    if "del_count" not in v:
        out.append(warning("rvf.deletions_missing", "the manifest ends after its segment directory: no "
                           "del_count, no deleted ids, no identity (upstream reads no deletions)",
                           f"{path}.del_count", base + locate(manifest_payload_short, v, "trailing")))
    if v.get("identity_marker") is not None:
        if v.identity_marker != IDENTITY_MARKER:   # located only when reported: a clean file sizes nothing
            out.append(warning("rvf.manifest_trailing_bytes", "bytes after the deleted ids are not an IDIF "
                               "identity trailer (ignored upstream, kept)", f"{path}.identity_marker",
                               base + locate(manifest_payload, v, "identity_marker")))
        elif v.file_identity is None:
            out.append(warning("rvf.identity_truncated", f"IDIF marker followed by {len(v.trailing)} bytes, fewer "
                               "than a FileIdentity: identity unknown", f"{path}.file_identity",
                               base + locate(manifest_payload, v, "trailing")))
        elif v.trailing:
            out.append(warning("rvf.manifest_trailing_bytes", f"{len(v.trailing)} bytes after the identity "
                               "(ignored upstream, kept)", f"{path}.trailing",
                               base + locate(manifest_payload, v, "trailing")))
    ids = np.asarray(v.get("deleted_ids", []), dtype=np.uint64)
    if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
        out.append(warning("rvf.deleted_ids_order", "deleted_ids are not ascending", f"{path}.deleted_ids",
                           base + locate(manifest_payload, v, "deleted_ids")))
    return out


def _directory(doc: RvfDocument, latest) -> list[Finding]:
    """Each entry of the latest directory must name a segment header before the manifest, with the
    same id, length and type (compared as columns: linear in the entries)."""
    seg, v = latest.segment, latest.value
    entries = directory(v)
    cols = doc.segment_columns
    pos = np.searchsorted(cols["offset"], entries["offset"])
    found = pos < len(cols["offset"])
    found[found] &= cols["offset"][pos[found]] == entries["offset"][found]
    target = np.where(found, pos, 0)
    problems: dict[int, list[tuple[str, str]]] = {}
    for i in np.flatnonzero(~found).tolist():
        problems.setdefault(i, []).append(("offset", f"no segment header at offset {int(entries['offset'][i])}"))
    for name, column in (("seg_id", "segment_id"), ("payload_length", "payload_length"), ("seg_type", "seg_type")):
        bad = np.flatnonzero(found & (cols[column][target] != entries[name].astype(np.uint64)))
        for i in bad.tolist():
            problems.setdefault(i, []).append((name, f"{name} {int(entries[name][i])} but the segment at "
                                               f"{int(entries['offset'][i])} has {int(cols[column][target[i]])}"))
    for i in np.flatnonzero(found & (entries["offset"] >= seg.offset)).tolist():
        problems.setdefault(i, []).append(("offset", f"entry points at offset {int(entries['offset'][i])}, not "
                                           "before the manifest"))
    decl = doc.payload_declaration(seg) or manifest_payload
    out = []
    for i in sorted(problems):
        at = seg.payload_offset + locate(decl, v, f"segment_dir[{i}]")
        for name, message in problems[i]:
            out.append(error("rvf.dir_entry_mismatch", message, f"{seg.path}.payload.segment_dir[{i}].{name}",
                             at + locate(dir_entry, entries[i], name)))
    return out


def _spec_manifest(doc: RvfDocument, latest) -> list[Finding]:
    out = []
    seg, root, root_at = latest.segment, latest.root, latest.root_offset
    out += root_findings(root, bytes(doc.data[root_at:root_at + LEVEL0_SIZE]), f"{seg.path}.payload.level0_root",
                         root_at)
    for i, (pos, rec) in enumerate(latest.records):
        path = f"{seg.path}.payload.level1.records[{i}]"
        if rec.tag not in LEVEL1_TAGS:
            # upstream's Level-1 reader rejects the manifest: its reader cannot get the state
            out.append(error("rvf.level1_tag_unknown", f"Level-1 tag {rec.tag} is not defined (upstream "
                             "rejects the manifest)", f"{path}.tag", pos))
        if rec.pad or any(bytes(rec.align)):
            out.append(warning("rvf.nonzero_padding", "Level-1 record padding is not zero", f"{path}.pad",
                               pos + locate(level1_record, rec, "pad")))
    return out


def root_findings(root, raw: bytes, path: str, base: int) -> list[Finding]:
    """Level0Root checks: magic, CRC32C of the bytes before `root_checksum`, reserved zero,
    sig_length bound."""
    out = []
    if root.magic != ROOT_MANIFEST_MAGIC:
        out.append(error("rvf.bad_magic", f"root magic 0x{root.magic:08x}, expected 0x{ROOT_MANIFEST_MAGIC:08x}",
                         f"{path}.magic", base))
    crc = hashes.crc32c(raw[:ROOT_CHECKSUM_AT])
    if crc != root.root_checksum:
        out.append(error("rvf.root_checksum", f"root_checksum 0x{root.root_checksum:08x}, CRC32C of "
                         f"0x000..0x{ROOT_CHECKSUM_AT - 1:03X} is 0x{crc:08x}", f"{path}.root_checksum",
                         base + ROOT_CHECKSUM_AT))
    if any(bytes(root.reserved)):
        out.append(warning("rvf.nonzero_reserved", "Level0Root reserved bytes are not zero", f"{path}.reserved",
                           base + locate(level0_root, root, "reserved")))
    if root.sig_length > len(root.signature_buf):
        out.append(error("rvf.bad_length", f"sig_length {root.sig_length} > {len(root.signature_buf)}",
                         f"{path}.sig_length", base + locate(level0_root, root, "sig_length")))
    return out


def _payloads(doc: RvfDocument) -> list[Finding]:
    """VEC sizes and dimensions; decodability and embedded hashes of the other runtime payloads."""
    if doc.dialect == SPEC:
        return spec_findings(doc)
    if doc.dialect == WASM:
        return wasm_findings(doc)
    out: list[Finding] = []
    for seg in doc.segments:
        name = seg.type_name
        if name == "vec":
            out += _vec(doc, seg)
        elif name == "meta" and is_meta_v1(doc.payload(seg)):
            out += meta_findings(doc.data, seg)
        elif name in DECODED_TYPES:
            v = seg.decoded
            if v is None:
                exc = _why_not(doc, seg)
                out.append(error("rvf.payload_unparseable", f"{name} payload does not decode: {exc.message}",
                                 exc.path, exc.offset))
            elif name in EMBEDDED_HASHES:
                out += _embedded(doc, seg, name, v)
    return out


def _why_not(doc: RvfDocument, seg: Segment) -> FormatError:
    """The error of a payload the layout kept as bytes, from its declaration."""
    try:
        parse(doc.payload_declaration(seg), doc.data, seg.payload_offset, f"{seg.path}.payload", seg.payload_length)
    except FormatError as exc:
        return exc
    return FormatError("the payload decodes here but not where the layout read it", f"{seg.path}.payload",
                       seg.payload_offset, "parse")


def _vec(doc: RvfDocument, seg: Segment) -> list[Finding]:
    """A VEC payload holds exactly its records: 6 + n·(8 + 4·dim) bytes (RVF.md 3.6)."""
    v, out = seg.decoded, []
    if v is None and seg.payload_length < VEC_HEAD_SIZE:
        return [error("rvf.vec_size", f"VEC payload of {seg.payload_length} bytes has no head",
                      f"{seg.path}.header.payload_length", _at(seg, "payload_length"))]
    head = v if v is not None else parse(vec_head, doc.data, seg.payload_offset, f"{seg.path}.payload")
    need = vec_payload_size(head.vector_count, head.dimension)
    if need != seg.payload_length:
        out.append(error("rvf.vec_size", f"VEC payload is {seg.payload_length} bytes, {VEC_HEAD_SIZE} + "
                         f"{head.vector_count}·(8 + 4·{head.dimension}) = {need}",
                         f"{seg.path}.header.payload_length", _at(seg, "payload_length")))
    if doc.dimension is not None and head.dimension != doc.dimension:
        out.append(error("rvf.vec_dimension", f"VEC dimension {head.dimension}, manifest says {doc.dimension}",
                         f"{seg.path}.payload.dimension",
                         seg.payload_offset + locate(vec_head, head, "dimension")))
    return out


def _embedded(doc: RvfDocument, seg: Segment, name: str, v) -> list[Finding]:
    body, field = EMBEDDED_HASHES[name]
    if hashes.fold32(v[body]) == bytes(v.header[field]):
        return []
    at = seg.payload_offset + locate(doc.payload_declaration(seg), v, f"header.{field}")
    return [error("rvf.embedded_hash_mismatch", f"{field} is not fold32 of the {body}",
                  f"{seg.path}.payload.header.{field}", at)]


def _witnesses(doc: RvfDocument) -> list[Finding]:
    out = []
    for w in doc.witnesses:
        if w["link"] == "unparseable":
            exc = w["error"]
            out.append(error("rvf.witness_unparseable", f"witness does not decode: {exc.message}",
                             exc.path, exc.offset))
        elif w["link"] == "broken":
            seg = doc.by_offset.get(w["offset"])
            if doc.dialect != SPEC and seg is not None:
                at = seg.payload_offset + locate(witness_payload, w["value"], "prev_hash")
                path = f"{seg.path}.payload.prev_hash"
            else:
                at, path = w["offset"], "witness_chain.prev_hash"
            out.append(error("rvf.witness_broken", "prev_hash is neither zero (genesis/restart) nor the hash "
                             "of the previous witness", path, at))
    return out
