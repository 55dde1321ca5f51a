"""MEM8 `.m8` family (smart-tree): the seed format and the native block pairs share the `mem8`
format id; the family's detection rule (MEM8.md Part 4) also names its sibling layouts."""

from __future__ import annotations

from ...errors import FormatError
from ...registry import Detection, Format, register, register_converter
from . import json_convert, native, seed
from .detect import detect_m8
from .sections import m8sections_header, m8sections_section, m8tool_entry, m8tool_header
from .seed_store import load_seed


class Mem8(Format):
    name = "mem8"
    title = "MEM8 (.m8, smart-tree)"
    variants = ("seed", "native")
    extensions = (".m8",)
    priority = 10
    declarations = {
        "seed_header": seed.seed_header,
        "seed_block": seed.seed_block,
        "seed_file": seed.seed_file,
        "block_header": native.block_header,
        "m8sections_header": m8sections_header,
        "m8sections_section": m8sections_section,
        "m8tool_header": m8tool_header,
        "m8tool_entry": m8tool_entry,
    }

    def detect(self, data) -> Detection | None:
        return detect_m8(data)

    def load(self, data, detection: Detection, *, name: str = ""):
        if detection.variant in (None, "seed"):
            return load_seed(data, Detection("mem8", "seed", detection.description), name)
        raise FormatError(f"mem8/{detection.variant} is recognised but not decoded by this version",
                          "", 0, "unsupported_variant")


register(Mem8)
for _source in ("not_binary/zlib_json", "not_binary/json"):
    register_converter(_source, "mem8/seed", json_convert.converter,
                       "smart-tree context JSON (zlib or plain) -> seed .m8 (convert_json_to_binary)")
