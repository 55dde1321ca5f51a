"""`dump --json` of an RVF file and of single structures (`dump --as rvf.KIND`), by the keys of
`shared/corpus/rvf/README.md`: segments[] with hash_algorithm/hash_ok/decoded, latest_manifest,
vectors, witnesses with link, lineage."""

from __future__ import annotations

import numpy as np

from ...errors import FormatError
from ...jsonify import declared, to_jsonable
from ...parsing import parse
from . import hashes
from .document import RvfDocument, Segment
from .jsonview import text
from .layouts import SPEC, WASM
from .lineage import is_root, lineage_record
from .meta_seg import FOOTER, is_meta_v1, meta_body
from .runtime_payloads import PAYLOADS, PROFILES, dir_entry, vec_head, vec_payload_size, wasm_vec_head
from .segment import KNOWN_FLAGS_MASK, flag_names, seg_type_name, segment_header
from .spec import (
    DATA_TYPES,
    LEVEL0_SIZE,
    LEVEL1_TAGS,
    ROOT_CHECKSUM_AT,
    ROOT_MANIFEST_MAGIC,
    SIG_ALGOS,
    WITNESS_ENTRY_SIZE,
    signature_footer,
    spec_vec_payload,
)
from .spec_payloads import level1_values
from .wasm_export import wasm_record_count
from .witnesses import chain_links

PAYLOAD_HEX_LIMIT = 4096
ARCHES = {0: "x86_64", 1: "aarch64", 2: "riscv64", 0xFE: "universal", 0xFF: "unknown"}
KERNEL_TYPES = {0: "hermit", 1: "micro_linux", 2: "asterinas", 3: "wasi_preview2", 4: "custom",
                0xFE: "test_stub"}
TRANSPORTS = {0: "tcp_http", 1: "tcp_grpc", 2: "vsock", 3: "shared_mem", 0xFF: "none"}


def identity_json(identity) -> dict | None:
    return None if identity is None else to_jsonable(identity)


def _printable(raw: bytes) -> str | None:
    try:
        s = bytes(raw).decode("ascii")
    except UnicodeDecodeError:
        return None
    return s if s.isprintable() else None


def _decoded(doc: RvfDocument, seg: Segment):
    """The payload as its declaration reads it (FormatError when it does not decode)."""
    if seg.decoded is not None:
        return seg.decoded
    return parse(doc.payload_declaration(seg), doc.data, seg.payload_offset, f"{seg.path}.payload",
                 seg.payload_length)


def decoded_payload(doc: RvfDocument, seg: Segment) -> dict | None:
    """The payload's fields for types with a fixed layout; None for opaque/unknown types."""
    name = seg.type_name
    data, at, size = doc.data, seg.payload_offset, seg.payload_length
    try:
        if doc.dialect == SPEC:
            if name != "vec":
                return None
            v = parse(spec_vec_payload, data, at, f"{seg.path}.payload", size)
            return {"block_count": v.block_count, "entries": to_jsonable(v.entries),
                    "id_counts": [b.id_map.id_count for b in v.blocks]}
        if name == "manifest":
            m = doc.manifest(seg)
            if m.error is not None:
                return {"error": str(m.error)}
            v = m.value
            out = {k: int(v[k]) for k in ("epoch", "dimension", "total_vectors", "seg_count", "profile_id")}
            if doc.dialect != WASM:
                out.update(metric=str(v.metric), del_count=v.get("del_count"),
                           has_file_identity=v.get("file_identity") is not None)
            return out
        if name == "vec":
            head_decl = wasm_vec_head if doc.dialect == WASM else vec_head
            head = seg.decoded if seg.decoded is not None else parse(head_decl, data, at, f"{seg.path}.payload", size)
            if doc.dialect == WASM:
                records = wasm_record_count(data, at, size)
                return {"dimension": head.dimension, "vector_count": head.vector_count, "records": records,
                        "size_ok": records == head.vector_count}
            need = vec_payload_size(head.vector_count, head.dimension)
            return {"dimension": head.dimension, "vector_count": head.vector_count, "size_ok": need == size}
        if name == "journal":
            return declared(PAYLOADS["journal"], _decoded(doc, seg))
        if name == "witness":
            w = next((w for w in doc.witnesses if w["offset"] == seg.offset), None)
            if w is None or "error" in w:
                return {"error": str(w["error"]) if w else "not decoded"}
            return {k: w[k] for k in ("witness_type", "timestamp_ns", "action", "prev_hash", "link")}
        if name == "meta" and is_meta_v1(doc.payload(seg)):
            body = parse(meta_body, data, at, f"{seg.path}.payload", max(size - FOOTER, 0))
            return {"encoding": "meta_v1"} | to_jsonable(body)
        if name == "index" and seg.offset in doc.indexes:
            idx = doc.indexes[seg.offset]
            out = idx.summary() if idx.header is not None and idx.trailer is not None else {"usable": False}
            return out | {"findings": [f.code for f in idx.findings]}
        if name in ("kernel", "ebpf", "cow_map", "membership"):
            v = _decoded(doc, seg)
            out = declared(PAYLOADS[name].header, v.header)
            if name == "kernel":
                out.update(arch_name=ARCHES.get(v.header.arch), kernel_type_name=KERNEL_TYPES.get(
                    v.header.kernel_type), api_transport_name=TRANSPORTS.get(v.header.api_transport))
                ascii_image = _printable(v.image)
                if ascii_image is not None:
                    out["image_ascii"] = ascii_image
                out.update(cmdline=text(v.cmdline), image_hash_ok=hashes.fold32(v.image) == bytes(
                    v.header.image_hash), layout="header(128) + image + cmdline (cmdline_offset field says "
                    f"{v.header.cmdline_offset})", trailing=bytes(v.trailing).hex())
            elif name == "ebpf":
                out.update(bytecode=bytes(v.bytecode).hex(), btf=bytes(v.btf).hex(),
                           program_hash_ok=hashes.fold32(v.bytecode) == bytes(v.header.program_hash),
                           trailing=bytes(v.trailing).hex())
            elif name == "membership":
                out.update(filter_hash_ok=hashes.fold32(v.filter) == bytes(v.header.filter_hash),
                           filter_size_ok=len(v.filter) == v.header.filter_size)
            else:
                out["body_length"] = len(v.body)
            return out
    except FormatError as exc:
        return {"error": str(exc)}
    return None


