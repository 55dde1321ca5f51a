"""`dump --json` of a sectioned `.m8` file: every declared field of the header, the sections and
the trailer, each section's body decoded by its type (CompressedWave records, the Markqant token
table and text), and the derived sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...jsonify import declared
from .sections import compressed_wave, m8sections_header, m8sections_section, m8sections_trailer, markqant_text

if TYPE_CHECKING:  # pragma: no cover
    from .sections_store import M8SectionsDocument


def section_json(doc: M8SectionsDocument, i: int) -> dict:
    s = doc.fields.sections[i]
    parsed = doc.layout_now()
    out = {"offset": parsed.placed["sections"].record_span(i)[0], **declared(m8sections_section, s),
           "type_name": doc.type_name(s.section_type)}
    body = doc.body(i)
    if body.type_name == "WaveMemory" and body.value is not None:
        out["waves"] = [declared(compressed_wave, w) for w in body.value]
    elif body.type_name == "MarkqantText" and body.value is not None:
        out["markqant"] = declared(markqant_text, body.value)
        out["patterns"] = {f"{int(t.token):#04x}": bytes(t.pattern).decode("utf-8", "replace")
                           for t in body.value.tokens}
        out["text"] = body.text
    if body.error is not None:
        out["error"] = {"path": getattr(body.error, "path", ""), "offset": body.error.offset,
                        "message": body.error.message}
    return out


def sections_json(doc: M8SectionsDocument) -> dict:
    crc32 = doc.fields.crc32
    return {"format": "m8sections", "variant": doc.variant, "header": declared(m8sections_header, doc.fields.header),
            "sections": [section_json(doc, i) for i in range(len(doc.fields.sections))],
            "trailer": None if crc32 is None else declared(m8sections_trailer, {"crc32": crc32}),
            "crc32": crc32, "real_file_size": doc.real_file_size(),
            "trailing_hex": bytes(doc.fields.trailing).hex()}
