"""A Block's JSON (AMEM-WAL.md §2.3-2.4): whether upstream's serde reads it as a `Block`, where each
member sits (byte spans, for findings), its hash, and the exact bytes serde_json writes for it.

Reading follows serde's derive rules for `Block`: required fields present, `Option` fields null or
missing, integers in range (never floats), enums by their snake_case names, `[u8; 32]` as 32
numbers, base64 in the standard padded form, unknown keys ignored, a repeated key an error.
serde_json's own output: no whitespace, struct fields in declaration order, the content's "type"
first, `serde_json::Value` objects with sorted keys, floats as ryu prints them (f32 for
`confidence`), strings with only `"`, `\\` and control characters escaped.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import blake3
import numpy as np

from ..mem8.json_convert import rust_f64, serde_compact
from .declarations import BLOCK_FIELDS, BLOCK_TYPES, CONTENT_FIELDS, CONTENT_TAG, JsonField

HASH_BYTES = blake3.blake3.digest_size
ZERO_HASH = bytes(HASH_BYTES)
U32 = np.iinfo(np.uint32).max
U64 = np.iinfo(np.uint64).max
F32_DECIMAL_LIMIT = 1e13      # ryu writes f32 values from here on as d.ddde<n>
_WS = re.compile(r"[ \t\n\r]*")
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)\Z")


class NotABlock(ValueError):
    """The JSON is not something serde reads as a Block: `key` is the top-level member at fault."""

    def __init__(self, message: str, key: str | None = None, offset: int | None = None):
        super().__init__(message)
        self.key = key
        self.offset = offset        # of the member's value in the JSON bytes, when known


@dataclass
class BlockJson:
    """A record's JSON read as a Block: the values, and each top-level member's byte span."""

    value: dict
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    raw: bytes = b""

    @property
    def content_bytes(self) -> bytes:
        start, end = self.spans["content"]
        return self.raw[start:end]

    def computed_hash(self) -> bytes:
        return block_hash(bytes(self.value["prev_hash"]), self.value["sequence"],
                          hash_timestamp(self.value["timestamp"]), self.content_bytes)


# -- timestamps --------------------------------------------------------------------------------------

def parse_timestamp(text: str) -> tuple[datetime, int]:
    """(UTC time to the second, nanoseconds) of an RFC 3339 string as chrono reads it."""
    m = _RFC3339.match(text)
    if not m:
        raise ValueError(f"timestamp {text!r} is not RFC 3339")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    when = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    if zone not in "Zz":
        sign = 1 if zone[0] == "+" else -1
        when -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    nanos = int((frac or "")[:9].ljust(9, "0"))
    return when, nanos


def _auto_si(nanos: int) -> str:
    """chrono's SecondsFormat::AutoSi: as many fractional digits (0, 3, 6 or 9) as needed."""
    if nanos == 0:
        return ""
    for digits, unit in ((3, 1_000_000), (6, 1_000)):
        if nanos % unit == 0:
            return "." + str(nanos // unit).zfill(digits)
    return "." + str(nanos).zfill(9)


def format_timestamp(when: datetime, nanos: int, zone: str = "Z") -> str:
    """chrono's RFC 3339 form of a UTC time (`%Y` is four digits, zero-padded)."""
    w = when.astimezone(UTC)
    return (f"{w.year:04d}-{w.month:02d}-{w.day:02d}T{w.hour:02d}:{w.minute:02d}:{w.second:02d}"
            + _auto_si(nanos) + zone)


def hash_timestamp(text: str) -> str:
    """`timestamp.to_rfc3339()`: the hashed form, UTC with `+00:00`."""
    return format_timestamp(*parse_timestamp(text), "+00:00")


def block_hash(prev_hash: bytes, sequence: int, rfc3339: str, content: bytes) -> bytes:
    h = blake3.blake3(bytes(prev_hash))
    h.update(int(sequence).to_bytes(8, "little"))
    h.update(rfc3339.encode())
    h.update(content)
    return h.digest()


# -- reading -----------------------------------------------------------------------------------------

def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _no_repeats(pairs: list) -> dict:
    out = {}
    for k, v in pairs:
        if k in out:
            raise NotABlock(f"duplicate field `{k}`", k)
        out[k] = v
    return out


_STRICT = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_no_repeats)


