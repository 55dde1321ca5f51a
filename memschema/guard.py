"""Reading through mmap without dying when the file shrinks.

The guarantee: with the `memschema._sigbus` extension (built by `pip install`; optional), no file
change kills the process.  A page read past the new end of a shrunken file raises SIGBUS; the
extension's handler maps a zero page there and counts the fault, the read sees zeros, and the
operation that read the file (`load`, `validate`, `dump`) reports `file_changed` (a `FormatError`,
or an error finding) instead of whatever the zeros decode to.  Faults outside memschema's mappings
are left to the previous handler.

Without the extension, `source.read_source` reads every regular file up to `UNGUARDED_READ_LIMIT`
into memory (a private copy: changes after the read are invisible) and maps only larger ones; those
stay exposed: a process that truncates such a file while memschema reads it can still kill
memschema with SIGBUS.  `AVAILABLE` says which case holds.
"""

from __future__ import annotations

import mmap
import os
import weakref
from dataclasses import dataclass

try:
    from . import _sigbus
except ImportError:   # no compiler when memschema was installed, or not Linux/POSIX
    _sigbus = None

AVAILABLE = _sigbus is not None
UNGUARDED_READ_LIMIT = 1 << 30   # without the extension, regular files up to this size are read, not mapped


@dataclass
class _Mapped:
    path: str
    size: int
    fd: int
    slot: int | None
    ref: weakref.ref


_maps: dict[int, _Mapped] = {}


def _forget(key: int, fd: int, slot: int | None) -> None:
    _maps.pop(key, None)
    if slot is not None:
        _sigbus.unregister(slot)
    try:
        os.close(fd)
    except OSError:
        pass


def map_file(fd: int, size: int, path: str) -> mmap.mmap:
    """A read-only mapping of the first `size` bytes of `fd`, guarded when the extension is there.
    Takes ownership of `fd` (kept open to re-check the file; closed with the mapping)."""
    try:
        mm = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
    except BaseException:
        os.close(fd)
        raise
    slot = None
    if AVAILABLE:
        _sigbus.install()       # again, in case something replaced the handler since
        got = _sigbus.register(mm)
        slot = got if got >= 0 else None
    key = id(mm)
    _maps[key] = _Mapped(path, size, fd, slot, weakref.ref(mm))
    weakref.finalize(mm, _forget, key, fd, slot)
    return mm


def changed(buffer) -> str | None:
    """Why the file behind `buffer` (from `map_file`) is no longer what was mapped, or None
    (also None for buffers that are not mappings)."""
    info = _maps.get(id(buffer))
    if info is None or info.ref() is not buffer:
        return None
    faults = _sigbus.faults(info.slot) if info.slot is not None else 0
    try:
        now = os.fstat(info.fd).st_size
    except OSError:
        now = None
    if faults:
        return (f"the file shrank while it was read ({now if now is not None else '?'} of {info.size} bytes left): "
                f"{faults} page(s) past its new end read as zeros")
    if now is not None and now < info.size:
        return f"the file shrank from {info.size} to {now} bytes while it was read"
    return None
