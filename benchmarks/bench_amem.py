"""AMEM benchmark: open + numpy tables vs numpy.fromfile vs plain construct, content decode, memory,
and an mmap open of a sparse file larger than RAM.

    python benchmarks/bench_amem.py [--nodes 100000] [--edges 500000] [--dim 128] [--huge-gb 0]

Not a pytest test.  Prints timings and ratios; `--huge-gb N` also writes a sparse N-GB file.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import struct
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from construct import Array, Container

import memschema
from memschema.formats.amem import agentic
from memschema.formats.amem.model import Edge, Model, Node
from memschema.formats.amem.writer import write_agentic
from memschema.parsing import build

WORDS = "memory graph agent rust python vector index session decision fact episode skill lz4 cosine".split()


def rss_kb() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def timed(fn, repeat: int = 3):
    best, value = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best, value


def generate(n: int, m: int, dim: int, seed: int = 7) -> Model:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    words = rng.integers(0, len(WORDS), (n, 4))
    nodes = [Node(content=f"node {i}: {' '.join(WORDS[w] for w in words[i])} about topic {i % 97}",
                  event_type=i % 6, session_id=i // 1000, confidence=0.5, created_at=1_767_225_600_000_000 + i,
                  id=i, vector=vectors[i]) for i in range(n)]
    src = np.sort(rng.integers(0, n, m))
    dst = rng.integers(0, n, m)
    edges = [Edge(int(s), int(t), int(k), 0.5, 1_767_225_600_000_000) for s, t, k in
             zip(src, dst, rng.integers(0, 7, m))]
    return Model(dimension=dim, nodes=nodes, edges=edges)


def construct_baseline(raw: bytes, doc, n: int, m: int, dim: int, subset: int) -> tuple[float, bool]:
    """Seconds for plain construct `Array` over the same records, measured on `subset` records
    and extrapolated linearly when the full parse would take minutes."""
    h = doc.header
    k_n, k_m = min(n, subset), min(m, subset)
    k_v = min(n * dim, subset * dim)
    t = time.perf_counter()
    Array(k_n, agentic.node_record).parse(raw[h.node_table_offset:h.node_table_offset + 72 * k_n])
    t_nodes = time.perf_counter() - t
    t = time.perf_counter()
    Array(k_m, agentic.edge_record).parse(raw[h.edge_table_offset:h.edge_table_offset + 32 * k_m])
    t_edges = time.perf_counter() - t
    t = time.perf_counter()
    agentic.feature_vectors.parse(raw[h.feature_vec_offset:h.feature_vec_offset + 4 * k_v])
    t_vec = time.perf_counter() - t
    total = (t_nodes * n / max(k_n, 1) + t_edges * m / max(k_m, 1) + t_vec * (n * dim) / max(k_v, 1))
    return total, (k_n < n or k_m < m)


def huge_sparse(path: Path, gigabytes: float) -> None:
    """A sparse agentic-memory file: 1,000,000 real node records, empty contents, and a vector block
    of `gigabytes` GB that is never written (holes read as zeros = 'no vector')."""
    n = 1_000_000
    dim = max(1, int(gigabytes * 1e9 / (4 * n)))
    node_table = np.zeros(n, dtype=memschema.dtypes.struct_dtype(agentic.node_record))
    node_table["id"] = np.arange(n)
    content_at = 64 + 72 * n
    head = Container(magic=agentic.MAGIC, version=1, dimension=dim, flags=0, node_count=n, edge_count=0,
                     node_table_offset=64, edge_table_offset=content_at, content_block_offset=content_at,
                     feature_vec_offset=content_at)
    index_at = content_at + 4 * dim * n
    with open(path, "wb") as fh:
        fh.write(build(agentic.header, head))
        fh.write(node_table.tobytes())
        fh.seek(index_at)
        for tag, body in ((1, b""), (2, struct.pack("<Q", 0)), (3, struct.pack("<I", 0)),
                          (4, struct.pack("<II", 0, dim))):
            fh.write(build(agentic.index_entry, Container(tag=tag, length=len(body), body=body)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--edges", type=int, default=500_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--subset", type=int, default=5_000, help="records per table for the construct baseline")
    ap.add_argument("--huge-gb", type=float, default=0.0, help="also open a sparse file of this many GB")
    args = ap.parse_args()
    n, m, dim = args.nodes, args.edges, args.dim
    tmp = Path(tempfile.mkdtemp(prefix="bench_amem_"))
    path = tmp / "brain.amem"

    t = time.perf_counter()
    data, _ = write_agentic(generate(n, m, dim))
    path.write_bytes(data)
    print(f"generated {n} nodes, {m} edges, dim {dim}: {len(data) / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s")
    del data
    gc.collect()

    def open_tables():
        doc = memschema.load(path)
        doc.nodes["id"][-1:].sum(), doc.edges["source_id"][-1:].sum(), doc.vectors[-1:].sum()
        return doc
    t_open, doc = timed(open_tables)
    t_fromfile, raw_arr = timed(lambda: np.fromfile(path, dtype=np.uint8))
    raw = raw_arr.tobytes()
    t_bytes_open, _ = timed(lambda: memschema.load(raw))
    t_construct, extrapolated = construct_baseline(raw, doc, n, m, dim, args.subset)
    print(f"open + node/edge/vector tables ready (mmap):  {t_open * 1e3:9.2f} ms")
    print(f"numpy.fromfile of the same {len(raw) / 1e6:.1f} MB:           {t_fromfile * 1e3:9.2f} ms"
          f"   -> open is {t_open / t_fromfile:.2f}x numpy.fromfile")
    print(f"open from bytes already in memory:            {t_bytes_open * 1e3:9.2f} ms")
    print(f"plain construct Array (same Structs):         {t_construct * 1e3:9.0f} ms"
          + (f"   (extrapolated from {args.subset} records per table)" if extrapolated else "")
          + f"   -> open is {t_construct / t_open:.0f}x faster")

    t = time.perf_counter()
    total = sum(len(doc.content(i)) for i in range(doc.node_count))
    t_decode = time.perf_counter() - t
    print(f"full content decode ({doc.node_count} LZ4 blobs, {total / 1e6:.1f} MB text): {t_decode:.2f} s "
          f"({doc.node_count / t_decode:,.0f} nodes/s)")

    t = time.perf_counter()
    q = doc.vectors[0]
    top = doc.similar(q, k=10)
    print(f"top-10 cosine over {n} x {dim}: {(time.perf_counter() - t) * 1e3:.1f} ms (best id {top[0][0]})")
    t = time.perf_counter()
    hits = doc.by_type("skill")
    print(f"by_type (index checked against the nodes, then used): {(time.perf_counter() - t) * 1e3:.1f} ms "
          f"({len(hits)} nodes)")

    del doc
    gc.collect()
    tracemalloc.start()
    before = rss_kb()
    doc = memschema.load(path)
    _ = doc.nodes["id"].max(), doc.edges["target_id"].max(), float(doc.vectors[:, 0].sum())
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"Python heap for open + column scans: peak {peak / 1e6:.2f} MB "
          f"(file {path.stat().st_size / 1e6:.1f} MB); RSS +{(rss_kb() - before) / 1024:.1f} MB "
          "(pages of the columns touched)")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (ru_maxrss, whole run): {maxrss:.0f} MB")
    del doc

    if args.huge_gb:
        big = tmp / "huge.amem"
        huge_sparse(big, args.huge_gb)
        size = big.stat().st_size
        gc.collect()
        before = rss_kb()
        t = time.perf_counter()
        doc = memschema.load(big)
        ready = time.perf_counter() - t
        print(f"sparse file {size / 1e9:.1f} GB ({doc.node_count} nodes, dim {doc.header.dimension}): "
              f"open + tables in {ready * 1e3:.1f} ms, RSS +{(rss_kb() - before) / 1024:.1f} MB; "
              f"free RAM {os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 1e9:.1f} GB")
        print(f"  vector of the last node read through mmap: all zero = {not doc.vectors[-1].any()}, "
              f"RSS +{(rss_kb() - before) / 1024:.1f} MB")
        del doc
        big.unlink()
    path.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
