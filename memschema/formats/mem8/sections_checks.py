"""Validation of sectioned `.m8` files under the project's severity policy.  Errors: a section body
that cannot be read as written (WaveMemory not a whole number of records, a Markqant table or text
running past its section, a byte that is neither ASCII nor a token).  Warnings: data intact but
something off (version, file_size matching nothing, a missing or non-zero crc32 trailer - upstream
never computes it -, bytes after the trailer, unknown section types, bytes after a Markqant text,
patterns that are not UTF-8, a token below 0x80).  Info: the `file_size` upstream's writer always
gets wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import Finding, Findings, Severity, error, warning
from ...parsing import locate
from .codecs import CodecError
from .codecs.markqant import FIRST_TOKEN
from .sections import WAVE_SIZE, markqant_text
from .sections_store import S, buggy_file_size

if TYPE_CHECKING:  # pragma: no cover
    from .sections_store import M8SectionsDocument


def info(code: str, message: str, path: str = "", offset: int | None = None) -> Finding:
    return Finding(Severity.INFO, code, message, path, offset)


def check_sections(doc: M8SectionsDocument) -> list[Finding]:
    out = Findings()
    parsed = doc.layout_now()
    at = parsed.offset_of
    h, sections = doc.fields.header, doc.fields.sections
    if h.version != 1:
        out.add(warning(S + "version", f"version {h.version}, expected 1", "header.version", at("header.version")))
    real, bug = doc.real_file_size(), buggy_file_size(sections)
    if h.file_size == bug and bug != real:
        out.add(info(S + "file_size_field", f"file_size {h.file_size} is upstream's wrong formula 16 + 8n + sum(size) "
                     f"+ 4; the real size is {real} (every file upstream writes has it)", "header.file_size",
                     at("header.file_size")))
    elif h.file_size != real:
        out.add(warning(S + "file_size_mismatch", f"file_size {h.file_size} matches neither the real size {real} "
                        f"nor upstream's formula {bug} (no reader uses it)", "header.file_size",
                        at("header.file_size")))
    trailer_at = parsed.placed["trailer"].start
    if doc.fields.crc32 is None:
        out.add(warning(S + "crc_missing", "the file ends without the 4-byte crc32 trailer (the sections all "
                        "decode; upstream never computes or reads it)", "trailer.crc32", trailer_at))
    elif doc.fields.crc32 != 0:
        out.add(warning(S + "crc32_nonzero", f"crc32 {doc.fields.crc32:#010x}; upstream always writes 0",
                        "trailer.crc32", trailer_at))
    if doc.fields.trailing:
        out.add(warning(S + "trailing_bytes", f"{len(doc.fields.trailing)} bytes after the crc32 trailer",
                        "trailing", parsed.placed["trailing"].start))
    for i, s in enumerate(sections):
        _section(doc, i, s, at, out)
    return out.close()


def _section(doc: M8SectionsDocument, i: int, s, at, out: Findings) -> None:
    name = doc.type_name(s.section_type)
    base = at(f"sections[{i}].data")
    if name is None:
        out.add(warning(S + "unknown_section", f"section type {s.section_type:#04x} is not defined for the "
                        f"{doc.variant} layout; kept as bytes", f"sections[{i}].section_type",
                        at(f"sections[{i}].section_type")))
        return
    body = doc.body(i)
    if name == "WaveMemory" and body.slack:
        out.add(error(S + "wave_size", f"WaveMemory section of {s.size} bytes is not a multiple of {WAVE_SIZE}: "
                      f"its last {body.slack} bytes are no record", f"sections[{i}].size", at(f"sections[{i}].size")))
    if name != "MarkqantText":
        return
    path = f"sections[{i}].data"
    if isinstance(body.error, CodecError):
        out.add(error(S + "markqant_token", body.error.message, f"{path}.encoded",
                      base + locate(markqant_text, body.value, "encoded") + body.error.offset))
    elif body.error is not None:
        out.add(error(S + "markqant", f"the Markqant text does not fit its section: {body.error.message}",
                      body.error.path or path, base + (body.error.offset or 0)))
        return
    if body.value is None:
        return
    for j, t in enumerate(body.value.tokens):
        where = f"{path}.tokens[{j}]"
        if t.token < FIRST_TOKEN:
            out.add(warning(S + "markqant_token_range", f"token {int(t.token):#04x} is below {FIRST_TOKEN:#04x}: "
                            "the decoder reads such a byte as ASCII, so the pattern is never used", f"{where}.token",
                            base + locate(markqant_text, body.value, f"tokens[{j}].token")))
        try:
            bytes(t.pattern).decode("utf-8")
        except UnicodeDecodeError as exc:
            out.add(warning(S + "invalid_utf8", f"pattern is not UTF-8 ({exc.reason}); decoded lossily",
                            f"{where}.pattern", base + locate(markqant_text, body.value, f"tokens[{j}].pattern")))
    if body.slack:
        out.add(warning(S + "markqant_slack", f"{body.slack} bytes after the encoded text inside the section",
                        path, base + len(s.data) - body.slack))

