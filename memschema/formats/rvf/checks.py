"""What a validator reports for an RVF file (RVF.md 7), each finding with a stable `rvf.*` code,
the field path and the absolute byte offset (computed from the declarations with `locate`)."""

from __future__ import annotations

from ...errors import Finding, FormatError, error, warning
from ...parsing import locate, parse
from . import hashes
from .cow import cow_findings
from .meta_seg import is_meta_v1, meta_findings
from .runtime import IDENTITY_MARKER, PAYLOADS, manifest_payload, manifest_payload_short, vec_head
from .segment import (
    HEADER_SIZE,
    KNOWN_FLAGS_MASK,
    RUNTIME_MAX_PAYLOAD,
    SEG_TYPE_NAMES,
    SEGMENT_MAGIC,
    SEGMENT_VERSION,
    segment_header,
)
from .spec import LEVEL0_SIZE, LEVEL1_TAGS, ROOT_MANIFEST_MAGIC, level0_root, level1_record
from .spec_payloads import spec_findings
from .store import SPEC, VEC_HEAD, WASM, RvfDocument, Segment
from .wasm_export import wasm_findings


def _at(seg: Segment, field: str) -> int:
    return seg.offset + locate(segment_header, seg.header, field)


def check_document(doc: RvfDocument, strict: bool = False) -> list[Finding]:
    out: list[Finding] = []
    out += _tail(doc)
    for seg in doc.segments:
        out += _header(doc, seg)
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
        return [error("rvf.bad_magic", f"expected segment magic 0x{SEGMENT_MAGIC:08x} (53 46 56 52), "
                      f"found 0x{t.header.magic:08x}; {t.length} bytes not decoded", f"{path}.magic", t.offset)]
    if t.reason == "bad_version":
        return [error("rvf.unsupported_version", f"segment version {t.header.version}, expected "
                      f"{SEGMENT_VERSION}; {t.length} bytes not decoded", f"{path}.version",
                      t.offset + locate(segment_header, t.header, "version"))]
    if t.reason == "past_eof":
        return [error("rvf.payload_past_eof", f"payload_length {t.header.payload_length} runs past the end "
                      f"of the file ({t.length - HEADER_SIZE} bytes follow the header) while complete "
                      "segment headers follow: corruption, not a torn append",
                      f"{path}.payload_length", t.offset + locate(segment_header, t.header, "payload_length"))]
    what = "segment header" if t.reason == "torn_header" else "payload"
    return [warning("rvf.torn_tail", f"the file ends inside a {what} ({t.length} bytes): a torn append; "
                    "the state is the last complete manifest", path, t.offset)]


def _header(doc: RvfDocument, seg: Segment) -> list[Finding]:
    h, out, path = seg.header, [], seg.path
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
    if doc.dialect == SPEC and seg.pad_length and any(bytes(doc.data[seg.end - seg.pad_length:seg.end])):
        out.append(warning("rvf.nonzero_padding", "alignment padding is not zero", f"{path}.padding",
                           seg.end - seg.pad_length))
    if int(h.seg_type) not in SEG_TYPE_NAMES or int(h.seg_type) == 0:
        out.append(warning("rvf.unknown_seg_type", f"segment type 0x{int(h.seg_type):02x} is unknown "
                           "(kept byte for byte)", f"{path}.seg_type", _at(seg, "seg_type")))
    if h.compression:
        out.append(warning("rvf.compressed", f"compression {h.compression}: payload not decoded",
                           f"{path}.compression", _at(seg, "compression")))
    if doc.dialect != SPEC and seg.payload_length > RUNTIME_MAX_PAYLOAD:
        out.append(warning("rvf.payload_too_large", "the runtime reader refuses payloads over 256 MiB",
                           f"{path}.payload_length", _at(seg, "payload_length")))
    ok = doc.hash_ok(seg)
    algorithm = doc.hash_algorithm(seg)
    if ok is False:
        other = doc.hash_matching(seg)
        hint = f"; it is the {other} of the payload, which checksum_algo {h.checksum_algo} does not declare" \
            if other else ""
        out.append(error("rvf.hash_mismatch", f"content_hash does not match the payload under {algorithm}, "
                         f"the algorithm checksum_algo {h.checksum_algo} declares in the {doc.dialect} dialect"
                         f"{hint}", f"{path}.content_hash", _at(seg, "content_hash")))
    elif algorithm == "unknown":
        out.append(warning("rvf.checksum_algo_unknown", f"checksum_algo {h.checksum_algo} names no known hash: "
                           "the payload cannot be verified", f"{path}.checksum_algo", _at(seg, "checksum_algo")))
    elif ok is None and doc.dialect != WASM:
        out.append(warning("rvf.hash_unset", "content_hash is all zero: the payload is not protected",
                           f"{path}.content_hash", _at(seg, "content_hash")))
    return out


def _duplicates(doc: RvfDocument) -> list[Finding]:
    seen: dict[int, Segment] = {}
    out = []
    for seg in doc.segments:
        sid = seg.header.segment_id
        if sid in seen:
            out.append(warning("rvf.duplicate_segment_id", f"segment_id {sid} already used at offset "
                               f"{seen[sid].offset} (normal after a reopen)", f"{seg.path}.segment_id",
                               _at(seg, "segment_id")))
        else:
            seen[sid] = seg
    return out


