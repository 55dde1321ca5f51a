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


def test_a_crash_report_carries_its_input(tmp_path):
    """run_all.py prints a crashing input as base64 of zlib (CI keeps the log, not the file); the
    command it prints gives the bytes back."""
    import subprocess
    import sys
    sys.path.insert(0, str(REGRESSIONS.parent))
    import run_all
    data = bytes(range(256)) * 3
    (tmp_path / "crash").write_bytes(data)
    line = run_all.replay_line(tmp_path / "crash")
    command = run_all.UNPACK.replace("B64", line).replace("input.bin", str(tmp_path / "back"))
    subprocess.run(command.replace("python ", f"{sys.executable} ", 1), shell=True, check=True)
    assert (tmp_path / "back").read_bytes() == data
