"""MEM8 benchmark: seed files and native ST8 journals of three sizes, each operation timed beside
`numpy.fromfile` of the same bytes (and plain construct parsing of the same declarations), peak RSS
per operation measured in a child process; detect and validate of a sparse 20 GiB seed file.

    python benchmarks/bench_mem8.py [--seed-blocks 100000] [--native-records 2000] [--scales 0.1,1,10]
                                    [--only seed,native,put,huge] [--huge-gib 20] [--json out.json]

Not a pytest test.  Prints one table per format (median of 3 warm runs, ratio to numpy.fromfile) and
writes the figures as JSON with `--json`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import memschema
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native_store import Wave, record_pairs
from memschema.formats.mem8.seed import seed_block, seed_header, seed_layout
from memschema.records import table

WORDS = [f"{w}{i}" for i in range(50) for w in ("wave", "memory", "tree", "rust", "path", "node")]


def median_time(fn, repeat: int = 3):
    times, value = [], None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), value


def fromfile(path: Path) -> float:
    return median_time(lambda: np.fromfile(path, dtype=np.uint8))[0]


def child_peak_rss_mb(code: str, path: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `code` run in a fresh interpreter with `path` as `P`.  The peak
    is the child's own VmHWM (ru_maxrss would also count the parent's pages the fork copied)."""
    script = f"import time, memschema\nP = {str(path)!r}\nt = time.perf_counter()\n{code}\n" \
             "s = time.perf_counter() - t\n" \
             "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0].split()[1]\n" \
             "print(s, hwm)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    seconds, hwm_kb = out.stdout.split()[-2:]
    return float(seconds), int(hwm_kb) / 1024


# -- files ---------------------------------------------------------------------------------------

def write_seed(path: Path, blocks: int, seed: int = 1) -> None:
    """`blocks` seed blocks of random-word content (100..4024 bytes), written through the layout."""
    rng = random.Random(seed)
    header = {"block_count": blocks}
    with open(path, "wb") as fh:
        fh.write(seed_layout.build({"header": header, "blocks": table(seed_block, [])})[:seed_header.sizeof()])
        step = 10_000
        for lo in range(0, blocks, step):
            rows = []
            for i in range(lo, min(blocks, lo + step)):
                text = " ".join(rng.choices(WORDS, k=rng.randint(10, 500))).encode()[:4024]
                rows.append({"index": i, "wave_signature": bytes(16), "timestamp": 1_700_000_000_000_000 + i,
                             "importance": rng.randint(0, 65535), "content_len": len(text),
                             "content_area": text.ljust(4024, b"\0")})
            fh.write(table(seed_block, rows).tobytes())


def write_native(path: Path, records: int, seed: int = 2) -> None:
    """`records` ST8 records of random-word text (about 12 KB raw, 1.4 pairs per record), puts and forgets."""
    rng = random.Random(seed)
    with open(path, "wb") as fh:
        for i in range(records):
            key = f"dir/{i % (records // 2 or 1)}.md"
            if i % 10 == 9:
                fh.write(record_pairs(key, bincode.NONE, tombstoned=True))
                continue
            text = " ".join(rng.choices(WORDS, k=rng.randint(800, 2600))).encode()
            fh.write(record_pairs(key, bincode.encode_bytes(text), Wave(440.0, 0.1, 0.5)))


def huge_seed(path: Path, gib: float) -> None:
    """A sparse seed file of `gib` GiB: a real header (block_count = the blocks the size holds) and
    ten real blocks; the rest are holes (zero blocks)."""
    size = int(gib * (1 << 30))
    blocks = (size - seed_header.sizeof()) // seed_block.sizeof()
    small = path.with_suffix(".head")
    write_seed(small, 10)
    head = bytearray(small.read_bytes())
    small.unlink()
    head[:seed_header.sizeof()] = seed_layout.build({"header": {"block_count": blocks},
                                                     "blocks": table(seed_block, [])})[:seed_header.sizeof()]
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(seed_header.sizeof() + blocks * seed_block.sizeof())


# -- measurements --------------------------------------------------------------------------------

def construct_seconds(path: Path, subset: int) -> float:
    """Plain construct parsing of the seed layout (`as_construct`), extrapolated from `subset` blocks."""
    raw = path.read_bytes()
    n = (len(raw) - seed_header.sizeof()) // seed_block.sizeof()
    k = min(n, subset)
    part = raw[:seed_header.sizeof() + k * seed_block.sizeof()]
    t = time.perf_counter()
    seed_layout.as_construct().parse(part)
    return (time.perf_counter() - t) * n / max(k, 1)


