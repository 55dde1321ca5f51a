"""RVF (RuVector Format) `.rvf` vector stores: the runtime dialect every real tool writes
(rvf-runtime RvfStore), the spec dialect of the upstream codecs, and the wasm_export and ruvbot
oddities (RVF.md 1).  Declarations: `segment`, `runtime_payloads`, `spec`, `lineage`, `index_seg`,
`meta_seg`, and the whole files per dialect in `layouts`; detection: `detect`; the document:
`document` (+ `vectors`, `witnesses`, `index_access`, `cow`); checks: `checks`; JSON: `jsonout`;
writers: `writer`, `spec_build`, `wasm_export`; `lineage_check`, `repair`; `strategies` for
property tests."""

from __future__ import annotations

from ...registry import Detection, Format, register
from . import index_seg, lineage, lockfile, meta_seg, runtime_payloads, segment, spec
from .detect import detect_dialect
from .document import load_rvf
from .layouts import DIALECTS, LAYOUTS, SPEC

DECLARATIONS = {
    "segment_header": segment.segment_header,
    "file_identity": lineage.file_identity,
    "lineage_record": lineage.lineage_record,
    "dir_entry": runtime_payloads.dir_entry,
    "manifest_payload": runtime_payloads.manifest_payload,
    "manifest_payload_short": runtime_payloads.manifest_payload_short,
    "vec_payload": runtime_payloads.vec_payload,
    "journal_entry": runtime_payloads.journal_entry,
    "journal_payload": runtime_payloads.journal_payload,
    "witness_payload": runtime_payloads.witness_payload,
    "kernel_header": runtime_payloads.kernel_header,
    "kernel_payload": runtime_payloads.kernel_payload,
    "ebpf_header": runtime_payloads.ebpf_header,
    "ebpf_payload": runtime_payloads.ebpf_payload,
    "cow_map_header": runtime_payloads.cow_map_header,
    "cow_map_body": runtime_payloads.cow_map_body,
    "cow_map_entry": runtime_payloads.cow_map_entry,
    "cow_map_payload": runtime_payloads.cow_map_payload,
    "membership_header": runtime_payloads.membership_header,
    "membership_payload": runtime_payloads.membership_payload,
    "wasm_vec_payload": runtime_payloads.wasm_vec_payload,
    "wasm_manifest_payload": runtime_payloads.wasm_manifest_payload,
    "index_codec_header": index_seg.index_codec_header,
    "index_restart_block": index_seg.index_restart_block,
    "index_node": index_seg.index_node,
    "index_layer": index_seg.index_layer,
    "index_trailer": index_seg.index_trailer,
    "index_trailer_end": index_seg.index_trailer_end,
    "index_payload": index_seg.index_payload,
    "meta_header": meta_seg.meta_header,
    "meta_schema_entry": meta_seg.meta_schema_entry,
    "meta_file_entry": meta_seg.meta_file_entry,
    "meta_record": meta_seg.meta_record,
    "meta_value": meta_seg.meta_value,
    "meta_body": meta_seg.meta_body,
    "meta_footer": meta_seg.meta_footer,
    "spec_segment": spec.spec_segment,
    "signature_footer": spec.signature_footer,
    "level0_root": spec.level0_root,
    "level1_record": spec.level1_record,
    "spec_dir_entry": spec.spec_dir_entry,
    "overlay_chain": spec.overlay_chain,
    "witness_entry": spec.witness_entry,
    "witness_chain": spec.witness_chain,
    "spec_vec_block_entry": spec.spec_vec_block_entry,
    "spec_vec_payload": spec.spec_vec_payload,
    "spec_manifest_payload": spec.spec_manifest_payload,
    "lock_record": lockfile.lock_record,
}


class Rvf(Format):
    name = "rvf"
    title = "RVF (RuVector Format, .rvf)"
    variants = DIALECTS
    layouts = LAYOUTS
    extensions = (".rvf", ".rvdna", ".rvtext", ".rvgraph", ".rvvis")
    priority = 40
    declarations = DECLARATIONS
    lock = lockfile.WRITER_LOCK
    load_options = {"parent": "the parent store of a COW branch child (default: the file its COW_MAP names, "
                              "relative to the child)"}

    def detect(self, data) -> Detection | None:
        found = detect_dialect(data)
        if found is None:
            return None
        return Detection("rvf", found[0], found[1])

    def load(self, data, detection: Detection, *, name: str = "", parent=None):
        return load_rvf(data, detection, name, parent)

    def dump_as(self, decl_name: str, value, data) -> dict:
        if decl_name == "lock_record":
            return {decl_name: lockfile.lock_record_json(value, data)}
        from .jsonout import dump_structure
        return dump_structure(decl_name, value, data)

    def repair(self, data, detection: Detection):
        from .repair import repair_rvf
        return repair_rvf(data, detection)

    def add_commands(self, subparsers) -> None:
        from .lineage_check import add_lineage_command
        add_lineage_command(subparsers)

    def tables(self, doc) -> dict:
        """`memschema export`: segment headers (with payload placement), live vectors, witnesses."""
        from ...export import Records
        segs = doc.segments
        witnesses = doc.witnesses
        return {
            "segments": Records(DECLARATIONS["segment_header"], [s.header for s in segs], {
                "offset": [s.offset for s in segs], "type_name": [s.type_name for s in segs],
                "payload_offset": [s.payload_offset for s in segs]}),
            "vectors": {"id": doc.ids.tolist(), "vector": list(doc.matrix)},
            "witnesses": {k: [w.get(k) for w in witnesses] for k in
                          ("offset", "segment_id", "witness_type", "timestamp_ns", "action", "link")},
        }

    def samples(self) -> dict[str, bytes]:
        """A cosine store (two ingests, one delete) and a child derived from it, as the runtime writes them."""
        import numpy as np

        from .writer import StoreWriter
        vec = lambda i: [i + j * 0.125 for j in range(4)]  # noqa: E731 - the corpus's exact-in-f32 rule
        parent = StoreWriter(dimension=4, metric="cosine")
        data = parent.create() + parent.ingest([1, 2, 3], np.array([vec(i) for i in (1, 2, 3)]))
        data += parent.ingest([7], np.array([vec(7)])) + parent.delete([2])
        child = parent.child(data, "sample_child.rvf")
        return {"sample_store.rvf": data,
                "sample_child.rvf": child.create() + child.ingest([10], np.array([vec(10)]))}


register(Rvf)

__all__ = ["Rvf", "DECLARATIONS", "SPEC"]
