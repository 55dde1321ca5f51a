"""Replays every input the properties and fuzzers found (`fuzz/regressions/<format>/NAME`): detect,
load, dump and validate may only raise FormatError, and a file that loads dumps byte-identically.

`NAME.xfail` beside an input holds the reason while the bug is not fixed (strict: delete it with the
fix); `NAME.md` may describe the bug."""

from __future__ import annotations

from pathlib import Path

import pytest

from memschema.strategies import exercise_bounded

REGRESSIONS = Path(__file__).resolve().parents[2] / "fuzz" / "regressions"
SIDECARS = (".xfail", ".md", ".txt", ".json")


def _params():
    files = sorted(p for p in REGRESSIONS.rglob("*") if p.is_file() and p.suffix not in SIDECARS)
    for path in files:
        reason = path.with_name(path.name + ".xfail")
        marks = [pytest.mark.xfail(strict=True, reason=reason.read_text().strip())] if reason.exists() else []
        yield pytest.param(path, marks=marks, id=str(path.relative_to(REGRESSIONS)))


@pytest.mark.parametrize("path", list(_params()))
def test_regression_input(path):
    data = path.read_bytes()
    out = exercise_bounded(data)
    if out.dumped is not None:
        assert out.dumped == data, f"{path.name}: loads, but dump is not byte-identical"