def payload_json(doc: RvfDocument, seg: Segment):
    """Every declared field of the payload as the layout decoded it; its bytes as hex otherwise."""
    decl = doc.payload_declaration(seg)
    if decl is not None and seg.decoded is not None:
        return declared(decl, seg.decoded)
    return to_jsonable(seg.payload_value)


def segment_json(doc: RvfDocument, seg: Segment) -> dict:
    """The segment's declared fields (`header`, `payload`, and in the spec dialect `footer`,
    `padding`), the header fields again at the top level with the derived keys of the corpus
    (`offset`, `seg_type_name`, `hash_algorithm`, `hash_ok`, `decoded`, ...)."""
    h = seg.header
    header = declared(segment_header, h)
    out = {"offset": seg.offset, "seg_type": header["seg_type"], "seg_type_name": seg.type_name}
    out.update({k: v for k, v in header.items() if k != "seg_type"})
    out["flag_names"] = flag_names(h.flags)
    out["unknown_flags"] = h.flags & ~KNOWN_FLAGS_MASK
    out["hash_algorithm"] = doc.hash_algorithm(seg)
    out["hash_ok"] = doc.hash_ok(seg)
    out["header"] = header
    out["payload"] = payload_json(doc, seg)
    if doc.dialect == SPEC:
        pad = bytes(seg.value.padding)
        out["padding"] = pad.hex()
        out["padding_zero"] = not any(pad)
        out["footer"] = None if seg.footer is None else declared(signature_footer, seg.footer)
    decoded = decoded_payload(doc, seg)
    if decoded is not None:
        out["decoded"] = decoded
    elif seg.payload_length <= PAYLOAD_HEX_LIMIT:
        out["payload_hex"] = bytes(doc.payload(seg)).hex()
    return out


def _segment_dir_json(entries) -> list[dict]:
    out = declared(dir_entry, entries) if isinstance(entries, np.ndarray) else [declared(dir_entry, e) for e in entries]
    for item, e in zip(out, entries):
        item["seg_type_name"] = seg_type_name(e["seg_type"])
    return out


def manifest_json(doc: RvfDocument) -> dict | None:
    m = doc.latest
    if m is None:
        return None
    out = {"offset": m.segment.offset, "segment_id": m.segment.header.segment_id}
    if doc.dialect == SPEC:
        out["level0_root"] = level0_root_json(m.root)
        values = level1_values(m)
        out["level1_records"] = [level1_json(pos, rec, v["value"]) for (pos, rec), v in zip(m.records, values)]
        return out
    v = m.value
    body = declared(doc.payload_declaration(m.segment), v)
    body["segment_dir"] = _segment_dir_json(v.segment_dir)
    if doc.dialect != WASM:
        body["metric"] = str(v.metric)
        body["file_identity"] = identity_json(v.get("file_identity"))
        body["deletion_section"] = "del_count" in v
        body["profile_name"] = PROFILES.get(v.profile_id)
    out.update(body)
    return out


def level1_json(pos: int, rec, value=None) -> dict:
    out = {"offset": pos}
    out.update(to_jsonable(rec))
    out["tag_name"] = LEVEL1_TAGS.get(rec.tag)
    if value is not None:
        out["decoded"] = to_jsonable(value)
    return out


