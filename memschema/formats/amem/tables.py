"""What both `.amem` layouts share once loaded: node and edge records as zero-copy numpy tables
(dtypes derived from the record declarations), addressed and parsed through those declarations."""

from __future__ import annotations

from typing import ClassVar

import construct
import numpy as np
from construct import Container

from ...document import Document
from ...dtypes import table
from ...errors import FormatError
from ...parsing import field_offset, parse


class AmemTables(Document):
    """Subclasses set the record declarations and where the two tables start."""

    node_decl: ClassVar[construct.Construct]
    edge_decl: ClassVar[construct.Construct]
    node_table_offset: int
    edge_table_offset: int
    nodes: np.ndarray

    def _table(self, decl, offset: int, count: int, path: str) -> np.ndarray:
        try:
            return table(decl, self.data, offset, count, path)
        except FormatError as exc:
            raise FormatError(exc.message, path, exc.offset, "amem.truncated") from None

    @property
    def node_count(self) -> int:
        return len(self.nodes)

    def node_offset(self, i: int, field: str | None = None) -> int:
        at = self.node_table_offset + self.node_decl.sizeof() * i
        return at + (field_offset(self.node_decl, field) if field else 0)

    def edge_offset(self, j: int, field: str | None = None) -> int:
        at = self.edge_table_offset + self.edge_decl.sizeof() * j
        return at + (field_offset(self.edge_decl, field) if field else 0)

    def record(self, i: int) -> Container:
        """Node record `i` parsed by its declaration (enum names, declared field names)."""
        return parse(self.node_decl, self.data, self.node_offset(i), f"nodes[{i}]", self.node_decl.sizeof())

    def edge_record(self, j: int) -> Container:
        return parse(self.edge_decl, self.data, self.edge_offset(j), f"edges[{j}]", self.edge_decl.sizeof())