def _members(text: str) -> dict[str, tuple[Any, int, int]]:
    """Top-level members of a JSON object: key -> (value, start, end) in characters."""
    pos = _WS.match(text, 0).end()
    if text[pos:pos + 1] != "{":
        raise NotABlock("not a JSON object")
    pos = _WS.match(text, pos + 1).end()
    out: dict[str, tuple[Any, int, int]] = {}
    if text[pos:pos + 1] == "}":
        return out
    while True:
        key, pos = json.decoder.scanstring(text, pos + 1) if text[pos:pos + 1] == '"' else (None, pos)
        if key is None:
            raise NotABlock("expected a key")
        pos = _WS.match(text, pos).end()
        if text[pos:pos + 1] != ":":
            raise NotABlock(f"expected ':' after `{key}`", key)
        start = _WS.match(text, pos + 1).end()
        value, end = _STRICT.raw_decode(text, start)
        if key in out:
            raise NotABlock(f"duplicate field `{key}`", key)
        out[key] = (value, start, end)
        pos = _WS.match(text, end).end()
        if text[pos:pos + 1] == "}":
            if _WS.match(text, pos + 1).end() != len(text):
                raise NotABlock("trailing characters after the object")
            return out
        if text[pos:pos + 1] != ",":
            raise NotABlock("expected ',' or '}'")
        pos = _WS.match(text, pos + 1).end()


