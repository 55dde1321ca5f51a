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


def _rotl32(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def crc32_rotated(payload) -> bytes:
    """Runtime `content_hash`: CRC-32/ISO-HDLC `c` expanded to le32(c, rotl 8, rotl 16, rotl 24)."""
    c = zlib.crc32(payload) & 0xFFFFFFFF
    return b"".join(_rotl32(c, n).to_bytes(4, "little") if n else c.to_bytes(4, "little")
                    for n in (0, 8, 16, 24))


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


def declared_algorithm(checksum_algo: int, zero_means: str) -> str:
    """The hash a segment's `checksum_algo` declares: 0 (named crc32c, deprecated) = the dialect's
    own rule `zero_means`; shake256 = SHAKE-256[:16]; xxh3_128 and hmac_shake256 = XXH3-128 (what
    rvf-wire computes for every value but 2); `unknown` for values the enum does not name."""
    from .segment import CHECKSUM_ALGOS
    name = CHECKSUM_ALGOS.get(checksum_algo)
    if name is None:
        return "unknown"
    return {"crc32c": zero_means, "shake256": "shake256_128"}.get(name, "xxh3_128")
