"""The writer lock of rvf-runtime (`crates/rvf/rvf-runtime/src/locking.rs`, LOCKS.md Part 3):
`<path>.lock` holding one 104-byte `lock_record` (magic `FLVR`); stale when, on the same host,
the pid is dead and the record is older than 30 s, or, from another host, older than 300 s.
`FlvrRecord` is the record codec the engine's `OwnerRecordLock` applies the rules with."""

from __future__ import annotations

import os
import time
import zlib

from construct import Bytes, Container, Int32ul, Int64ul, Struct

from ...jsonify import to_jsonable
from ...locking import LockName, Owner, OwnerRecordLock
from ...parsing import build, field_offset, parse

LOCK_MAGIC = 0x52564C46      # bytes 46 4C 56 52, 'FLVR'
LOCK_VERSION = 1

lock_record = Struct(
    "magic" / Int32ul * "0x52564C46 (bytes 46 4C 56 52, 'FLVR'); anything else: upstream deletes the lock as invalid",
    "pid" / Int32ul * "process id of the holder (liveness is checked on the same host only)",
    "hostname" / Bytes(64) * "first min(len, 62) bytes of the holder's host name (HOSTNAME, else /etc/hostname "
                             "trimmed, else 'unknown'), then NUL; rest zero",
    "timestamp_ns" / Int64ul * "wall clock at acquisition, ns since the Unix epoch; never refreshed",
    "writer_id" / Bytes(16) * "16 random bytes; release deletes only a lock holding its own id",
    "lock_version" / Int32ul * "1; ignored by upstream",
    "crc32" / Int32ul * "CRC-32 (zlib) of the 100 preceding bytes; written, never verified upstream",
)

RECORD_SIZE = lock_record.sizeof()                    # 104
CRC_COVERS = field_offset(lock_record, "crc32")       # bytes 0x00..0x64
HOST_BYTES = lock_record.hostname.sizeof() - 2        # 62: room for the NUL


def rust_hostname() -> str:
    """`get_hostname()` of locking.rs: $HOSTNAME if set and valid UTF-8 (as is), else
    /etc/hostname trimmed, else 'unknown' (not gethostname(2))."""
    raw = os.environb.get(b"HOSTNAME")
    if raw is not None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        with open("/etc/hostname", encoding="utf-8") as fh:
            return fh.read().strip()
    except (OSError, UnicodeDecodeError):
        return "unknown"


def record_crc(raw: bytes) -> int:
    return zlib.crc32(bytes(raw[:CRC_COVERS]))


def host_text(hostname: bytes) -> str:
    """The stored host name as upstream compares it: up to the first NUL, lossy UTF-8."""
    return bytes(hostname).split(b"\0", 1)[0].decode("utf-8", "replace")


class FlvrRecord:
    """The `lock_record` for `OwnerRecordLock`."""

    size = RECORD_SIZE
    writer_id_size = lock_record.writer_id.sizeof()

    def host(self) -> str:
        return rust_hostname()

    def record(self, pid: int, host: str, timestamp_ns: int, writer_id: bytes) -> bytes:
        name = host.encode("utf-8", "surrogateescape")[:HOST_BYTES]
        fields = Container(magic=LOCK_MAGIC, pid=pid & 0xFFFFFFFF, hostname=name.ljust(64, b"\0"),
                           timestamp_ns=timestamp_ns, writer_id=writer_id, lock_version=LOCK_VERSION, crc32=0)
        fields.crc32 = record_crc(build(lock_record, fields, "lock_record"))
        return build(lock_record, fields, "lock_record")

    def owner(self, raw: bytes) -> Owner | None:
        if len(raw) < RECORD_SIZE:
            return None
        r = parse(lock_record, raw, 0, "lock_record", RECORD_SIZE)
        return Owner(r.magic == LOCK_MAGIC, r.pid, host_text(r.hostname), r.timestamp_ns, bytes(r.writer_id))


WRITER_LOCK = OwnerRecordLock(LockName(suffix=".lock"), FlvrRecord(), same_host_stale=30.0, other_host_stale=300.0)


def lock_record_json(value, data) -> dict:
    """`dump --as rvf.lock_record`: the fields plus what upstream's stale check would see."""
    out = to_jsonable(value)
    out["magic_ok"] = value.magic == LOCK_MAGIC
    out["hostname_text"] = host_text(value.hostname)
    out["crc_ok"] = record_crc(bytes(data[:RECORD_SIZE])) == value.crc32
    out["age_s"] = max(time.time_ns() - value.timestamp_ns, 0) / 1e9
    out["same_host"] = out["hostname_text"] == rust_hostname()
    return out
