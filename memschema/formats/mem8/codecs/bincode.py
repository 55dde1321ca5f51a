"""bincode 1 with varint integers (`DefaultOptions().with_varint_encoding()`, MEM8.md 2.6 steps 3-4).

varint: < 251 one byte; 251 + u16 LE; 252 + u32 LE; 253 + u64 LE.  The journal's
`Record { key: String, value: Vec<u8> }` is `varint(len) key_utf8 varint(len) value`; `value` is
itself the bincode of the stored value (`None` = `00`, `Some(x)` = `01` + x, a `Vec<u8>` or
`String` = varint length + bytes)."""

from __future__ import annotations

from . import CodecError

LIMIT = 64 << 20            # bincode size limit of the journal
_WIDE = {251: 2, 252: 4, 253: 8}
NONE = b"\x00"


def encode_varint(value: int) -> bytes:
    if value < 251:
        return bytes([value])
    for tag, width in _WIDE.items():
        if value < 1 << (8 * width):
            return bytes([tag]) + value.to_bytes(width, "little")
    raise ValueError(f"{value} does not fit a u64 varint")


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it)."""
    if pos >= len(data):
        raise CodecError("bincode", "record ends before a length", pos)
    tag = data[pos]
    if tag < 251:
        return tag, pos + 1
    width = _WIDE.get(tag)
    if width is None:
        raise CodecError("bincode", f"invalid varint tag {tag}", pos)
    if pos + 1 + width > len(data):
        raise CodecError("bincode", "record ends inside a varint", pos)
    return int.from_bytes(data[pos + 1:pos + 1 + width], "little"), pos + 1 + width


def encode_bytes(value: bytes) -> bytes:
    """A `Vec<u8>` / `&[u8]`."""
    return encode_varint(len(value)) + bytes(value)


def encode_string(value: str) -> bytes:
    return encode_bytes(value.encode("utf-8"))


def encode_some(inner: bytes) -> bytes:
    return b"\x01" + inner


def _sized(data: bytes, pos: int, what: str) -> tuple[bytes, int]:
    length, pos = decode_varint(data, pos)
    if length > LIMIT or pos + length > len(data):
        raise CodecError("bincode", f"{what} length {length} runs past the {len(data)}-byte record", pos)
    return bytes(data[pos:pos + length]), pos + length


def decode_bytes(data: bytes, pos: int = 0) -> tuple[bytes, int]:
    return _sized(data, pos, "byte string")


def encode_record(key: str, value: bytes) -> bytes:
    return encode_string(key) + encode_bytes(value)


def decode_record(data) -> tuple[str, bytes]:
    """`Record {key, value}` from bytes or a memoryview; no trailing bytes allowed."""
    if len(data) > LIMIT:
        raise CodecError("bincode", f"record of {len(data)} bytes exceeds the {LIMIT}-byte limit", 0)
    raw_key, pos = _sized(data, 0, "key")
    try:
        key = raw_key.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError("bincode", f"key is not UTF-8: {exc.reason}", exc.start) from None
    value, pos = _sized(data, pos, "value")
    if pos != len(data):
        raise CodecError("trailing_bytes", f"{len(data) - pos} bytes after the record", pos)
    return key, value
