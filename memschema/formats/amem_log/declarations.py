"""AgenticMemory V3 logs (AMEM-WAL.md Part 2): `immortal.log` and the `memory.wal` beside it.

`immortal.log` = records back to back, each a u32 LE `block_len` and that many bytes of a Block's
compact JSON (`serde_json::to_vec(&Block)`); no header, footer or checksum.  `memory.wal` =
entries of u64 `sequence`, u32 `len`, the Block JSON and a CRC-32 of it.  The binary framing is
declared with construct; the JSON inside (§2.3) is declared below as data: the Block's fields and
each content variant's fields in serde's order, with their Rust types.
"""

from __future__ import annotations

from dataclasses import dataclass

from construct import Bytes, Int32ul, Int64ul, Struct, this

from ...layout import EOF, Layout, Section

log_record = Struct(
    "block_len" / Int32ul * "length of the JSON that follows; 0 ends upstream's scan (load_existing)",
    "block" / Bytes(this.block_len) * "serde_json::to_vec(&Block): compact UTF-8 JSON, fields in declaration order",
)

wal_record = Struct(
    "sequence" / Int64ul * "WAL counter: the largest sequence in the file + 1 at open, + 1 per entry",
    "len" / Int32ul * "length of block; recovery skips an entry over 100 MiB",
    "block" / Bytes(this.len) * "serde_json::to_vec(&Block), as written to immortal.log",
    "crc32" / Int32ul * "CRC-32 (crc32fast, = zlib.crc32) of block",
)

immortal_layout = Layout(
    "amem_immortal_log", "AgenticMemory V3 immortal log (immortal.log)",
    "length-prefixed Block JSON records from offset 0 to the end of the file; bytes after the last "
    "complete record are a torn append",
    Section("records", log_record, "records until the end of the file", count=EOF),
    extension="log",
)

memory_wal_layout = Layout(
    "amem_memory_wal", "AgenticMemory V3 write-ahead log (memory.wal)",
    "entries (sequence, length, Block JSON, CRC-32) from offset 0 to the end of the file",
    Section("entries", wal_record, "entries until the end of the file", count=EOF),
    extension="wal",
)

MAX_WAL_ENTRY_BYTES = 100 * 1024 * 1024    # recovery skips longer entries

# -- the Block JSON (block.rs) ------------------------------------------------------------------------

BLOCK_TYPES = ("user_message", "assistant_message", "system_message", "tool_call", "tool_result",
               "file_operation", "decision", "session_boundary", "error", "checkpoint", "custom")
FILE_OPERATIONS = ("create", "read", "update", "delete", "rename")
BOUNDARY_TYPES = ("session_start", "session_end", "compaction", "context_pressure", "user_requested", "checkpoint")
CONTENT_TAG = "type"        # BlockContent is internally tagged by "type" (snake_case)


@dataclass(frozen=True)
class JsonField:
    """One field of a serde struct: its JSON key, its Rust type, and whether it is an `Option`
    (null, or missing, reads as None)."""

    name: str
    kind: str   # str u32 u64 f32 bool hash hashes strs value base64 timestamp enum content
    doc: str
    optional: bool = False
    choices: tuple[str, ...] = ()


def _f(name: str, kind: str, doc: str, optional: bool = False, choices: tuple[str, ...] = ()) -> JsonField:
    return JsonField(name, kind, doc, optional, choices)


BLOCK_FIELDS = (
    _f("hash", "hash", "BLAKE3(prev_hash || le64(sequence) || timestamp.to_rfc3339() || content JSON), 32 numbers"),
    _f("prev_hash", "hash", "hash of the previous block; 32 zero bytes for block 0"),
    _f("sequence", "u64", "0-based position in the chain, gap-free"),
    _f("timestamp", "timestamp", "creation time, RFC 3339 UTC with 0/3/6/9 fractional digits and Z"),
    _f("block_type", "enum", "kind of block", choices=BLOCK_TYPES),
    _f("content", "content", "the content, tagged by \"type\""),
    _f("size_bytes", "u32", "length of the content's JSON (for budgeting; not hashed)"),
)

CONTENT_FIELDS = {
    "text": (_f("text", "str", "message text"), _f("role", "str", "speaker", True),
             _f("tokens", "u32", "token count", True)),
    "tool": (_f("tool_name", "str", "tool called"), _f("input", "value", "arguments (any JSON)"),
             _f("output", "value", "result (any JSON)", True), _f("duration_ms", "u64", "run time", True),
             _f("success", "bool", "whether the call succeeded")),
    "file": (_f("path", "str", "file path"), _f("operation", "enum", "what was done", choices=FILE_OPERATIONS),
             _f("content_hash", "hash", "hash of the file content", True), _f("lines", "u32", "line count", True),
             _f("diff", "str", "the change", True)),
    "decision": (_f("decision", "str", "what was decided"), _f("reasoning", "str", "why", True),
                 _f("evidence_blocks", "hashes", "hashes of the blocks it rests on"),
                 _f("confidence", "f32", "confidence (f32)", True)),
    "boundary": (_f("boundary_type", "enum", "kind of boundary", choices=BOUNDARY_TYPES),
                 _f("context_tokens_before", "u32", "context size before"),
                 _f("context_tokens_after", "u32", "context size after"), _f("summary", "str", "summary"),
                 _f("continuation_hint", "str", "hint for the next session", True)),
    "error": (_f("error_type", "str", "kind of error"), _f("message", "str", "message"),
              _f("resolution", "str", "how it was resolved", True), _f("resolved", "bool", "whether resolved")),
    "checkpoint": (_f("active_files", "strs", "open files"), _f("working_context", "str", "context"),
                   _f("pending_tasks", "strs", "open tasks")),
    "binary": (_f("data", "base64", "bytes, standard base64 with padding"), _f("mime_type", "str", "MIME type")),
}
