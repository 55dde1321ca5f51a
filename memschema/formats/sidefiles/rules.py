"""Which side file of which tool a file is (LOCKS.md, AMEM-VERSIONS.md, RVF.md §3.11, AMEM-WAL.md
§2.1), from its name and, where the name is not enough, its bytes.

Side files are not memory files: lock files, compaction temp files, the RuVector SDK's id map,
V3 recovery markers.  Copies that are whole memory files (AgenticMemory's `.corrupt.bak`, backups
and migration checkpoints; compaction temp files) are named as what their bytes are, with a note
saying whose copy they are.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from ...registry import Detection, get_format, is_registered

RVF_LOCK_MAGIC = b"FLVR"      # RuVector's writer-lock owner record (LOCKS.md §3.2; declared as rvf.lock_record)
IDMAP_KEYS = {"idToLabel", "labelToId", "nextLabel"}     # @ruvector/rvf backend.ts saveMappings()
IDMAP_START = b'{"idToLabel":'                           # JSON.stringify keeps that key first
UUID_TMP = re.compile(r"\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp\Z")
STAMP = re.compile(r"\.(\d{14})\.amem\.(?:bak|checkpoint)\Z")


@dataclass(frozen=True)
class SideFileDetection(Detection):
    """A tool's side file: named, but not a memory file (`load` and `validate` say so, exit 2)."""

    @property
    def is_memory_file(self) -> bool:
        return False


def side(kind: str, tool: str, what: str) -> SideFileDetection:
    return SideFileDetection("side_file", kind, f"side file of {tool}: {what}; not a memory file")


def _strip(name: str, suffix: str) -> str:
    return name[: -len(suffix)] if suffix and name.endswith(suffix) else name


def _rvf_extensions() -> tuple[str, ...]:
    return get_format("rvf").extensions if is_registered("rvf") else ()


def _content(data) -> Detection:
    """What the bytes alone are (detection without a name)."""
    from ...api import detect
    return detect(memoryview(data))


def _copy(data, kind: str, tool: str, what: str) -> Detection:
    """A copy of a memory file: the format its bytes are, described as the copy it is."""
    found = _content(data)
    if found.is_memory_file:
        return Detection(found.format, found.variant, f"{what} ({tool}) — {found.description}")
    return side(kind, tool, f"{what}, but its bytes are not a memory file memschema reads ({found.description})")


def _is_idmap(data) -> bool:
    try:
        value = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(value, dict) and IDMAP_KEYS <= set(value)


def by_content(data) -> Detection | None:
    """Side files whose bytes say what they are, whatever their name."""
    if bytes(data[:len(RVF_LOCK_MAGIC)]) == RVF_LOCK_MAGIC:
        return side("rvf_lock", "RuVector (rvf-runtime)", "a writer lock's owner record (FLVR: pid, host, time, "
                                "writer id), held from open to close")
    if bytes(data[:len(IDMAP_START)]) == IDMAP_START and _is_idmap(data):
        return side("rvf_idmap", "the RuVector SDK (@ruvector/rvf)", "the string-id map of an .rvf store")
    return None


def _lock(data, name: str) -> Detection | None:
    if not name.endswith(".lock"):
        return None
    data_file = _strip(name, ".lock")
    if bytes(data[:len(RVF_LOCK_MAGIC)]) == RVF_LOCK_MAGIC:
        return side("rvf_lock", "RuVector (rvf-runtime)", f"the writer lock of {data_file} (FLVR owner record: "
                    "pid, host, time, writer id), held from open to close")
    if name.endswith(".amem.lock"):
        extra = "" if not len(data) else f" (it holds {len(data)} bytes; upstream leaves it empty)"
        return side("amem_lock", "AgenticMemory's MCP server", f"the save lock of {data_file} (created O_EXCL "
                    f"while a save rewrites the brain, deleted after it; stale after 60 s){extra}")
    if len(data) == 0:
        if os.path.splitext(data_file)[1] in _rvf_extensions():
            return side("rvf_lock", "RuVector (rvf-runtime)", f"the writer lock of {data_file}, empty: caught "
                        "between create and write, or left by a crash there (upstream deletes an empty lock as "
                        "broken)")
        return side("mem8_lock", "smart-tree's RecordStore", f"the flock lock of {data_file}.m8 / {data_file}.t8 "
                    "(empty by design, never deleted; held while the daemon has the store open)")
    if bytes(data).strip().isdigit():
        return side("v3_lock", "AgenticMemory V3", f"the FileLock of {data_file} (pid "
                    f"{bytes(data).strip().decode()}; only upstream's tests take it)")
    return None


def _amem_copy(data, name: str) -> Detection | None:
    stamp = STAMP.search(name)
    when = f", taken {stamp.group(1)} UTC" if stamp else ""
    server = "AgenticMemory's MCP server"
    if name.endswith(".corrupt.bak"):
        return _copy(data, "amem_corrupt_backup", server, f"{_strip(name, '.corrupt.bak')} moved aside as "
                     "unreadable (.corrupt.bak); the server started an empty brain")
    if name.endswith(".amem.bak"):
        return _copy(data, "amem_backup", server, f"a periodic backup (.amem-backups){when}")
    if name.endswith(".amem.checkpoint"):
        return _copy(data, "amem_checkpoint", server, f"the copy of a legacy brain taken before its migration to "
                     f"version 1 (.amem-migrations){when}")
    return None


def _temp(data, name: str) -> Detection | None:
    if name.endswith(".compact.tmp"):
        return _copy(data, "rvf_compact_tmp", "RuVector (rvf-runtime)", f"the compaction temp file of "
                     f"{_strip(name, '.compact.tmp')}, left by a crash before the rename (the next compaction "
                     "overwrites it)")
    if UUID_TMP.search(name):
        stem = UUID_TMP.sub("", name)
        return _copy(data, "mem8_compact_tmp", "smart-tree's RecordStore", f"the compaction temp file of "
                     f"{stem}.m8 / {stem}.t8, left by a crash before the rename (upstream never removes it)")
    return None


def _named(data, name: str) -> Detection | None:
    if name.endswith(".idmap.json"):
        return side("rvf_idmap", "the RuVector SDK (@ruvector/rvf)", f"the string-id map of "
                    f"{_strip(name, '.idmap.json')}" + ("" if _is_idmap(data) else
                                                       ", which does not parse: the SDK starts with empty mappings"))
    if name in (".recovery_in_progress", ".recovery_complete"):
        return side("v3_recovery_marker", "AgenticMemory V3", "a crash-recovery marker (RFC 3339 text)")
    return None


BY_NAME: tuple[Callable, ...] = (_amem_copy, _temp, _lock, _named)


def detect_side_file(data, name: str) -> Detection | None:
    """The name's rules first (they know which data file a side file belongs to), then the bytes'."""
    base = os.path.basename(name)
    for rule in BY_NAME if base else ():
        found = rule(data, base)
        if found is not None:
            return found
    return by_content(data)
