"""RVF INDEX_SEG benchmark on stores that rvf-node itself indexed (ingest, one query, close): time
to decode the HNSW graph (bulk varint decoding) against parsing the same payload with the construct
declaration alone (the forward `index_payload` parse, measured on the small store), the rvf-node
query that built the index, and recall@10 of memschema's graph search against its exact search.

    python benchmarks/bench_rvf_index.py [--sizes 1500 100000] [--dim 8] [--queries 200] [--keep]

Needs node and @ruvector/rvf-node in .interop/ (as the interop tests install it).  Stores are kept
in benchmarks/out/ with --keep (rvf-node needs minutes to index 100k vectors).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import memschema  # noqa: E402
from memschema.formats.rvf.index_graph import decode_index  # noqa: E402
from memschema.formats.rvf.index_seg import index_payload  # noqa: E402
from memschema.parsing import parse  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_rvf import best_of  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
MODULES = Path(os.environ.get("MEMSCHEMA_RVF_NODE_DIR", ROOT / ".interop")) / "node_modules"

NODE_SCRIPT = r"""
const { RvfDatabase } = require(process.env.RVF_NODE_DIR + '/@ruvector/rvf-node');
const fs = require('fs');
const [path, n, dim] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
let s = 2463534242;                                          // xorshift32: no repeats within a store
const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
const db = RvfDatabase.create(path, { dimension: dim });
const batch = 10000;
for (let start = 0; start < n; start += batch) {
  const m = Math.min(batch, n - start);
  const ids = Array.from({ length: m }, (_, i) => start + i + 1);
  db.ingestBatch(Float32Array.from({ length: m * dim }, rnd), ids);
}
const t0 = process.hrtime.bigint();
db.query(Float32Array.from({ length: dim }, rnd), 10);      // builds the HNSW index
const t1 = process.hrtime.bigint();
db.close();                                                  // persists it as INDEX_SEG
console.log(JSON.stringify({ build_query_s: Number(t1 - t0) / 1e9 }));
"""


def make_store(n: int, dim: int) -> tuple[Path, dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"indexed_{n}x{dim}.rvf"
    if path.exists():
        return path, {"build_query_s": None}
    proc = subprocess.run(["node", "-e", NODE_SCRIPT, str(path), str(n), str(dim)], capture_output=True, text=True,
                          env={**os.environ, "RVF_NODE_DIR": str(MODULES)}, timeout=3600, check=True)
    return path, json.loads(proc.stdout)


def measure(path: Path, queries: int, forward: bool) -> dict:
    doc = memschema.load(path)
    seg = next(s for s in doc.segments if s.type_name == "index")
    decode_s, idx = best_of(lambda: decode_index(doc.data, seg))
    out = {"file_bytes": len(doc.data), "index_payload_bytes": seg.payload_length, "nodes": len(idx.ids),
           "layers": len(idx.layers), "findings": [f.code for f in idx.findings], "decode_s": round(decode_s, 4)}
    if forward:
        parse_s, _ = best_of(lambda: parse(index_payload, doc.data, seg.payload_offset, "index", seg.payload_length),
                             repeat=3)
        out["construct_forward_parse_s"] = round(parse_s, 4)
        out["ratio_decode_vs_construct"] = round(decode_s / parse_s, 3)
    assert doc.index is not None, "the runtime's index did not load"
    rng = np.random.default_rng(3)
    qs = rng.random((queries, doc.dimension), dtype=np.float32)
    t = time.perf_counter()
    exact = [{i for i, _ in doc.search(q, 10)} for q in qs]
    exact_s = (time.perf_counter() - t) / queries
    t = time.perf_counter()
    approx = [{i for i, _ in doc.search(q, 10, exact=False)} for q in qs]
    approx_s = (time.perf_counter() - t) / queries
    out.update(recall_at_10=round(sum(len(a & e) for a, e in zip(approx, exact)) / (10 * queries), 4),
               exact_query_ms=round(exact_s * 1e3, 2), graph_query_ms=round(approx_s * 1e3, 2))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1500, 100000])
    ap.add_argument("--dim", type=int, default=8)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the stores in benchmarks/out/")
    args = ap.parse_args()
    if not (MODULES / "@ruvector" / "rvf-node").is_dir():
        print(f"rvf-node is not installed in {MODULES}: run the interop tests once (they install it)")
        return 1
    results = {}
    for n in args.sizes:
        path, made = make_store(n, args.dim)
        results[n] = {**made, **measure(path, args.queries, forward=n <= 10000)}
        if not args.keep:
            path.unlink()
        print(json.dumps({n: results[n]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
