"""Decoding layers of the native MEM8 / T8R journals beyond the Structs (MEM8.md 2.4-2.6), one
small module each.  A codec failure is a `CodecError` naming a stable code suffix and the offset
relative to the codec's input; the stores turn it into a `FormatError`/finding with the absolute
offset and field path."""

from __future__ import annotations


class CodecError(ValueError):
    def __init__(self, code: str, message: str, offset: int = 0):
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset
