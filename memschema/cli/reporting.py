"""Validation reports as text (findings capped per code) and the summary of a multi-file run."""

from __future__ import annotations

from collections import Counter

from ..errors import Report, Severity
from ..source import READ_ERROR_CODES
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE

CAP = 10  # text output lists this many findings of one code, then a count (`--all` lists all)
UNREADABLE_CODES = frozenset({"unreadable", "not_memory_file", *READ_ERROR_CODES})


def report_status(report: Report) -> int:
    """Exit status one report stands for: 2 unreadable / not a memory file, 1 errors, 0 otherwise."""
    if any(f.code in UNREADABLE_CODES for f in report.errors):
        return EXIT_UNREADABLE
    return EXIT_OK if report.ok else EXIT_FINDINGS


def report_lines(report: Report, show_all: bool = False) -> list[str]:
    """The head line and every finding, at most CAP of each code unless `show_all`."""
    kind = report.format + (f"/{report.variant}" if report.variant else "")
    counts = f"({len(report.errors)} errors, {len(report.warnings)} warnings)"
    lines = [f"{report.source}: {kind}: {'OK' if report.ok else 'FAILED'} {counts}"]
    seen: Counter[str] = Counter()
    for f in report.findings:
        seen[f.code] += 1
        if show_all or seen[f.code] <= CAP:
            lines.append(f"  {f}")
    for code, n in seen.items():
        if not show_all and n > CAP:
            lines.append(f"  … {n - CAP} more {code} findings (--all lists them)")
    return lines


class Tally:
    """Counts over the files of one run: outcome per file and findings per (code, severity)."""

    def __init__(self) -> None:
        self.files = self.ok = self.with_errors = self.unreadable = 0
        self.skipped: list[dict] = []
        self.codes: Counter[tuple[str, str]] = Counter()

    def add(self, report: Report) -> None:
        self.files += 1
        status = report_status(report)
        self.unreadable += status == EXIT_UNREADABLE
        self.with_errors += status == EXIT_FINDINGS
        self.ok += status == EXIT_OK
        self.codes.update((f.code, f.severity.value) for f in report.findings)

    def skip(self, report: Report) -> None:
        """A file found in a folder that is not a memory file (`report.variant` says what it is)."""
        self.skipped.append({"source": report.source, "format": report.format, "variant": report.variant})

    def line(self, show_all: bool = False) -> str:
        out = f"{self.files} files: {self.ok} ok, {self.with_errors} with errors, {self.unreadable} unreadable"
        if self.skipped:
            out += f"; {len(self.skipped)} skipped (not memory files{'' if show_all else '; --all lists them'})"
        return out

    def code_lines(self) -> list[str]:
        order = {s.value: i for i, s in enumerate(Severity)}
        ranked = sorted(self.codes.items(), key=lambda kv: (order[kv[0][1]], -kv[1], kv[0][0]))
        return [f"  {n:6}  {severity:7}  {code}" for (code, severity), n in ranked]

    def to_json(self) -> dict:
        return {"files": self.files, "ok": self.ok, "with_errors": self.with_errors,
                "unreadable": self.unreadable, "skipped": len(self.skipped),
                "codes": [{"code": code, "severity": severity, "count": n}
                          for (code, severity), n in sorted(self.codes.items())]}
