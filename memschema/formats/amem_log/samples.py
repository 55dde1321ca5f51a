"""Sample V3 logs written by memschema's own writers: a chain of blocks of every content variant,
and the memory.wal pre-writes of two of them."""

from __future__ import annotations

from datetime import UTC, datetime

from .document import ImmortalLogDocument, MemoryWalDocument

T0 = datetime(2026, 2, 25, 12, 0, 0, tzinfo=UTC)

CONTENTS = (
    ("session_boundary", {"type": "boundary", "boundary_type": "session_start", "context_tokens_before": 0,
                          "context_tokens_after": 0, "summary": "start"}),
    ("user_message", {"type": "text", "text": "Hello", "role": "user"}),
    ("tool_call", {"type": "tool", "tool_name": "grep", "input": {"q": "x", "a": [1, 2.5]}, "success": True}),
    ("file_operation", {"type": "file", "path": "src/main.rs", "operation": "update", "lines": 3}),
    ("decision", {"type": "decision", "decision": "use v3", "evidence_blocks": [], "confidence": 0.9}),
    ("error", {"type": "error", "error_type": "io", "message": "disk full", "resolved": False}),
    ("checkpoint", {"type": "checkpoint", "active_files": ["a.rs"], "working_context": "ctx", "pending_tasks": []}),
    ("custom", {"type": "binary", "data": "AAEC", "mime_type": "application/octet-stream"}),
)


def sample_files() -> dict[str, bytes]:
    log = ImmortalLogDocument.new()
    wal = MemoryWalDocument.parse(b"", log.detection)
    for i, (block_type, content) in enumerate(CONTENTS):
        block = log.append(block_type, content, T0, i * 123_000_000)
        if i < 2:
            wal.append(block)
    return {"immortal.log": log.build(), "memory.wal": wal.build()}
