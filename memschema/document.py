"""The object `load` returns: the decoded file, its findings, and the way back to bytes."""

from __future__ import annotations

import os
from typing import Any

from .budget import meter_for
from .errors import Finding
from .registry import Detection
from .source import atomic_write


class Document:
    """A decoded memory file.  Formats subclass it; the engine relies only on this interface.

    - `fields`: the parsed declaration tree (construct Containers / numpy tables),
    - `to_json()`: every field plus derived keys, by the JSON conventions of `jsonify`,
    - `build()`: the bytes of the document as it is now (untouched: the bytes it was loaded from),
    - `check(strict)`: the findings the Structs cannot express,
    - `summary()`: lines for `memschema inspect`,
    - `meter`: the decoding budget of the file (`memschema.budget`); lazy decoders charge it.
    """

    def __init__(self, detection: Detection, data: Any = b"", source: str = ""):
        self.detection = detection
        self.data = data
        self.source = source
        self.fields: Any = None
        self.meter = meter_for(data)

    @property
    def format(self) -> str:
        return self.detection.format

    @property
    def variant(self) -> str | None:
        return self.detection.variant

    def to_json(self) -> dict:
        raise NotImplementedError

    def json_stream(self) -> dict:
        """`to_json()` for streaming output (`jsonify.write_json`): formats whose records can be
        large return `jsonify.Stream`s and `Hex`es here, produced one record at a time."""
        return self.to_json()

    def build(self) -> bytes:
        raise NotImplementedError

    def check(self, strict: bool = False) -> list[Finding]:
        return []

    def summary(self) -> list[str]:
        return [f"{self.detection}"]

    def save(self, path: str | os.PathLike) -> None:
        atomic_write(path, self.build())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.detection.id} from {self.source or '<bytes>'}>"
