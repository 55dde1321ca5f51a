"""Changing a brain on disk the way LOCKS.md 2.9 asks a third-party writer to: hold the server's
save lock, read the file as it is now, apply the change to that fresh state, write a temporary
file and rename it over the brain with a later mtime (the server merges on a newer mtime), and
create a new brain without ever replacing one that appeared meanwhile."""

from __future__ import annotations

import os
from collections.abc import Callable

from ...errors import Finding
from ...publish import FileStamp, advance_mtime, create_new
from ...source import atomic_write
from .detect import AGENTIC, SPEC_V1
from .locks import SAVE_LOCK
from .model import Model
from .writer import write_agentic, write_spec


def update(path: str | os.PathLike, change: Callable[[Model], Model | None], *, layout: str = AGENTIC,
           dimension: int = 128, timeout: float | None = None) -> tuple[Model, list[Finding]]:
    """Apply `change` to the brain at `path` under its save lock (`LockHeld` after `timeout`,
    default ~10 s as the server waits) and write the result in the file's own layout.  `change`
    edits the model in place or returns a new one.  A missing file starts as an empty brain of
    `layout` and `dimension`.  Returns the model written and what its layout could not hold."""
    from ...api import load
    with SAVE_LOCK.acquire(path, timeout):
        before = FileStamp.maybe(path)
        stored: dict[int, tuple[str, bytes]] = {}
        if before is None:
            model = Model(dimension=dimension)
        else:
            doc = load(path, format="amem")
            layout = doc.variant
            model = doc.to_model()
            if layout == AGENTIC:      # unchanged contents keep their stored LZ4 blobs
                stored = {id(n): (n.content, doc.blob(i)) for i, n in enumerate(model.nodes)}
        model = change(model) or model
        if layout == SPEC_V1:
            data, findings = write_spec(model)
        else:
            blobs = [stored[id(n)][1] if id(n) in stored and stored[id(n)][0] == n.content else None
                     for n in model.nodes]
            data, findings = write_agentic(model, blobs=blobs)
        if before is None:
            create_new(path, data)
        else:
            atomic_write(path, data)
            advance_mtime(path, before.mtime_ns)
    return model, findings
