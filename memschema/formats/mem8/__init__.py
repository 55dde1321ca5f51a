"""MEM8 `.m8` family (smart-tree): the seed format and the native block pairs share the `mem8`
format id; the family's detection rule (MEM8.md Part 4) also names its sibling layouts, which are
registered as formats of their own (`t8r`, `m8mem`, `m8sections`, `m8tool`) so that `load`
dispatches to them.  Their own `detect()` returns None: `Mem8.detect` (priority 10) decides, and
`Mem8.sniff` names smart-tree's zlib-JSON context files."""

from __future__ import annotations

from ...errors import FormatError
from ...registry import Detection, Format, register, register_converter
from . import json_convert, m8mem, m8tool, native, sections, seed, t8r
from .detect import detect_m8, sniff_m8
from .locks import RECORD_STORE_LOCK
from .m8mem_store import load_m8mem
from .m8tool_store import load_m8tool
from .native_store import load_native
from .sections_store import load_sections
from .seed_store import load_seed
from .t8r_store import load_t8r


class Mem8(Format):
    name = "mem8"
    title = "MEM8 (.m8, smart-tree)"
    variants = ("seed", "native")
    extensions = (".m8",)
    priority = 10
    layouts = {"seed": seed.seed_layout, "native": native.native_layout}
    declarations = {
        "seed_header": seed.seed_header,
        "seed_block": seed.seed_block,
        "seed_file": seed.seed_layout.as_construct(),
        "block_header": native.block_header,
        "mem8_lane": native.mem8_lane,
        "raw8_lane": native.raw8_lane,
        "mem8_block": native.mem8_block,
        "raw8_block": native.raw8_block,
        "native_pair": native.native_pair,
        "native_file": native.native_layout.as_construct(),
        "st8_envelope": native.st8_envelope,
        "t8r_frame_header": native.t8r_frame_header,
        "m8sections_header": sections.m8sections_header,
        "m8sections_section": sections.m8sections_section,
        "m8tool_header": m8tool.m8tool_header,
        "m8tool_entry": m8tool.m8tool_entry,
    }

    def detect(self, data) -> Detection | None:
        return detect_m8(data)

    def tables(self, doc) -> dict:
        """`memschema export`: the native journal's records or raw payloads, one column per field of
        their dataclass (the parsed frame, the finding and the lazy-value machinery stay out); seed
        files export their layout."""
        if doc.detection.variant != "native":
            return {}
        from dataclasses import fields

        from .native_records import Payload, Record
        name, cls, items = ("records", Record, doc.records) if doc.application == "st8" else \
            ("payloads", Payload, doc.payloads)
        columns = [f.name for f in fields(cls) if f.name not in ("frame", "problem")]   # parsed frame, finding
        return {name: {k: [getattr(item, k) for item in items] for k in columns}}

    def lock_for(self, detection: Detection):
        return RECORD_STORE_LOCK if detection.variant == "native" else None

    def repair(self, data, detection: Detection):
        from .journal_repair import repair_native
        from .repair import repair_seed
        if detection.variant == "native":
            return repair_native(data, detection)
        return repair_seed(data, Detection("mem8", "seed", detection.description))

    def sniff(self, data) -> Detection | None:
        return sniff_m8(data)

    def samples(self) -> dict[str, bytes]:
        from .codecs import bincode
        from .native_store import NativeDocument, Wave
        from .seed_store import SeedDocument
        seed_doc = SeedDocument.new()
        seed_doc.append_block(b"First memory", 0.8)
        seed_doc.append_block("Zweite Erinnerung \u2713".encode(), 0.5)
        seed_doc.append_block(b"Important memory", 1.0)
        journal = NativeDocument.new()
        journal.put("committed", bincode.encode_string("original"))
        journal.put("large", bincode.encode_bytes(bytes(range(256)) * 40), wave=Wave(440.0, -0.25, 0.9))
        journal.forget("committed")
        return {"seed.m8": seed_doc.build(), "native_journal.m8": journal.build()}

    def load(self, data, detection: Detection, *, name: str = ""):
        if detection.variant in (None, "seed"):
            return load_seed(data, Detection("mem8", "seed", detection.description), name)
        if detection.variant == "native":
            return load_native(data, detection, name)
        raise FormatError(f"mem8/{detection.variant} is recognised but not decoded by this version",
                          "", 0, "unsupported_variant")


