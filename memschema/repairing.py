"""What `repair` returns: the salvaged bytes and every change made to get them, each with a stable
code, the field path and the absolute byte offset in the *damaged* file."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .errors import Report
from .registry import Detection


class Action(enum.StrEnum):
    CUT = "cut"            # a torn tail removed from the end
    DROPPED = "dropped"    # a unit (record, segment, node, edge) or undecodable bytes left out
    EMPTIED = "emptied"    # a unit kept, the part of it that does not decode left out
    REBUILT = "rebuilt"    # derived data (counts, checksums, indexes, manifests, seals) recomputed


@dataclass(frozen=True)
class Change:
    action: Action
    code: str
    message: str
    path: str = ""
    offset: int | None = None
    length: int | None = None

    def to_json(self) -> dict:
        return {"action": self.action.value, "code": self.code, "message": self.message, "path": self.path,
                "offset": self.offset, "length": self.length}

    def __str__(self) -> str:
        off = "" if self.offset is None else f" @{self.offset} (0x{self.offset:x})"
        size = "" if self.length is None else f" [{self.length} bytes]"
        return f"{self.action.value:8} {self.code:36} {self.path or '-'}{off}{size}: {self.message}"


@dataclass
class RepairResult:
    """`data`: the repaired file; `changes`: what was cut, dropped, emptied or rebuilt; `kept`:
    counts of what survived (e.g. {"records": 12}); `report`: validation of `data`."""

    data: bytes
    changes: list[Change] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)
    detection: Detection | None = None
    report: Report | None = None

    def add(self, action: Action, code: str, message: str, path: str = "", offset: int | None = None,
            length: int | None = None) -> None:
        self.changes.append(Change(action, code, message, path, offset, length))

    @property
    def ok(self) -> bool:
        return self.report is None or self.report.ok

    def to_json(self) -> dict:
        return {"format": None if self.detection is None else self.detection.format,
                "variant": None if self.detection is None else self.detection.variant, "size": len(self.data),
                "kept": dict(self.kept), "changes": [c.to_json() for c in self.changes],
                "validation": None if self.report is None else self.report.to_json(), "ok": self.ok}
