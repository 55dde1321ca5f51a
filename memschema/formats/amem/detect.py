"""Telling the two `.amem` layouts apart from header consistency with the file size (AMEM.md Part 3)."""

from __future__ import annotations

from ...parsing import parse
from ...registry import Detection
from . import agentic, spec_v1

AGENTIC = "agentic-memory"
SPEC_V1 = "spec-v1"


def agentic_problems(data, whole: bool = True) -> list[str]:
    """Which Part-3 rule 2 checks fail for the agentic-memory header (empty list = consistent);
    `whole=False` leaves out the check against the file size (a truncated file)."""
    h = parse(agentic.header, data, 0, "header", agentic.HEADER_SIZE)
    edge_at = agentic.HEADER_SIZE + agentic.NODE_SIZE * h.node_count
    out = []
    if h.node_table_offset != agentic.HEADER_SIZE:
        out.append(f"node_table_offset {h.node_table_offset} != 64")
    if h.edge_table_offset != edge_at:
        out.append(f"edge_table_offset {h.edge_table_offset} != 64 + 72·node_count = {edge_at}")
    content_at = h.edge_table_offset + agentic.EDGE_SIZE * h.edge_count
    if h.content_block_offset != content_at:
        out.append(f"content_block_offset {h.content_block_offset} != edge_table_offset + 32·edge_count "
                   f"= {content_at}")
    if h.content_block_offset > h.feature_vec_offset:
        out.append(f"content_block_offset {h.content_block_offset} > feature_vec_offset {h.feature_vec_offset}")
    end = h.feature_vec_offset + 4 * h.dimension * h.node_count
    if whole and end > len(data):
        out.append(f"feature vectors end at {end}, after the end of the {len(data)}-byte file")
    return out


def spec_problems(data, whole: bool = True) -> list[str]:
    """Which Part-3 rule 3 checks fail for the spec-v1 header (`whole`: as in agentic_problems)."""
    h = parse(spec_v1.header, data, 0, "header", spec_v1.HEADER_SIZE)
    out = []
    content_at = spec_v1.HEADER_SIZE + spec_v1.NODE_SIZE * h.node_count + spec_v1.EDGE_SIZE * h.edge_count
    if h.content_offset != content_at:
        out.append(f"content_offset {h.content_offset} != 64 + 64·node_count + 13·edge_count = {content_at}")
    if h.vector_offset != h.content_offset + h.content_length:
        out.append(f"vector_offset {h.vector_offset} != content_offset + content_length")
    if h.index_offset != h.vector_offset + 4 * h.dimension * h.node_count:
        out.append(f"index_offset {h.index_offset} != vector_offset + 4·dimension·node_count")
    if whole and h.index_offset > len(data):
        out.append(f"index_offset {h.index_offset} is after the end of the {len(data)}-byte file")
    if any(h.reserved):
        out.append("reserved bytes are not zero")
    return out


def detect_amem(data) -> Detection | None:
    if len(data) < agentic.HEADER_SIZE or bytes(data[:4]) != agentic.MAGIC:
        return None
    am = agentic_problems(data)
    if not am:
        return Detection("amem", AGENTIC, "AgenticMemory brain, layout written by the agentic-memory crate")
    sp = spec_problems(data)
    if not sp:
        return Detection("amem", SPEC_V1, "AgenticMemory brain, documented spec-v1 layout")
    return Detection("amem", None, "AMEM magic but an inconsistent header for both layouts: "
                     f"agentic-memory: {'; '.join(am)} / spec-v1: {'; '.join(sp)}")