class T8R(Format):
    name = "t8r"
    title = "T8R record journal (.t8, smart-tree RecordStore)"
    extensions = (".t8",)
    priority = 11
    lock = RECORD_STORE_LOCK
    layouts = {"": t8r.t8r_layout}
    declarations = {"file_header": t8r.t8r_file_header, "frame": t8r.t8r_frame, "file": t8r.t8r_layout.as_construct()}

    def load(self, data, detection: Detection, *, name: str = ""):
        return load_t8r(data, detection, name=name)

    def repair(self, data, detection: Detection):
        from .journal_repair import repair_t8r
        return repair_t8r(data, detection)

    def samples(self) -> dict[str, bytes]:
        from .codecs import bincode
        from .t8r_store import T8RDocument
        doc = T8RDocument.new()
        doc.put("src/main.rs", bincode.encode_string("fn main() {}"))
        doc.put("README.md", bincode.encode_string("# sample"))
        doc.forget("README.md")
        return {"sample_journal.t8": doc.build()}


class M8Mem(Format):
    name = "m8mem"
    title = "M8MEM memories (~/.st/memories.m8, st --memory-anchor)"
    extensions = (".m8",)
    priority = 11
    layouts = {"": m8mem.m8mem_layout}
    # no whole-file construct: an absent checksum byte followed by bytes is not expressible in one
    # (the layout decides by where the file ends)
    declarations = {"header": m8mem.m8mem_header, "memory": m8mem.m8mem_memory, "checksum": m8mem.m8mem_checksum}

    def load(self, data, detection: Detection, *, name: str = ""):
        return load_m8mem(data, detection, name=name)

    def repair(self, data, detection: Detection):
        from .repair import repair_m8mem
        return repair_m8mem(data, Detection("m8mem", None, detection.description))

    def samples(self) -> dict[str, bytes]:
        from .m8mem_store import M8MemDocument
        doc = M8MemDocument.new(1700000000)
        doc.add_memory("insight", ["wave", "memory"], "Waves interfere constructively", "human", 1700000000)
        doc.add_memory("gotcha", [], "Zweite Erinnerung \u2713", "ai:claude", 1700000001)
        return {"sample_memories.m8": doc.build()}


class M8Sections(Format):
    name = "m8sections"
    title = "sectioned .m8 (M8\\x02\\x09, legacy MEM8 magic)"
    variants = ("current", "legacy_mem8")
    extensions = (".m8",)
    priority = 11
    layouts = sections.m8sections_layouts
    declarations = {"header": sections.m8sections_header, "section": sections.m8sections_section,
                    "compressed_wave": sections.compressed_wave, "markqant_text": sections.markqant_text,
                    "markqant_token": sections.markqant_token, "trailer": sections.m8sections_trailer}

    def load(self, data, detection: Detection, *, name: str = ""):
        return load_sections(data, detection, name=name)

    def samples(self) -> dict[str, bytes]:
        from .sections_store import M8SectionsDocument
        out = {}
        for variant in self.variants:
            doc = M8SectionsDocument.new(variant, timestamp=1700000000)
            doc.add_text("the cat in the hat sat on the mat", ["the", "cat", "the cat"])
            doc.add_waves([{"id": 1, "amplitude": 200, "frequency": 440, "phase": 127, "valence": -5, "arousal": 9,
                            "decay_tau": 0xFFFF, "timestamp": 1700000000, "interference": 0}])
            out[f"sample_sections_{variant}.m8"] = doc.build()
        return out


class M8Tool(Format):
    name = "m8tool"
    title = "layout read by smart-tree's m8 tool"
    extensions = (".m8",)
    priority = 11
    layouts = {"": m8tool.m8tool_layout}
    declarations = {"header": m8tool.m8tool_header, "entry": m8tool.m8tool_entry,
                    "file": m8tool.m8tool_layout.as_construct()}

    def load(self, data, detection: Detection, *, name: str = ""):
        return load_m8tool(data, detection, name=name)

    def samples(self) -> dict[str, bytes]:
        from .m8tool_store import M8ToolDocument
        doc = M8ToolDocument.new()
        doc.add_section(b"META", b'{"project":"sample"}')
        doc.add_section(b"TEXT", "Zweite Erinnerung \u2713".encode())
        return {"sample_tool.m8": doc.build()}


for _fmt in (Mem8, T8R, M8Mem, M8Sections, M8Tool):
    register(_fmt)
for _source in ("not_binary/zlib_json", "not_binary/json"):
    register_converter(_source, "mem8/seed", json_convert.converter,
                       "smart-tree context JSON (zlib or plain) -> seed .m8 (convert_json_to_binary)")
