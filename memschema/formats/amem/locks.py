"""The save lock of the AgenticMemory MCP server (`FileLock` in `session/manager.rs`, LOCKS.md
Part 2): an empty `path.with_extension("amem.lock")` (`brain.amem` -> `brain.amem.lock`) created
with O_EXCL, broken when its mtime is more than 60 s old, polled every 50 ms for up to ~10 s,
unlinked when the save ends.  The `amem` CLI, the FFI and the Python SDK take no lock."""

from __future__ import annotations

from ...locking import ExclusiveFileLock, LockName

SAVE_LOCK = ExclusiveFileLock(LockName(extension="amem.lock"), stale_after=60.0, poll=0.05, default_timeout=10.0)
