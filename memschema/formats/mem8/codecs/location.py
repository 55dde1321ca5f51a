"""Record location (MEM8.md 2.6): the first 8 bytes of SHA-256(key as UTF-8) read as a u64 LE."""

from __future__ import annotations

import hashlib


def location(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")
