"""RVF (RuVector Format) `.rvf` vector stores: the runtime dialect every real tool writes
(rvf-runtime RvfStore), the spec dialect of the upstream codecs, and the wasm_export and ruvbot
oddities (RVF.md 1).  Declarations: `segment`, `runtime`, `spec`, `lineage`; behaviour: `store`
(state), `checks`, `writer`, `lineage_check`; `strategies` for property tests."""

from __future__ import annotations

from ...registry import Detection, Format, register
from . import lineage, runtime, segment, spec
from .store import DIALECTS, SPEC, detect_dialect, load_rvf

DECLARATIONS = {
    "segment_header": segment.segment_header,
    "file_identity": lineage.file_identity,
    "lineage_record": lineage.lineage_record,
    "dir_entry": runtime.dir_entry,
    "manifest_payload": runtime.manifest_payload,
    "manifest_payload_short": runtime.manifest_payload_short,
    "vec_payload": runtime.vec_payload,
    "journal_entry": runtime.journal_entry,
    "journal_payload": runtime.journal_payload,
    "witness_payload": runtime.witness_payload,
    "kernel_header": runtime.kernel_header,
    "kernel_payload": runtime.kernel_payload,
    "ebpf_header": runtime.ebpf_header,
    "ebpf_payload": runtime.ebpf_payload,
    "cow_map_header": runtime.cow_map_header,
    "cow_map_payload": runtime.cow_map_payload,
    "membership_header": runtime.membership_header,
    "membership_payload": runtime.membership_payload,
    "wasm_vec_payload": runtime.wasm_vec_payload,
    "wasm_manifest_payload": runtime.wasm_manifest_payload,
    "spec_segment": spec.spec_segment,
    "signature_footer": spec.signature_footer,
    "level0_root": spec.level0_root,
    "level1_record": spec.level1_record,
    "spec_dir_entry": spec.spec_dir_entry,
    "overlay_chain": spec.overlay_chain,
    "witness_entry": spec.witness_entry,
    "witness_chain": spec.witness_chain,
    "spec_vec_block_entry": spec.spec_vec_block_entry,
    "spec_vec_directory": spec.spec_vec_directory,
}


class Rvf(Format):
    name = "rvf"
    title = "RVF (RuVector Format, .rvf)"
    variants = DIALECTS
    extensions = (".rvf", ".rvdna", ".rvtext", ".rvgraph", ".rvvis")
    priority = 40
    declarations = DECLARATIONS

    def detect(self, data) -> Detection | None:
        found = detect_dialect(data)
        if found is None:
            return None
        return Detection("rvf", found[0], found[1])

    def load(self, data, detection: Detection, *, name: str = ""):
        return load_rvf(data, detection, name)

    def dump_as(self, decl_name: str, value, data) -> dict:
        from .jsonout import dump_structure
        return dump_structure(decl_name, value, data)

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
