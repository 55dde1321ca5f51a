"""The Markqant text of a MarkqantText section (smart-tree `src/mem8/format.rs`, MEM8.md Part 4):
a token table (token byte >= 0x80 -> pattern) and the text with each pattern replaced by its token
byte.  Decoding is upstream's `MarkqantEncoder::decode`: a byte below 0x80 is that ASCII character,
any other byte must be a token of the table."""

from __future__ import annotations

from collections.abc import Sequence

from construct import Container, ListContainer

from . import CodecError

FIRST_TOKEN = 0x80   # token bytes: 0x80 .. 0xFF (bytes below are plain ASCII)
LAST_TOKEN = 0xFF


def patterns_of(value) -> dict[int, bytes]:
    """token -> pattern bytes of a parsed `markqant_text` (a later definition of a token wins, as
    inserting into upstream's map would)."""
    return {int(t.token): bytes(t.pattern) for t in value.tokens}


def decode(value) -> str:
    """The text of a parsed `markqant_text` (patterns decoded lossily as UTF-8); `CodecError`
    (offset into `encoded`) for a byte that is neither ASCII nor a token of the table."""
    patterns = patterns_of(value)
    out: list[str] = []
    for i, byte in enumerate(bytes(value.encoded)):
        if byte < FIRST_TOKEN:
            out.append(chr(byte))
            continue
        pattern = patterns.get(byte)
        if pattern is None:
            raise CodecError("markqant_token", f"byte {byte:#04x} is not a token of the section's table", i)
        out.append(pattern.decode("utf-8", "replace"))
    return "".join(out)


def encode(text: str, patterns: Sequence[str] = ()) -> Container:
    """A `markqant_text` value for `text`: `patterns` get the tokens 0x80, 0x81, ... in order; the
    text is encoded greedily, longest pattern first at each position (upstream's `encode`).  Text
    that upstream's decoder could not read back (a non-ASCII character no pattern covers) is refused."""
    if len(patterns) > LAST_TOKEN - FIRST_TOKEN + 1:
        raise ValueError(f"at most {LAST_TOKEN - FIRST_TOKEN + 1} patterns")
    tokens = {p: FIRST_TOKEN + i for i, p in enumerate(patterns)}
    longest = sorted(tokens, key=len, reverse=True)
    out = bytearray()
    pos = 0
    while pos < len(text):
        match = next((p for p in longest if p and text.startswith(p, pos)), None)
        if match is not None:
            out.append(tokens[match])
            pos += len(match)
            continue
        if ord(text[pos]) >= FIRST_TOKEN:
            raise ValueError(f"character {text[pos]!r} at {pos} is not ASCII and no pattern covers it")
        out.append(ord(text[pos]))
        pos += 1
    table = ListContainer(Container(token=t, pattern_len=len(p.encode()), pattern=p.encode())
                          for p, t in tokens.items())
    return Container(token_count=len(table), tokens=table, encoded_len=len(out), encoded=bytes(out))
