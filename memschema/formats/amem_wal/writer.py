"""Writing `transport.wal` safely although upstream takes no lock (LOCKS.md Part 4).

Every MCP stdio server with capture on keeps the file open for its whole life and appends with
`seek(END)` + `write`; a server starting up truncates whatever its scan does not accept.  So a
third-party write is only safe while no server has the file open.  Before writing, memschema
looks for other processes holding the file (`/proc/<pid>/fd`, Linux); it refuses when one does,
and also when it cannot know (no `/proc`, or processes of other users it may not inspect) unless
the caller states that no server runs (`assume_no_server=True`).  A server that starts after the
check can still race the write: appends are one `write` + `fsync` of whole entries
(`append_safely`), which a starting server either reads whole or cuts off as a torn tail.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


class ServerMayBeWriting(RuntimeError):
    """Another process has the file open (or memschema cannot tell): writing could lose entries."""


def holders(path: str | os.PathLike) -> list[int] | None:
    """Ids of the other processes that have `path` open, [] if none, None if that cannot be known."""
    try:
        target = os.stat(path)
    except FileNotFoundError:
        return []
    if not (PROC / "self" / "fd").is_dir():
        return None
    me, found, unknown = os.getpid(), [], False
    for entry in os.scandir(PROC):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fds = os.scandir(PROC / entry.name / "fd")
        except FileNotFoundError:
            continue                     # exited meanwhile
        except PermissionError:
            unknown = True
            continue
        with fds:
            for fd in fds:
                try:
                    st = os.stat(fd.path)
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                    found.append(int(entry.name))
                    break
    if found:
        return found
    return None if unknown else []


def ensure_no_server(path: str | os.PathLike, assume_no_server: bool = False) -> None:
    """Raise `ServerMayBeWriting` unless no other process has `path` open."""
    found = holders(path)
    if found:
        raise ServerMayBeWriting(f"{os.fspath(path)} is open in process {', '.join(map(str, found))}: an MCP "
                                 "server may be appending to it; stop it (or point AMEM_TRANSPORT_WAL_DIR "
                                 "elsewhere) before writing")
    if found is None and not assume_no_server:
        raise ServerMayBeWriting(f"cannot tell whether another process has {os.fspath(path)} open (no /proc, or "
                                 "processes memschema may not inspect); stop every MCP server that captures to "
                                 "it and pass assume_no_server=True")
