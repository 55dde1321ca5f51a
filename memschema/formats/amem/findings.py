"""Finding helpers both layouts' checks share: a finding per flagged record, capped at the source
(a broken 10^6-record file costs the cap, not 10^6 objects), and the severity policy's info level."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import Finding, Findings, Severity


def info(code: str, message: str, path: str = "", offset: int | None = None) -> Finding:
    return Finding(Severity.INFO, code, message, path, offset)


def rows(mask) -> np.ndarray:
    return np.flatnonzero(np.asarray(mask))


def each(out: Findings, mask, make: Callable[[int], Finding]) -> None:
    """`make(i)` for the first records where `mask` holds (up to the cap); the others are counted
    so that `Findings.close` reports how many were left out."""
    flagged = rows(mask)
    made = [make(i) for i in flagged[:out.cap].tolist()]
    for finding in made:
        out.add(finding)
    if made and len(flagged) > len(made):
        out.counts[made[0].code] += len(flagged) - len(made)
