"""AgenticMemory's V3 logs (AMEM-WAL.md Part 2): `immortal.log` (length-prefixed Block JSON, a BLAKE3
hash chain) and `memory.wal` beside it — a format with two variants, plugged in without engine
changes."""

from __future__ import annotations

import os

from ...parsing import field_offset
from ...registry import Detection, Format, register
from .declarations import immortal_layout, log_record, memory_wal_layout, wal_record
from .document import ImmortalLogDocument, MemoryWalDocument

BLOCK_START = b'{"hash":['     # serde writes the Block's fields in order: every record starts so
FILE_NAMES = {"immortal.log": "immortal_log", "memory.wal": "memory_wal"}
DOCUMENTS = {"immortal_log": ImmortalLogDocument, "memory_wal": MemoryWalDocument}
JSON_AT = {"immortal_log": field_offset(log_record, "block"),     # where the first record's JSON starts
           "memory_wal": field_offset(wal_record, "block")}


class AmemLog(Format):
    name = "amem_log"
    title = "AgenticMemory V3 logs (immortal.log, memory.wal)"
    variants = ("immortal_log", "memory_wal")
    extensions = (".log", ".wal")
    priority = 36
    layouts = {"immortal_log": immortal_layout, "memory_wal": memory_wal_layout}
    declarations = {"log_record": log_record, "wal_record": wal_record,
                    "file_immortal_log": immortal_layout.as_construct(),
                    "file_memory_wal": memory_wal_layout.as_construct()}

    def detect(self, data, *, name: str = "") -> Detection | None:
        for variant, at in JSON_AT.items():
            if bytes(data[at:at + len(BLOCK_START)]) == BLOCK_START:
                return Detection("amem_log", variant, _describe(variant))
        variant = FILE_NAMES.get(os.path.basename(name))
        if variant and len(data) == 0:
            return Detection("amem_log", variant, _describe(variant) + "; empty (the engine creates it empty)")
        return None

    def load(self, data, detection: Detection, *, name: str = ""):
        return DOCUMENTS[detection.variant or "immortal_log"].parse(data, detection, name)

    def samples(self) -> dict[str, bytes]:
        from .samples import sample_files
        return sample_files()


def _describe(variant: str) -> str:
    return {"immortal_log": "AgenticMemory V3 immortal log (length-prefixed Block JSON, BLAKE3 chain)",
            "memory_wal": "AgenticMemory V3 write-ahead log memory.wal (never written by production code)"}[variant]


register(AmemLog)