def bench_seed(path: Path, blocks: int) -> dict:
    write_seed(path, blocks)
    base = fromfile(path)

    def load():
        doc = memschema.load(path)
        doc.blocks.content_len[-1:].sum()
        return doc

    def read_all():   # what upstream's read_backwards() returns: every block's content, most recent first
        doc = memschema.load(path)
        return doc.contents(doc.backwards_order())

    t_load, _ = median_time(load)
    t_read, contents = median_time(read_all)
    t_validate, report = median_time(lambda: memschema.validate(path), repeat=1)
    _, rss = child_peak_rss_mb("memschema.validate(P)", path)
    out = {"bytes": path.stat().st_size, "blocks": blocks, "fromfile_s": base, "load_s": t_load,
           "load_read_all_s": t_read, "validate_s": t_validate, "validate_peak_rss_mb": rss,
           "construct_s": construct_seconds(path, 5000), "validate_ok": report.ok}
    assert len(contents) == blocks
    return out


def bench_native(path: Path, records: int) -> dict:
    write_native(path, records)
    base = fromfile(path)

    def load_decode():
        doc = memschema.load(path)
        return doc, len(doc.live())

    t_load, (doc, live) = median_time(load_decode)
    t_validate, report = median_time(lambda: memschema.validate(path), repeat=1)
    _, rss = child_peak_rss_mb("memschema.validate(P)", path)
    return {"bytes": path.stat().st_size, "records": records, "live_keys": live, "fromfile_s": base,
            "load_decode_s": t_load, "validate_s": t_validate, "validate_peak_rss_mb": rss,
            "validate_ok": report.ok}


def bench_put(path: Path) -> dict:
    """Cost of one put() (queued) and of put + commit on an existing journal."""
    from memschema.formats.mem8.native_store import open_store
    doc = open_store(path)
    value = bincode.encode_string("a small value")
    t = time.perf_counter()
    for i in range(20):
        doc.put(f"new/{i}", value)
    t_put = (time.perf_counter() - t) / 20
    t = time.perf_counter()
    doc.commit(path)
    t_commit = time.perf_counter() - t
    return {"journal_bytes": path.stat().st_size, "put_s": t_put, "commit_20_s": t_commit}


def bench_huge(path: Path, gib: float, validate: bool) -> dict:
    huge_seed(path, gib)
    t_detect, rss_detect = child_peak_rss_mb("print(memschema.detect(P))", path)
    out = {"bytes": path.stat().st_size, "detect_s": t_detect, "detect_peak_rss_mb": rss_detect}
    if validate:
        t_val, rss_val = child_peak_rss_mb("r = memschema.validate(P); print(r.ok, len(r.findings))", path)
        out.update(validate_s=t_val, validate_peak_rss_mb=rss_val)
    return out


def _row(name: str, r: dict, keys: list[str]) -> str:
    cells = [f"{r[k]:.3f} s ({r[k] / r['fromfile_s']:.1f}x)" for k in keys]
    return f"| {name} | {r['bytes'] / 1e6:.1f} MB | {r['fromfile_s']:.3f} s | " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed-blocks", type=int, default=100_000)
    ap.add_argument("--native-records", type=int, default=2000)
    ap.add_argument("--scales", default="0.1,1,10")
    ap.add_argument("--only", default="seed,native,put,huge")
    ap.add_argument("--huge-gib", type=float, default=20.0)
    ap.add_argument("--huge-validate", action="store_true", help="also validate the sparse huge file")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    only = set(args.only.split(","))
    scales = [float(s) for s in args.scales.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench_mem8_"))
    results: dict = {"seed": [], "native": [], "put": None, "huge": None}
    try:
        for scale in scales:
            if "seed" in only:
                r = bench_seed(tmp / "seed.m8", int(args.seed_blocks * scale))
                results["seed"].append(r)
                print(_row("seed", r, ["load_s", "load_read_all_s", "validate_s"]),
                      f"construct {r['construct_s']:.1f} s, validate peak RSS {r['validate_peak_rss_mb']:.0f} MB",
                      flush=True)
                (tmp / "seed.m8").unlink()
            if "native" in only:
                r = bench_native(tmp / "native.m8", int(args.native_records * scale))
                results["native"].append(r)
                print(_row("native", r, ["load_decode_s", "validate_s"]),
                      f"validate peak RSS {r['validate_peak_rss_mb']:.0f} MB", flush=True)
                if "put" in only and scale == max(scales):
                    results["put"] = bench_put(tmp / "native.m8")
                    print("put:", results["put"], flush=True)
                (tmp / "native.m8").unlink()
        if "huge" in only:
            results["huge"] = bench_huge(tmp / "huge.m8", args.huge_gib, args.huge_validate)
            print("huge seed:", results["huge"], flush=True)
            (tmp / "huge.m8").unlink()
    finally:
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
