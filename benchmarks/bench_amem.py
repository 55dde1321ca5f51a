"""AMEM benchmark (issue 12): files written by our own writer at three sizes, each operation as a
ratio to `numpy.fromfile` of the same bytes measured in the same run, and the fixed-size tables
against plain construct parsing of the layout's own declarations.

    python benchmarks/bench_amem.py [--sizes small,base,large] [--huge-gb 32] [--json out.json]

sizes: small = 10k nodes / 50k edges, base = 100k / 500k, large = 1M / 5M, all dimension 128.
`--huge-gb N` also validates a sparse agentic-memory file of N GB (larger than RAM when N is), in a
child process, reporting time and peak RSS.  Not a pytest test: speed is measured here only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from construct import Array, Container

import memschema
from memschema.formats.amem import agentic
from memschema.formats.amem.indexes import cluster_map_body, entry
from memschema.formats.amem.model import Edge, Model, Node
from memschema.formats.amem.writer import write_agentic
from memschema.parsing import build
from memschema.records import serialize_elements

WORDS = "memory graph agent rust python vector index session decision fact episode skill lz4 cosine".split()
SIZES = {"small": (10_000, 50_000), "base": (100_000, 500_000), "large": (1_000_000, 5_000_000)}
DIMENSION = 128

# Validation runs in a fresh process (its peak RSS is its own: VmHWM, which unlike ru_maxrss does
# not carry the parent's size over the fork), after one warm-up on a sample file so that imports
# and compiled patterns are not timed.
CHILD = """
import json, statistics, sys, time
import memschema
from memschema import registry
memschema.validate(registry.get_format("amem").samples()["brain_agentic.amem"])
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    report = memschema.validate(sys.argv[1])
    times.append(time.perf_counter() - t)
seconds = statistics.median(times)
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"seconds": seconds, "ok": report.ok, "findings": len(report.findings),
                  "maxrss_mb": int(status["VmHWM"].split()[0]) / 1024}))
"""


def median_time(fn, repeat: int = 5):
    times, value = [], None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), value


def generate(n: int, m: int, dim: int, seed: int = 7) -> Model:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    words = rng.integers(0, len(WORDS), (n, 4)).tolist()
    nodes = [Node(content=f"node {i}: {' '.join(WORDS[w] for w in words[i])} about topic {i % 97}",
                  event_type=i % 6, session_id=i // 1000, confidence=0.5, created_at=1_767_225_600_000_000 + i,
                  id=i, vector=vectors[i]) for i in range(n)]
    src = np.sort(rng.integers(0, n, m)).tolist()
    dst = rng.integers(0, n, m).tolist()
    kinds = rng.integers(0, 7, m).tolist()
    edges = [Edge(s, t, k, 0.5, 1_767_225_600_000_000) for s, t, k in zip(src, dst, kinds)]
    return Model(dimension=dim, nodes=nodes, edges=edges)


def construct_tables(path: Path, doc, subset: int) -> tuple[float, bool]:
    """Seconds plain construct takes for the node, edge and vector tables (the layout's own section
    declarations, as `Layout.as_construct` applies them), measured on `subset` records each and
    extrapolated linearly when the tables are larger."""
    raw = path.read_bytes()
    total, cut = 0.0, False
    for name in ("nodes", "edges", "vectors"):
        placed = doc.parsed.placed[name]
        count = len(placed.value)
        k = min(count, subset)
        size = placed.itemsize * k
        decl = Array(k, placed.section.decl)
        t = time.perf_counter()
        decl.parse(raw[placed.start:placed.start + size], header=doc.header)
        total += (time.perf_counter() - t) * count / max(k, 1)
        cut |= k < count
    return total, cut


def validate_child(path: Path, repeat: int = 1) -> dict:
    """Validation of `path` in a fresh process: median seconds of `repeat` runs, peak RSS."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(repeat)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(name: str, n: int, m: int, folder: Path, subset: int) -> dict:
    path = folder / f"brain_{name}.amem"
    t = time.perf_counter()
    data, _ = write_agentic(generate(n, m, DIMENSION))
    write_s = time.perf_counter() - t
    path.write_bytes(data)
    size = len(data)
    del data
    gc.collect()
    fromfile, _ = median_time(lambda: np.fromfile(path, dtype=np.uint8))

    def open_tables():
        doc = memschema.load(path)
        _ = doc.nodes["id"][-1], doc.edges["source_id"][-1], doc.vectors[-1, -1]
        return doc
    opened, doc = median_time(open_tables)
    construct_s, extrapolated = construct_tables(path, doc, subset)
    decode, total = median_time(lambda: sum(len(c) for c in memschema.load(path).contents()), 3)
    doc = memschema.load(path)
    first_topk, _ = median_time(lambda: doc.similar(doc.vectors[0], k=10), 1)
    topk, best = median_time(lambda: doc.similar(doc.vectors[1], k=10), 5)
    dump, _ = median_time(lambda: memschema.dump(memschema.load(path)), 3)
    checked = validate_child(path, 3 if n <= SIZES["base"][0] else 1)
    row = {"size": name, "nodes": n, "edges": m, "dimension": DIMENSION, "bytes": size,
           "write_s": write_s, "fromfile_s": fromfile,
           "open_tables_s": opened, "open_tables_x_fromfile": opened / fromfile,
           "construct_tables_s": construct_s, "construct_extrapolated": extrapolated,
           "open_faster_than_construct_x": construct_s / opened,
           "decode_all_s": decode, "decode_all_x_fromfile": decode / fromfile, "content_bytes": total,
           "topk_first_ms": first_topk * 1e3, "topk_ms": topk * 1e3,
           "dump_s": dump, "dump_x_fromfile": dump / fromfile,
           "validate_s": checked["seconds"], "validate_x_fromfile": checked["seconds"] / fromfile,
           "validate_ok": checked["ok"], "validate_peak_rss_mb": checked["maxrss_mb"],
           "validate_rss_over_file_mb": checked["maxrss_mb"] - size / 2**20}
    path.unlink()
    return row


