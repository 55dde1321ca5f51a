"""AgenticMemory's MCP transport capture, `transport.wal` (magic `MWAL`, AMEM-WAL.md Part 1): a
format of its own, plugged in without engine changes."""

from __future__ import annotations

from ...errors import FormatError
from ...registry import Detection, Format, register
from .declarations import MAGIC, mwal_entry, mwal_header, mwal_layout
from .document import AmemWalDocument


class AmemWal(Format):
    name = "amem_wal"
    title = "AgenticMemory MCP transport capture (transport.wal, MWAL)"
    extensions = (".wal",)
    priority = 35
    layouts = {"": mwal_layout}
    declarations = {"header": mwal_header, "entry": mwal_entry, "file": mwal_layout.as_construct()}

    def detect(self, data) -> Detection | None:
        if bytes(data[:len(MAGIC)]) != MAGIC:
            return None
        return Detection("amem_wal", None, "AgenticMemory MCP server's JSON-RPC capture (transport.wal)")

    def load(self, data, detection: Detection, *, name: str = "") -> AmemWalDocument:
        try:
            return AmemWalDocument.parse(data, detection, name)
        except FormatError as exc:
            code = exc.code if exc.code.startswith("amem_wal.") else f"amem_wal.{exc.code}"
            what = " (upstream's server refuses to start on a 1-63-byte file)" if exc.path.startswith("header") \
                and exc.code == "truncated" else ""
            raise FormatError(exc.message + what, exc.path, exc.offset, code) from None

    def samples(self) -> dict[str, bytes]:
        doc = AmemWalDocument.new(session_id=bytes(range(16)), created_unix_secs=1700000000)
        doc.append(b'{"jsonrpc":"2.0","id":1,"method":"ping"}', "inbound", 1700000000123456789)
        doc.append(b'{"jsonrpc":"2.0","id":1,"result":{}}', "outbound", 1700000000223456789)
        return {"transport.wal": doc.build()}


register(AmemWal)
