"""Side files of the three tools — lock files, compaction temp files, backups and migration
checkpoints, the RuVector SDK's id map, V3 recovery markers — named by `detect` (from the file
name where the bytes cannot tell, e.g. an empty lock file).  A plug-in that names files and
loads none: `load` and `validate` answer "side file of X; not a memory file" (exit code 2)."""

from __future__ import annotations

from ...errors import FormatError
from ...registry import Detection, Format, register
from .rules import detect_side_file


class SideFiles(Format):
    name = "side_file"
    title = "side files of smart-tree, AgenticMemory and RuVector (named, not loaded)"
    priority = 1                    # before the formats: a backup is named as the copy it is
    names_only = True

    def detect(self, data, *, name: str = "") -> Detection | None:
        return detect_side_file(data, name)

    def load(self, data, detection: Detection, *, name: str = ""):
        raise FormatError(f"{detection.description or 'a side file'}: memschema names side files but does not "
                          "load them", "", 0, "not_memory_file")


register(SideFiles)
