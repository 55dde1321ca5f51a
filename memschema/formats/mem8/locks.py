"""The writer lock of smart-tree's `RecordStore` (LOCKS.md Part 1): `flock` on
`path.with_extension("lock")` (`proxy_memory.m8` -> `proxy_memory.lock`), never written, never
deleted, no waiting upstream.  Native `.m8` pair files and T8R `.t8` journals share it; the seed
layout (`M8BinaryFile`), M8MEM and the sectioned layouts are written without any lock upstream."""

from __future__ import annotations

from ...locking import FlockLock, LockName

RECORD_STORE_LOCK = FlockLock(LockName(extension="lock"))
