"""RVF benchmark: a runtime store of 1,000,000 vectors of dimension 128 in 100 VEC segments,
written by memschema's writer; in one run, time to the live-vector matrix vs `numpy.fromfile` of
the same bytes (target: within 2x) and vs rvf-node opening the file (when installed).

    python benchmarks/bench_rvf.py [--vectors N] [--segments S] [--dim D] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import memschema  # noqa: E402
from memschema.formats.rvf.writer import StoreWriter  # noqa: E402

NODE_SCRIPT = r"""
const { RvfDatabase } = require(process.env.RVF_NODE_DIR + '/@ruvector/rvf-node');
const t0 = process.hrtime.bigint();
const db = RvfDatabase.openReadonly(process.argv[1]);
const st = db.status();
const t1 = process.hrtime.bigint();
let hits = [null];
if (process.argv[2] === 'query') {  // the first query builds rvf-node's index: minutes at 1M vectors
  hits = db.query(new Float32Array(db.dimension()).fill(0.5), 10);
}
const t2 = process.hrtime.bigint();
db.close();
console.log(JSON.stringify({open_s: Number(t1 - t0) / 1e9, query_s: Number(t2 - t1) / 1e9,
                            totalVectors: st.totalVectors, currentEpoch: st.currentEpoch, top: hits[0]}));
"""


def write_store(path: Path, n: int, segments: int, dim: int) -> None:
    writer = StoreWriter(dimension=dim, metric="l2")
    rng = np.random.default_rng(0)
    per = n // segments
    with open(path, "wb") as fh:
        fh.write(writer.create())
        for s in range(segments):
            ids = np.arange(s * per, (s + 1) * per, dtype=np.uint64) + 1
            fh.write(writer.ingest(ids, rng.random((per, dim), dtype=np.float32)))


def best_of(func, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--vectors", type=int, default=1_000_000)
    p.add_argument("--segments", type=int, default=100)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--node-query", action="store_true",
                   help="also time rvf-node's first query (it builds an index: ~165 s at 100k vectors)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_rvf_"))
    path = tmp / "bench.rvf"
    try:
        t = time.perf_counter()
        write_store(path, args.vectors, args.segments, args.dim)
        print(f"write: {args.vectors} x {args.dim} in {args.segments} VEC segments, "
              f"{path.stat().st_size / 1e6:.0f} MB, {time.perf_counter() - t:.2f} s")

        def to_matrix():
            doc = memschema.load(path)
            return doc.ids, doc.matrix

        def fromfile():
            return np.fromfile(path, dtype=np.uint8)

        fromfile()   # warm the page cache for both
        t_ms, (ids, matrix) = best_of(to_matrix)
        t_np, raw = best_of(fromfile)
        assert matrix.shape == (args.vectors, args.dim) and matrix.dtype == np.float32
        print(f"memschema load -> ids + float32 matrix: {t_ms:.3f} s")
        print(f"numpy.fromfile of the same {raw.nbytes / 1e6:.0f} MB: {t_np:.3f} s")
        print(f"ratio memschema / fromfile: {t_ms / t_np:.2f}x (target <= 2x)")
        t_val, report = best_of(lambda: memschema.validate(path), 1)
        print(f"memschema validate (all hashes, directory, witnesses): {t_val:.3f} s, ok={report.ok}")

        modules = Path(os.environ.get("MEMSCHEMA_RVF_NODE_DIR", ROOT / ".interop")) / "node_modules"
        if shutil.which("node") and (modules / "@ruvector" / "rvf-node").is_dir():
            t = time.perf_counter()
            argv = ["node", "-e", NODE_SCRIPT, str(path)] + (["query"] if args.node_query else [])
            out = subprocess.run(argv, capture_output=True, text=True,
                                 env={**os.environ, "RVF_NODE_DIR": str(modules)})
            wall = time.perf_counter() - t
            if out.returncode == 0:
                r = json.loads(out.stdout)
                query = f"first query k=10: {r['query_s']:.3f} s, " if args.node_query else ""
                print(f"rvf-node openReadonly+status: {r['open_s']:.3f} s, {query}"
                      f"process wall {wall:.3f} s; totalVectors={r['totalVectors']} epoch={r['currentEpoch']}")
                print(f"ratio memschema / rvf-node open: {t_ms / r['open_s']:.2f}x")
                assert r["totalVectors"] == len(ids)
            else:
                print(f"rvf-node failed: {out.stderr.strip()[:500]}")
        else:
            print("rvf-node not installed: skipped (npm install --prefix .interop @ruvector/rvf-node@0.2.3)")
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
