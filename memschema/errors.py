"""The only exception bad bytes may raise, and the findings a validation reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class FormatError(ValueError):
    """Bytes that do not decode. Always names the field path and the absolute byte offset."""

    def __init__(self, message: str, path: str = "", offset: int | None = None, code: str = "parse"):
        self.message = message
        self.path = path
        self.offset = offset
        self.code = code
        where = []
        if path:
            where.append(path)
        if offset is not None:
            where.append(f"offset {offset} (0x{offset:x})")
        super().__init__(f"{' at '.join(where)}: {message}" if where else message)


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One validation result: a stable `code`, where it is (`path`, absolute `offset`) and why."""

    severity: Severity
    code: str
    message: str
    path: str = ""
    offset: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict:
        return {"severity": self.severity.value, "code": self.code, "message": self.message,
                "path": self.path, "offset": self.offset}

    def __str__(self) -> str:
        where = self.path or "-"
        off = "" if self.offset is None else f" @{self.offset} (0x{self.offset:x})"
        return f"{self.severity.value:7} {self.code:40} {where}{off}: {self.message}"

    @classmethod
    def from_error(cls, exc: FormatError, severity: Severity = Severity.ERROR) -> Finding:
        return cls(severity, exc.code, exc.message, exc.path, exc.offset)


def error(code: str, message: str, path: str = "", offset: int | None = None) -> Finding:
    return Finding(Severity.ERROR, code, message, path, offset)


def warning(code: str, message: str, path: str = "", offset: int | None = None) -> Finding:
    return Finding(Severity.WARNING, code, message, path, offset)


class Findings(list):
    """Findings with a per-code cap: a broken 10^6-record file must not produce 10^6 findings.
    The number of findings left out is reported once per code by `close()`."""

    def __init__(self, cap: int = 50):
        super().__init__()
        self.cap = cap
        self.counts: dict[str, int] = {}

    def add(self, finding: Finding) -> None:
        n = self.counts.get(finding.code, 0) + 1
        self.counts[finding.code] = n
        if n <= self.cap:
            self.append(finding)

    def extend_capped(self, findings) -> None:
        for f in findings:
            self.add(f)

    def close(self) -> list[Finding]:
        for code, n in self.counts.items():
            if n > self.cap:
                first = next(f for f in self if f.code == code)
                self.append(Finding(first.severity, code, f"{n - self.cap} more findings of this kind not listed"))
        return list(self)


@dataclass
class Report:
    """Everything `validate` found in one source."""

    source: str
    format: str
    variant: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_json(self) -> dict:
        return {"source": self.source, "format": self.format, "variant": self.variant, "ok": self.ok,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "findings": [f.to_json() for f in self.findings]}

    def __str__(self) -> str:
        kind = self.format + (f"/{self.variant}" if self.variant else "")
        head = f"{self.source}: {kind}: {'OK' if self.ok else 'FAILED'} " \
               f"({len(self.errors)} errors, {len(self.warnings)} warnings)"
        return "\n".join([head] + [f"  {f}" for f in self.findings])