def _manifests(doc: RvfDocument) -> list[Finding]:
    out: list[Finding] = []
    if doc.latest is None:
        # a spec segment stream without a manifest is a codec output, not a store
        severity = warning if doc.dialect == SPEC and not doc.manifests else error
        out.append(severity("rvf.no_manifest", "no complete MANIFEST segment parses: the store has no state",
                         "", len(doc.data) if not doc.manifests else doc.manifests[-1].segment.offset))
    for m in doc.manifests:
        if m.error is not None:
            severity = error if m is doc.manifests[-1] else warning
            out.append(severity("rvf.manifest_unparseable", f"manifest payload does not decode: {m.error.message}"
                                + (" (the latest valid state is an older manifest)" if doc.latest else ""),
                                m.error.path, m.error.offset))
    latest = doc.latest
    if latest is None:
        return out
    if doc.dialect == SPEC:
        return out + _spec_manifest(doc, latest)
    seg, v = latest.segment, latest.value
    base = seg.payload_offset
    path = f"{seg.path}.manifest"
    if doc.dialect != WASM:
        if any(bytes(v.reserved)):
            out.append(warning("rvf.nonzero_reserved", "manifest reserved bytes are not zero",
                               f"{path}.reserved", base + locate(manifest_payload, v, "reserved")))
        if "del_count" not in v:
            out.append(warning("rvf.deletions_missing", "the manifest ends after its segment directory: no "
                               "del_count, no deleted ids, no identity (upstream reads no deletions)",
                               f"{path}.del_count", base + locate(manifest_payload_short, v, "trailing")))
        if v.get("identity_marker") is not None:
            at = base + locate(manifest_payload, v, "identity_marker")
            if v.identity_marker != IDENTITY_MARKER:
                out.append(warning("rvf.manifest_trailing_bytes", "bytes after the deleted ids are not an "
                                   "IDIF identity trailer (ignored upstream, kept)", f"{path}.identity_marker", at))
            elif v.file_identity is None:
                out.append(warning("rvf.identity_truncated", f"IDIF marker followed by {len(v.trailing)} "
                                   "bytes, fewer than the 68 of a FileIdentity: identity unknown",
                                   f"{path}.file_identity", base + locate(manifest_payload, v, "trailing")))
            elif v.trailing:
                out.append(warning("rvf.manifest_trailing_bytes", f"{len(v.trailing)} bytes after the identity "
                                   "(ignored upstream, kept)", f"{path}.trailing",
                                   base + locate(manifest_payload, v, "trailing")))
        ids = list(v.get("deleted_ids", []))
        if ids != sorted(ids):
            out.append(warning("rvf.deleted_ids_order", "deleted_ids are not ascending", f"{path}.deleted_ids",
                               base + locate(manifest_payload, v, "deleted_ids")))
    for i, entry in enumerate(v.segment_dir):
        out += _dir_entry(doc, latest, i, entry)
    if doc.records_loaded != v.total_vectors:
        decl = manifest_payload
        out.append(warning("rvf.total_vectors_mismatch", f"total_vectors {v.total_vectors} but the listed VEC "
                           f"segments hold {doc.records_loaded} distinct ids", f"{path}.total_vectors",
                           base + locate(decl, v, "total_vectors")))
    return out


def _dir_entry(doc: RvfDocument, latest, i: int, entry) -> list[Finding]:
    seg = latest.segment
    from .runtime import dir_entry, wasm_manifest_payload
    decl = wasm_manifest_payload if doc.dialect == WASM else manifest_payload
    at = seg.payload_offset + locate(decl, latest.value, f"segment_dir[{i}]")
    path = f"{seg.path}.manifest.segment_dir[{i}]"
    target = doc.by_offset.get(entry.offset)
    if target is None:
        return [error("rvf.dir_entry_mismatch", f"no segment header at offset {entry.offset}",
                      f"{path}.offset", at + locate(dir_entry, entry, "offset"))]
    problems = []
    for name, have in (("seg_id", target.header.segment_id), ("payload_length", target.payload_length),
                       ("seg_type", int(target.header.seg_type))):
        want = int(entry[name])
        if want != have:
            problems.append(error("rvf.dir_entry_mismatch", f"{name} {want} but the segment at "
                                  f"{entry.offset} has {have}", f"{path}.{name}",
                                  at + locate(dir_entry, entry, name)))
    if target.offset >= seg.offset:
        problems.append(error("rvf.dir_entry_mismatch", f"entry points at offset {entry.offset}, not before "
                              "the manifest", f"{path}.offset", at + locate(dir_entry, entry, "offset")))
    return problems


