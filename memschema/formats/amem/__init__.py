"""AgenticMemory `.amem` brains: the documented `spec-v1` layout and the `agentic-memory` layout the
crate really writes (AMEM.md).  Both share the magic `AMEM`; detection uses header consistency."""

from __future__ import annotations

from ...errors import FormatError
from ...registry import Detection, Format, register, register_converter
from . import agentic, spec_v1
from .agentic_store import load_agentic
from .convert import agentic_to_spec, spec_to_agentic
from .detect import AGENTIC, SPEC_V1, detect_amem
from .locks import SAVE_LOCK


class Amem(Format):
    name = "amem"
    title = "AgenticMemory (.amem)"
    variants = (SPEC_V1, AGENTIC)
    extensions = (".amem",)
    priority = 30
    lock = SAVE_LOCK
    layouts = {AGENTIC: agentic.agentic_layout, SPEC_V1: spec_v1.spec_layout}
    declarations = {
        "header": agentic.header,
        "node_record": agentic.node_record,
        "edge_record": agentic.edge_record,
        "content_blob": agentic.content_blob,
        "feature_vector": agentic.feature_vector,
        "index_entry": agentic.index_entry,
        "type_index": agentic.type_index,
        "temporal_index": agentic.temporal_index,
        "session_index": agentic.session_index,
        "cluster_map": agentic.cluster_map,
        "term_index": agentic.term_index,
        "doc_lengths": agentic.doc_lengths,
        "spec_header": spec_v1.header,
        "spec_node_record": spec_v1.node_record,
        "spec_edge_record": spec_v1.edge_record,
        "spec_lz4_frame": spec_v1.lz4_frame,
        "spec_index_kind": spec_v1.index_kind,
        "spec_type_index": spec_v1.type_index,
        "spec_session_index": spec_v1.session_index,
        "spec_time_index": spec_v1.time_index,
        "spec_cluster_map": spec_v1.cluster_map,
    }

    def detect(self, data) -> Detection | None:
        return detect_amem(data)

    def tables(self, doc) -> dict:
        """`memschema export`: node and edge records by their declarations, one row per vector."""
        from ...export import Records
        ids = doc.ids.tolist()
        return {"nodes": Records(doc.node_decl, doc.nodes, {"node_id": ids}),
                "edges": Records(doc.edge_decl, doc.edges),
                "vectors": {"record": list(range(len(ids))), "node_id": ids, "vector": list(doc.vectors)}}

    def samples(self) -> dict[str, bytes]:
        from .model import Edge, Model, Node
        from .writer import write_agentic, write_spec
        t0 = 1_767_225_600_000_000
        model = Model(dimension=4, nodes=[
            Node("User prefers Rust for systems work", 0, 1, 0.95, t0, vector=[1, 0, 0, 0]),
            Node("Use LZ4 for content compression", 1, 1, 0.9, t0 + 10**6, vector=[0.6, 0.8, 0, 0]),
            Node("Benchmarks showed mmap beats read()", 5, 2, 0.8, t0 + 2 * 10**6,
                 metadata={"source": "bench"}),
        ], edges=[Edge(0, 1, 0, 1.0, t0 + 3 * 10**6), Edge(1, 2, 1, 0.5, t0 + 4 * 10**6)])
        plain = Model(model.dimension, [Node(**{**n.__dict__, "metadata": None}) for n in model.nodes], model.edges)
        return {"brain_agentic.amem": write_agentic(plain)[0], "brain_spec_v1.amem": write_spec(model)[0]}

    def repair(self, data, detection: Detection):
        from .repair import repair_amem
        return repair_amem(data, detection)

    def load(self, data, detection: Detection, *, name: str = ""):
        if detection.variant == AGENTIC:
            return load_agentic(data, detection, name)
        if detection.variant == SPEC_V1:
            from .spec_store import load_spec
            return load_spec(data, detection, name)
        raise FormatError(f"AMEM file with a header consistent with neither layout ({detection.description}); "
                          "choose one with format='amem/spec-v1' or 'amem/agentic-memory'", "header", 0,
                          "amem.inconsistent_header")


register(Amem)
register_converter("amem/spec-v1", "amem/agentic-memory", spec_to_agentic,
                   "documented spec-v1 .amem -> the layout the agentic-memory crate reads")
register_converter("amem/agentic-memory", "amem/spec-v1", agentic_to_spec,
                   "agentic-memory .amem -> documented spec-v1 layout")