def huge_sparse(path: Path, gigabytes: float, n: int = 100_000) -> None:
    """An agentic-memory file whose vector block (gigabytes GB) is a hole: header, node table,
    contents and index entries come from our writer (written with dimension 0), then the header's
    dimension is raised and the vector block skipped; an all-zero vector is 'no vector'."""
    dim = max(1, int(gigabytes * 2**30 / (4 * n)))
    model = generate(n, 0, 0)
    small = memschema.load(write_agentic(model)[0])
    head = Container({k: v for k, v in small.header.items() if not k.startswith("_")}, dimension=dim)
    entries = [entry(agentic.TAG_CLUSTER, cluster_map_body([], dim)) if e.tag == agentic.TAG_CLUSTER else e
               for e in small.parsed.placed["index"].value]
    with open(path, "wb") as fh:
        fh.write(build(agentic.header, head))
        fh.write(bytes(small.data[small.parsed.placed["nodes"].start:head.feature_vec_offset]))
        fh.seek(head.feature_vec_offset + 4 * dim * n)
        fh.write(serialize_elements(agentic.index_entry, entries, "index"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="small,base", help="comma-separated: small, base, large")
    ap.add_argument("--subset", type=int, default=5_000, help="records per table for the construct baseline")
    ap.add_argument("--huge-gb", type=float, default=0.0, help="also validate a sparse file of this many GB")
    ap.add_argument("--json", help="write the rows as JSON here")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_amem_"))
    rows = []
    for name in args.sizes.split(","):
        n, m = SIZES[name]
        row = measure(name, n, m, folder, args.subset)
        rows.append(row)
        print(f"{name}: {n} nodes, {m} edges, d{DIMENSION}, {row['bytes'] / 1e6:.1f} MB (written in "
              f"{row['write_s']:.1f} s); numpy.fromfile {row['fromfile_s'] * 1e3:.1f} ms")
        print(f"  open + tables ready     {row['open_tables_s'] * 1e3:9.2f} ms  {row['open_tables_x_fromfile']:7.3f}x"
              f"   plain construct {row['construct_tables_s']:.1f} s"
              f"{' (extrapolated)' if row['construct_extrapolated'] else ''}: "
              f"{row['open_faster_than_construct_x']:,.0f}x slower")
        print(f"  all contents decoded    {row['decode_all_s'] * 1e3:9.1f} ms  {row['decode_all_x_fromfile']:7.2f}x")
        print(f"  validate                {row['validate_s'] * 1e3:9.1f} ms  {row['validate_x_fromfile']:7.2f}x"
              f"   peak RSS {row['validate_peak_rss_mb']:.0f} MB (file + {row['validate_rss_over_file_mb']:.0f} MB)"
              f"   ok={row['validate_ok']}")
        print(f"  dump (load + build)     {row['dump_s'] * 1e3:9.1f} ms  {row['dump_x_fromfile']:7.2f}x")
        print(f"  top-10 cosine           {row['topk_ms']:9.1f} ms   (first call, norms included: "
              f"{row['topk_first_ms']:.1f} ms)")
    if args.huge_gb:
        big = folder / "huge.amem"
        huge_sparse(big, args.huge_gb)
        size = big.stat().st_size
        checked = validate_child(big)
        rows.append({"size": "huge_sparse", "bytes": size, "validate_s": checked["seconds"],
                     "validate_ok": checked["ok"], "validate_peak_rss_mb": checked["maxrss_mb"],
                     "ram_bytes": os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")})
        print(f"huge sparse file {size / 2**30:.1f} GiB (RAM {rows[-1]['ram_bytes'] / 2**30:.1f} GiB): validate "
              f"{checked['seconds']:.1f} s, peak RSS {checked['maxrss_mb']:.0f} MB, ok={checked['ok']}, "
              f"{checked['findings']} findings")
        big.unlink()
    folder.rmdir()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