def _spec_manifest(doc: RvfDocument, latest) -> list[Finding]:
    out = []
    seg, root = latest.segment, latest.root
    root_at = seg.payload_offset + seg.payload_length - LEVEL0_SIZE
    path = f"{seg.path}.level0_root"
    out += root_findings(root, bytes(doc.data[root_at:root_at + LEVEL0_SIZE]), path, root_at)
    for pos, rec in latest.records:
        if rec.tag not in LEVEL1_TAGS:
            # upstream's Level-1 reader rejects the manifest: its reader cannot get the state
            out.append(error("rvf.level1_tag_unknown", f"Level-1 tag {rec.tag} is not defined (upstream "
                             "rejects the manifest)", f"{seg.path}.level1_records.tag", pos))
        if rec.pad or any(bytes(rec.align)):
            out.append(warning("rvf.nonzero_padding", "Level-1 record padding is not zero",
                               f"{seg.path}.level1_records.pad", pos + locate(level1_record, rec, "pad")))
    return out


def root_findings(root, raw: bytes, path: str, base: int) -> list[Finding]:
    """Level0Root checks: magic, CRC32C at 0xFFC, reserved zero, sig_length bound."""
    out = []
    if root.magic != ROOT_MANIFEST_MAGIC:
        out.append(error("rvf.bad_magic", f"root magic 0x{root.magic:08x}, expected 0x{ROOT_MANIFEST_MAGIC:08x}",
                         f"{path}.magic", base))
    crc = hashes.crc32c(raw[:0xFFC])
    if crc != root.root_checksum:
        out.append(error("rvf.root_checksum", f"root_checksum 0x{root.root_checksum:08x}, CRC32C of "
                         f"0x000..0xFFB is 0x{crc:08x}", f"{path}.root_checksum",
                         base + locate(level0_root, root, "root_checksum")))
    if any(bytes(root.reserved)):
        out.append(warning("rvf.nonzero_reserved", "Level0Root reserved bytes are not zero", f"{path}.reserved",
                           base + locate(level0_root, root, "reserved")))
    if root.sig_length > len(root.signature_buf):
        out.append(error("rvf.bad_length", f"sig_length {root.sig_length} > 3684", f"{path}.sig_length",
                         base + locate(level0_root, root, "sig_length")))
    return out


def _payloads(doc: RvfDocument) -> list[Finding]:
    """VEC sizes and dimensions; decodability and embedded hashes of the other runtime payloads."""
    out: list[Finding] = []
    if doc.dialect == SPEC:
        return spec_findings(doc)
    if doc.dialect == WASM:
        return wasm_findings(doc)
    dim = doc.dimension
    for seg in doc.segments:
        name = seg.type_name
        if name == "vec" and doc.dialect != WASM:
            if seg.payload_length < VEC_HEAD:
                out.append(error("rvf.vec_size", f"VEC payload of {seg.payload_length} bytes has no head",
                                 f"{seg.path}.payload_length", _at(seg, "payload_length")))
                continue
            head = parse(vec_head, doc.data, seg.payload_offset, f"{seg.path}.vec", VEC_HEAD)
            need = VEC_HEAD + head.vector_count * (8 + 4 * head.dimension)
            if need != seg.payload_length:
                out.append(error("rvf.vec_size", f"VEC payload is {seg.payload_length} bytes, 6 + "
                                 f"{head.vector_count}·(8 + 4·{head.dimension}) = {need}",
                                 f"{seg.path}.payload_length", _at(seg, "payload_length")))
            if dim is not None and head.dimension != dim:
                out.append(error("rvf.vec_dimension", f"VEC dimension {head.dimension}, manifest says {dim}",
                                 f"{seg.path}.vec.dimension", seg.payload_offset))
        elif name == "meta" and is_meta_v1(doc.payload(seg)):
            out += meta_findings(doc.data, seg)
        elif name in ("journal", "kernel", "ebpf", "membership", "cow_map") and doc.dialect != WASM:
            try:
                v = parse(PAYLOADS[name], doc.data, seg.payload_offset, f"{seg.path}.{name}", seg.payload_length)
            except FormatError as exc:
                out.append(error("rvf.payload_unparseable", f"{name} payload does not decode: {exc.message}",
                                 exc.path, exc.offset))
                continue
            out += _embedded(seg, name, v)
    return out


def _embedded(seg: Segment, name: str, v) -> list[Finding]:
    checks = {"kernel": ("image", "image_hash"), "ebpf": ("bytecode", "program_hash"),
              "membership": ("filter", "filter_hash")}
    if name not in checks:
        return []
    body, field = checks[name]
    if hashes.fold32(v[body]) == bytes(v.header[field]):
        return []
    at = seg.payload_offset + locate(PAYLOADS[name], v, f"header.{field}")
    return [error("rvf.embedded_hash_mismatch", f"{field} is not fold32 of the {body}",
                  f"{seg.path}.{name}.header.{field}", at)]


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
                from .runtime import witness_payload
                at = seg.payload_offset + locate(witness_payload, w["value"], "prev_hash")
                path = f"{seg.path}.witness.prev_hash"
            else:
                at, path = w["offset"], "witness_chain.prev_hash"
            out.append(error("rvf.witness_broken", "prev_hash is neither zero (genesis/restart) nor the hash "
                             "of the previous witness", path, at))
    return out
