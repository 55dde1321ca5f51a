"""`convert_json_to_binary` (MEM8.md 1.5): a (zlib or plain) JSON context file -> seed `.m8`.

Block content is serde_json's compact form of each `contexts` element: keys sorted at every
level, no spaces, raw UTF-8, numbers as Rust prints them (ryu: `1e16`, `1e-7`, `0.00001`, `1.0`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...errors import Finding, FormatError
from ...sniff import TooLarge, inflate_bounded
from .seed_store import SeedDocument, now_us

ZLIB_STARTS = (b"\x78\x9c", b"\x78\xda")   # the only ones upstream inflates
DEFAULT_IMPORTANCE = 0.5


def rust_f64(x: float) -> str:
    """Format a finite f64 as serde_json (ryu) does."""
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    sign = "-" if x < 0 else ""
    _, digits, exp = Decimal(repr(abs(x))).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exp += 1
    d = "".join(map(str, digits))
    length, k = len(d), exp
    kk = length + k  # 10^(kk-1) <= |x| < 10^kk
    if 0 <= k and kk <= 16:
        return f"{sign}{d}{'0' * k}.0"
    if 0 < kk <= 16:
        return f"{sign}{d[:kk]}.{d[kk:]}"
    if -5 < kk <= 0:
        return f"{sign}0.{'0' * -kk}{d}"
    mantissa = d if length == 1 else f"{d[0]}.{d[1:]}"
    return f"{sign}{mantissa}e{kk - 1}"


def _number(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        if -(1 << 63) <= x < (1 << 64):
            return str(x)
        return rust_f64(float(x))   # serde_json parses integers beyond u64/i64 as f64
    return rust_f64(x)


def serde_compact(value: Any) -> str:
    """serde_json::to_vec of a serde_json::Value parsed from the same text."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(serde_compact(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + serde_compact(v) for k, v in items) + "}"
    raise TypeError(type(value).__name__)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _float(text: str) -> float:
    x = float(text)
    if x in (float("inf"), float("-inf")):
        raise ValueError(f"number out of range: {text}")
    return x


def read_json_context(data) -> Any:
    raw = bytes(data)
    if raw[:2] in ZLIB_STARTS:
        try:
            inflated = inflate_bounded(raw)
        except TooLarge as exc:
            raise FormatError(f"inflated JSON exceeds {exc.args[0]} bytes (max_record_bytes)", "", 0,
                              "mem8.json.too_large") from None
        if inflated is None:
            raise FormatError("zlib stream does not inflate (broken or incomplete)", "", 0, "mem8.json.zlib")
        raw = inflated
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"input is not UTF-8: {exc.reason}", "", exc.start, "mem8.json.utf8") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_float)
    except (ValueError, RecursionError) as exc:
        pos = getattr(exc, "pos", None)
        raise FormatError(f"invalid JSON: {exc}", "", pos, "mem8.json.invalid") from None


def context_blocks(value: Any) -> list[tuple[bytes, float]]:
    """(content, importance) per block: one per element of a top-level `contexts` array."""
    contexts = value.get("contexts") if isinstance(value, dict) else None
    if not isinstance(contexts, list):
        return []
    out = []
    for element in contexts:
        score = element.get("score") if isinstance(element, dict) else None
        importance = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) \
            else DEFAULT_IMPORTANCE
        out.append((serde_compact(element).encode("utf-8"), importance))
    return out


def convert_json_to_binary(data, clock: Callable[[], int] = now_us) -> SeedDocument:
    doc = SeedDocument.new()
    for content, importance in context_blocks(read_json_context(data)):
        doc.append_block(content, importance, timestamp=clock())
    return doc


def converter(data, detection, **options) -> tuple[bytes, list[Finding]]:
    return convert_json_to_binary(data, **options).build(), []