def level0_root_json(root, raw: bytes | None = None) -> dict:
    """Level0Root fields plus `signature`, zero checks, `magic_bytes`, `root_checksum_ok`."""
    out = to_jsonable(root)
    used = min(root.sig_length, len(root.signature_buf))
    out["signature"] = bytes(root.signature_buf[:used]).hex()
    out["signature_buf_rest_zero"] = not any(bytes(root.signature_buf[used:]))
    out["reserved_all_zero"] = not any(bytes(root.reserved))
    out["magic_bytes"] = root.magic.to_bytes(4, "little").hex()
    out["magic_ok"] = root.magic == ROOT_MANIFEST_MAGIC
    out["base_dtype_name"] = DATA_TYPES.get(root.base_dtype)
    out["sig_algo_name"] = SIG_ALGOS.get(root.sig_algo)
    if raw is not None:
        out["root_checksum_ok"] = hashes.crc32c(raw[:ROOT_CHECKSUM_AT]) == root.root_checksum
    return out


def document_json(doc: RvfDocument) -> dict:
    out: dict = {"format": "rvf", "dialect": doc.dialect}
    if doc.dialect == SPEC:
        out["kind"] = "segments"
    out["segments"] = [segment_json(doc, s) for s in doc.segments]
    if doc.tail is not None:
        out["tail"] = {"offset": doc.tail.offset, "length": doc.tail.length, "reason": doc.tail.reason}
    out["latest_manifest"] = manifest_json(doc)
    if doc.latest is not None and doc.dialect == SPEC:
        at = doc.latest.root_offset
        out["latest_manifest"]["level0_root"] = level0_root_json(doc.latest.root, bytes(doc.data[at:at + LEVEL0_SIZE]))
    out["latest_manifest_is_last_segment"] = (doc.latest is not None and doc.segments[-1] is doc.latest.segment)
    if doc.dialect != SPEC or any(s.type_name == "vec" for s in doc.segments):
        order = np.argsort(doc.ids, kind="stable")
        out["vectors"] = {str(i): row for i, row in zip(doc.ids[order].tolist(), doc.matrix[order].tolist())}
        out["live_vector_count"] = len(doc.ids)
        out["epoch"] = doc.epoch
        out["metric"] = doc.metric
    if doc.indexes:
        out["index"] = doc.index.summary() if doc.index is not None else None
    out["witness_chain_ok"] = doc.witness_chain_ok
    out["witnesses"] = [{k: v for k, v in w.items() if k not in ("value", "error")}
                        | ({"error": str(w["error"])} if "error" in w else {}) for w in doc.witnesses]
    counts: dict[int, int] = {}
    for s in doc.segments:
        counts[s.header.segment_id] = counts.get(s.header.segment_id, 0) + 1
    out["duplicate_segment_ids"] = sorted(k for k, n in counts.items() if n > 1)
    ident = doc.identity
    out["lineage"] = {"is_root": True if ident is None else is_root(ident),
                      "file_identity": identity_json(ident), "derivation_type_recorded": False}
    return out


# --- single structures (`dump --as rvf.KIND`) -----------------------------------------------------

def dump_structure(kind: str, value, data) -> dict:
    if kind == "level0_root":
        return {"dialect": "spec", kind: level0_root_json(value, bytes(data[:LEVEL0_SIZE]))}
    if kind == "lineage_record":
        out = to_jsonable(value)
        used = min(value.description_len, len(value.description))
        out["description"] = text(value.description[:used])
        out["description_bytes"] = bytes(value.description).hex()
        out["description_padding_zero"] = not any(bytes(value.description[used:]))
        out["pad_zero"] = not any(bytes(value._pad))
        raw = bytes(data[:lineage_record.sizeof()])
        return {"dialect": "spec", kind: out, "witness_action_hash": hashes.shake256(raw, 32).hex()}
    if kind == "witness_chain":
        entries = chain_links(value, 0)
        trailing = len(data) - len(value) * WITNESS_ENTRY_SIZE
        return {"dialect": "spec", kind: entries, "witness_chain_ok": all(e["prev_hash_ok"] for e in entries)
                and trailing == 0, "trailing_bytes": trailing}
    if kind in ("manifest_payload", "wasm_manifest_payload"):
        out = to_jsonable(value)
        out["segment_dir"] = _segment_dir_json(value.segment_dir)
        if "metric" in value:
            out["metric"] = str(value.metric)
        dialect = "wasm_export" if kind.startswith("wasm") else "runtime"
        return {"dialect": dialect, kind: out}
    if kind in ("vec_payload", "wasm_vec_payload"):
        out = {"dimension": value.dimension, "vector_count": value.vector_count,
               "vectors": {str(r.id): [float(x) for x in r.data] for r in value.records},
               "trailing": bytes(value.trailing).hex()}
        dialect = "wasm_export" if kind.startswith("wasm") else "runtime"
        return {"dialect": dialect, kind: out}
    if kind == "segment_header":
        out = to_jsonable(value)
        out["seg_type_name"] = seg_type_name(value.seg_type)
        out["flag_names"] = flag_names(value.flags)
        return {kind: out}
    out = to_jsonable(value)
    if kind == "spec_segment":
        return {"dialect": "spec", kind: out}
    return {kind: out}
