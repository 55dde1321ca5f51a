"""AgenticMemory transport capture (`transport.wal`) and V3 `immortal.log`: load, upstream's scan and
validation, as ratios to `numpy.fromfile` of the same bytes and to plain construct parsing of the
whole-file layout (`layout.as_construct()`), measured in the same run.

    python benchmarks/bench_amem_logs.py [--entries 100000] [--blocks 10000]

Not a pytest test.  Prints timings and ratios.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from bench_amem import timed  # benchmarks/ is on sys.path when this script runs

import memschema
from memschema.formats.amem_log.declarations import immortal_layout
from memschema.formats.amem_log.document import ImmortalLogDocument
from memschema.formats.amem_wal.declarations import mwal_layout
from memschema.formats.amem_wal.document import AmemWalDocument


def wal_bytes(n: int) -> bytes:
    doc = AmemWalDocument.new(bytes(range(16)), 1700000000)
    for i in range(n):
        body = b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"memory_query","q":"%s"}}' % (
            i, b"x" * (i % 200))
        doc.append(body, ("inbound", "outbound")[i % 2], 1700000000000000000 + i)
    return doc.build()


def log_bytes(n: int) -> bytes:
    doc = ImmortalLogDocument.new()
    when = datetime(2026, 2, 25, 12, tzinfo=UTC)
    for i in range(n):
        doc.append(("user_message", "assistant_message")[i % 2],
                   {"type": "text", "text": f"message {i} " + "y" * (i % 300), "role": "user"}, when, i)
    return doc.build()


def report(label: str, path: Path, layout, work: dict) -> None:
    size = path.stat().st_size
    t_np, _ = timed(lambda: np.fromfile(path, dtype=np.uint8))
    whole = layout.as_construct()
    t_construct, _ = timed(lambda: whole.parse(path.read_bytes()), repeat=1)
    print(f"\n{label}: {size / 1e6:.1f} MB")
    print(f"  numpy.fromfile            {t_np * 1e3:9.1f} ms   1.0x")
    print(f"  construct (as_construct)  {t_construct * 1e3:9.1f} ms   {t_construct / t_np:7.1f}x fromfile")
    for name, fn in work.items():
        t, _ = timed(fn, repeat=1)
        print(f"  {name:25} {t * 1e3:9.1f} ms   {t / t_np:7.1f}x fromfile   {t / t_construct:5.2f}x construct")


def work(path: Path, label: str, attribute: str) -> dict:
    return {"memschema.load": lambda: memschema.load(path),
            f"load + {label}": lambda: getattr(memschema.load(path), attribute),
            "memschema.validate": lambda: memschema.validate(path)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--blocks", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wal = Path(tmp) / "transport.wal"
        wal.write_bytes(wal_bytes(args.entries))
        report(f"transport.wal, {args.entries} entries", wal, mwal_layout, work(wal, "recovery scan", "recovery"))
        log = Path(tmp) / "immortal.log"
        log.write_bytes(log_bytes(args.blocks))
        report(f"immortal.log, {args.blocks} blocks", log, immortal_layout, work(log, "chain", "chain"))


if __name__ == "__main__":
    main()
