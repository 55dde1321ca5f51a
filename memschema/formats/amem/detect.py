"""Telling the two `.amem` layouts apart (AMEM.md Part 3): the header must place every section
where the layout puts it, within the file (`Layout.placement_problems`), and spec-v1's reserved
bytes must be zero — the one rule that is not placement."""

from __future__ import annotations

from ...parsing import parse
from ...registry import Detection
from . import agentic, spec_v1

AGENTIC = "agentic-memory"
SPEC_V1 = "spec-v1"


def agentic_problems(data, whole: bool = True) -> list[str]:
    """Which Part-3 rule 2 checks fail for the agentic-memory header (empty list = consistent);
    `whole=False` leaves out the checks against the file size (a truncated file)."""
    return agentic.agentic_layout.placement_problems(data, whole=whole)


def spec_problems(data, whole: bool = True) -> list[str]:
    """Which Part-3 rule 3 checks fail for the spec-v1 header (`whole`: as in agentic_problems)."""
    out = spec_v1.spec_layout.placement_problems(data, whole=whole)
    if any(parse(spec_v1.header, data, 0, "header", spec_v1.HEADER_SIZE).reserved):
        out.append("header.reserved bytes are not zero")
    return out


def detect_amem(data) -> Detection | None:
    if len(data) < agentic.HEADER_SIZE or bytes(data[:len(agentic.MAGIC)]) != agentic.MAGIC:
        return None
    am = agentic_problems(data)
    if not am:
        return Detection("amem", AGENTIC, "AgenticMemory brain, layout written by the agentic-memory crate")
    sp = spec_problems(data)
    if not sp:
        return Detection("amem", SPEC_V1, "AgenticMemory brain, documented spec-v1 layout")
    return Detection("amem", None, "AMEM magic but an inconsistent header for both layouts: "
                     f"agentic-memory: {'; '.join(am)} / spec-v1: {'; '.join(sp)}")