def read_block(raw: bytes) -> BlockJson:
    """The record's JSON as serde reads a Block; `NotABlock` (naming the member) when it would not."""
    try:
        text = raw.decode("utf-8")
        members = _members(text)
    except NotABlock:
        raise
    except UnicodeDecodeError as exc:
        raise NotABlock(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except (ValueError, RecursionError) as exc:
        raise NotABlock(f"not JSON: {exc}") from None
    ascii_only = text.isascii()

    def to_bytes(i: int) -> int:
        return i if ascii_only else len(text[:i].encode())
    spans = {k: (to_bytes(s), to_bytes(e)) for k, (_, s, e) in members.items()}
    value = {k: v for k, (v, _, _) in members.items()}
    for f in BLOCK_FIELDS:
        problem = check_field(f, value)
        if problem:
            raise NotABlock(problem, f.name, spans[f.name][0] if f.name in spans else None)
    return BlockJson(value, spans, bytes(raw))


def _int(v, top: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= top


def _hash(v) -> bool:
    return isinstance(v, list) and len(v) == HASH_BYTES and all(_int(b, 255) for b in v)


def _canonical_base64(v) -> bool:
    if not isinstance(v, str):
        return False
    try:
        return base64.b64encode(base64.b64decode(v, validate=True)).decode() == v
    except (binascii.Error, ValueError):
        return False


_KINDS = {
    "str": lambda v, f: isinstance(v, str),
    "u32": lambda v, f: _int(v, U32),
    "u64": lambda v, f: _int(v, U64),
    "f32": lambda v, f: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v, f: isinstance(v, bool),
    "hash": lambda v, f: _hash(v),
    "hashes": lambda v, f: isinstance(v, list) and all(_hash(h) for h in v),
    "strs": lambda v, f: isinstance(v, list) and all(isinstance(s, str) for s in v),
    "value": lambda v, f: True,
    "base64": lambda v, f: _canonical_base64(v),
    "enum": lambda v, f: v in f.choices,
}


def check_field(f: JsonField, obj: dict) -> str | None:
    """Why serde would not read `obj[f.name]` as the field's type (None when it would)."""
    if f.name not in obj or (f.optional and obj[f.name] is None):
        return None if f.optional else f"missing field `{f.name}`"
    v = obj[f.name]
    if f.kind == "timestamp":
        try:
            parse_timestamp(v if isinstance(v, str) else "")
        except ValueError as exc:
            return str(exc)
        return None
    if f.kind == "content":
        return _check_content(v)
    if not _KINDS[f.kind](v, f):
        return f"`{f.name}`: {json.dumps(v)[:60]} is not a {f.kind}" + (f" ({', '.join(f.choices)})" if f.choices
                                                                       else "")
    return None


def _check_content(v) -> str | None:
    if not isinstance(v, dict) or v.get(CONTENT_TAG) not in CONTENT_FIELDS:
        return f"content: unknown or missing \"{CONTENT_TAG}\" ({', '.join(CONTENT_FIELDS)})"
    for f in CONTENT_FIELDS[v[CONTENT_TAG]]:
        problem = check_field(f, v)
        if problem:
            return f"content ({v[CONTENT_TAG]}): {problem}"
    return None


# -- writing: serde_json's bytes -----------------------------------------------------------------------

def rust_f32(x: float) -> str:
    """An f32 as serde_json prints it: ryu's f32 form, which takes the exponent form from 10^13 on
    (f64: 10^16); otherwise the same layout as an f64 of the same shortest digits."""
    shortest = float(np.format_float_scientific(np.float32(x), unique=True))
    text = rust_f64(shortest)
    if "e" in text or abs(shortest) < F32_DECIMAL_LIMIT:
        return text
    _, digits, exp = Decimal(repr(abs(shortest))).normalize().as_tuple()
    d = "".join(map(str, digits))
    head = d if len(d) == 1 else f"{d[0]}.{d[1:]}"
    return f"{'-' if shortest < 0 else ''}{head}e{len(d) + exp - 1}"


def _serde_value(f: JsonField, v) -> str:
    if v is None:
        return "null"
    if f.kind == "f32":
        return rust_f32(v) if np.isfinite(np.float32(v)) else "null"
    if f.kind == "content":
        return serde_struct(CONTENT_FIELDS[v[CONTENT_TAG]], v, tag=v[CONTENT_TAG])
    if f.kind == "hash":                       # 32 small integers: the common case, kept cheap
        return "[" + ",".join(map(str, v)) + "]"
    return serde_compact(v)


def serde_struct(fields: tuple[JsonField, ...], obj: dict, tag: str | None = None) -> str:
    """A serde struct (or tagged enum variant) with every field in declaration order."""
    parts = [f'"{CONTENT_TAG}":' + json.dumps(tag, ensure_ascii=False)] if tag is not None else []
    parts += [json.dumps(f.name) + ":" + _serde_value(f, obj.get(f.name)) for f in fields]
    return "{" + ",".join(parts) + "}"


def serde_block(block: dict) -> bytes:
    return serde_struct(BLOCK_FIELDS, block).encode()


def serde_content(content: dict) -> bytes:
    return serde_struct(CONTENT_FIELDS[content[CONTENT_TAG]], content, tag=content[CONTENT_TAG]).encode()


def make_block(prev_hash: bytes, sequence: int, block_type: str, content: dict, when: datetime | None = None,
               nanos: int = 0) -> dict:
    """`Block::new`: the content normalised to its variant's fields (None for a missing Option,
    f32 confidence rounded to f32), `size_bytes` of its JSON, the hash over the `+00:00` time."""
    if block_type not in BLOCK_TYPES:
        raise ValueError(f"block_type {block_type!r}: one of {', '.join(BLOCK_TYPES)}")
    tag = content.get(CONTENT_TAG)
    if tag not in CONTENT_FIELDS:
        raise ValueError(f"content {CONTENT_TAG} {tag!r}: one of {', '.join(CONTENT_FIELDS)}")
    fields = CONTENT_FIELDS[tag]
    unknown = set(content) - {CONTENT_TAG} - {f.name for f in fields}
    if unknown:
        raise ValueError(f"content ({tag}) has no field {', '.join(sorted(unknown))}")
    normal = {CONTENT_TAG: tag, **{f.name: content.get(f.name) for f in fields}}
    for f in fields:
        problem = check_field(f, normal)
        if problem:
            raise ValueError(f"content ({tag}): {problem}")
        if f.kind == "f32" and normal[f.name] is not None:
            normal[f.name] = float(np.float32(normal[f.name]))
    if when is None:                    # Utc::now(), to the nanosecond
        seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
        when = datetime.fromtimestamp(seconds, UTC)
    content_json = serde_content(normal)
    block = {"hash": None, "prev_hash": list(prev_hash), "sequence": sequence,
             "timestamp": format_timestamp(when, nanos), "block_type": block_type, "content": normal,
             "size_bytes": len(content_json)}
    block["hash"] = list(block_hash(prev_hash, sequence, format_timestamp(when, nanos, "+00:00"), content_json))
    return block
