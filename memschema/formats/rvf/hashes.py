"""The hash functions RVF uses (RVF.md 3.2, 3.9, 4.1, 4.2, 4.5).

Dependencies: `crc32c` (Castagnoli CRC with a C/SSE4.2 core, no further deps) for the Level0Root
checksum, `xxhash` (the reference xxHash bindings) for XXH3-128; CRC-32 comes from zlib and
SHAKE-256 from hashlib.
"""

from __future__ import annotations

import hashlib
import zlib

import crc32c as _crc32c
import numpy as np
import xxhash

try:
    from . import _fold
except ImportError:   # built without a compiler: fold32 in Python
    _fold = None

ZERO16 = bytes(16)
ZERO32 = bytes(32)


def crc32_rotated(payload) -> bytes:
    """Runtime `content_hash`: CRC-32/ISO-HDLC `c` expanded to le32(c, rotl 8, rotl 16, rotl 24)."""
    return _crc32_rotated_rows(np.array([zlib.crc32(payload)], np.uint32))[0].tobytes()


def _crc32_rotated_rows(crcs: np.ndarray) -> np.ndarray:
    """`crc32_rotated` of each CRC-32 in `crcs`, as (n, 16) uint8 rows."""
    words = np.stack([crcs] + [(crcs << n) | (crcs >> (32 - n)) for n in (8, 16, 24)], axis=1)
    return words.astype("<u4").view(np.uint8)


def xxh3_128_le(payload) -> bytes:
    """Spec `content_hash` for checksum_algo 0/1/3: XXH3-128 as a little-endian u128."""
    return xxhash.xxh3_128_intdigest(payload).to_bytes(16, "little")


def shake256(payload, size: int = 32) -> bytes:
    return hashlib.shake_256(bytes(payload)).digest(size)


def shake256_128(payload) -> bytes:
    """Spec `content_hash` for checksum_algo 2: the first 16 bytes of SHAKE-256."""
    return shake256(payload, 16)


def crc32c(data) -> int:
    """CRC32C (Castagnoli), the Level0Root `root_checksum`."""
    return _crc32c.crc32c(bytes(data))


_ROTL3 = np.array([((b << 3) | (b >> 5)) & 0xFF for b in range(256)], dtype=np.uint8).tolist()


def fold32(data) -> bytes:
    """The runtime's `simple_shake256_256` (an additive byte fold, not SHAKE-256; RVF.md 3.9), in C
    when the extension is built."""
    if _fold is not None:
        return _fold.fold32(data)
    return fold32_python(data)


def fold32_python(data) -> bytes:
    """`fold32` byte by byte (the extension's reference)."""
    s = [0] * 32
    rot = _ROTL3
    for i, b in enumerate(bytes(data)):
        k = i & 31
        v = (s[k] + b) & 0xFF
        s[k] = v
        t = (i + 13) & 31
        s[t] = (s[t] + rot[v]) & 0xFF
    return bytes(s)


# -- content_hash rules (RVF.md 3.2, 4.1, 5, 7) -----------------------------------------------------

def sha256_128(payload) -> bytes:
    """ruvbot's `content_hash`: the first 16 bytes of SHA-256."""
    return hashlib.sha256(bytes(payload)).digest()[:16]


PAYLOAD_HASHES = {"crc32_rotated": crc32_rotated, "xxh3_128": xxh3_128_le, "shake256_128": shake256_128,
                  "sha256_128": sha256_128}


def payload_hash(name: str, payload) -> bytes | None:
    """The 16-byte `content_hash` of `payload` under the rule `name` (None for `unset`/`unknown`)."""
    func = PAYLOAD_HASHES.get(name)
    return None if func is None else func(payload)


def payload_hashes(name: str, payloads: list) -> np.ndarray | None:
    """`payload_hash` of each of `payloads` as (n, 16) uint8 rows (None for `unset`/`unknown`); the
    runtime's rule rotates every CRC at once."""
    if name == "crc32_rotated":
        return _crc32_rotated_rows(np.fromiter((zlib.crc32(p) for p in payloads), np.uint32, len(payloads)))
    func = PAYLOAD_HASHES.get(name)
    if func is None:
        return None
    return np.frombuffer(b"".join(func(p) for p in payloads), np.uint8).reshape(len(payloads), 16)


def declared_algorithm(checksum_algo: int, zero_means: str) -> str:
    """The hash a segment's `checksum_algo` declares: 0 (named crc32c, deprecated) = the dialect's
    own rule `zero_means`; shake256 = SHAKE-256[:16]; xxh3_128 and hmac_shake256 = XXH3-128 (what
    rvf-wire computes for every value but 2); `unknown` for values the enum does not name."""
    from .segment import CHECKSUM_ALGOS
    name = CHECKSUM_ALGOS.get(checksum_algo)
    if name is None:
        return "unknown"
    return {"crc32c": zero_means, "shake256": "shake256_128"}.get(name, "xxh3_128")
