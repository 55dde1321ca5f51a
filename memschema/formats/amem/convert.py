"""spec-v1 <-> agentic-memory conversion through the layout-neutral model; the findings name what
the target layout cannot carry (metadata, explicit ids, sub-second times, usage counters, ...)."""

from __future__ import annotations

from ...errors import Finding, error
from ...registry import Detection
from .agentic_store import load_agentic
from .spec_store import load_spec
from .writer import write_agentic, write_spec


def _unknown_types(model, limit_event: int, limit_edge: int) -> list[Finding]:
    out = [error("amem.unknown_event_type", f"event_type {n.event_type} cannot be read by the target's reader",
                 f"nodes[{i}].event_type") for i, n in enumerate(model.nodes) if n.event_type > limit_event]
    out += [error("amem.unknown_edge_type", f"edge_type {e.edge_type} cannot be read by the target's reader",
                  f"edges[{j}].edge_type") for j, e in enumerate(model.edges) if e.edge_type > limit_edge]
    return out


def spec_to_agentic(data, detection: Detection, **_opts) -> tuple[bytes, list[Finding]]:
    model = load_spec(data, detection).to_model()
    for i, node in enumerate(model.nodes):
        node.id = i      # spec-v1 ids are record indexes; agentic-memory stores them explicitly
    out, findings = write_agentic(model)
    return out, _unknown_types(model, 5, 6) + findings


def agentic_to_spec(data, detection: Detection, *, compress: bool = True, indexes: bool = True,
                    **_opts) -> tuple[bytes, list[Finding]]:
    doc = load_agentic(data, detection)
    model = doc.to_model()
    out, findings = write_spec(model, compress=compress, indexes=indexes)
    return out, findings
