"""memschema benchmarks: every format and variant, in one command.

    python benchmarks/run.py [--scale small,default] [--only amem,rvf] [--repeat 3] [--publish]

For each case of `cases.py` and each scale it writes a file with memschema's own writers (kept in
`benchmarks/out/files/` between runs), then measures, each in a fresh subprocess (peak RSS is that
process's own): `numpy.fromfile` of the file (the baseline), detect, open (all fixed-size tables
ready), full decode, validate, dump, one write/append, and plain construct parsing the format's
layout (`Layout.as_construct()`; on files over 64 MiB it is measured on the small scale and
extrapolated by size, marked `~`).  Times are medians of `--repeat` runs (more, up to 200, until
0.25 s have passed) with a warm cache, after untimed runs for 0.1 s (at least one) in the same
process (the baseline: of at least 3 × `--repeat` runs), the same rule for every operation; ratios
are to `numpy.fromfile` of the same bytes in the same run.  Results: `benchmarks/out/results.json` and
`results.md`; `--publish` copies the Markdown to `docs/benchmarks.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "out"
CONSTRUCT_LIMIT = 64 << 20
WARM_SECONDS = 0.1     # untimed calls (at least one) until this long has passed
TIMED_SECONDS = 0.25   # timed calls: at least the repeat count, more until this long has passed
MAX_CALLS = 200
OPS = ("fromfile", "detect", "open", "decode", "validate", "dump", "write", "construct")


# --- one measurement, in a child process --------------------------------------------------------------

def _op(op: str, case_id: str, path: str):
    import numpy as np
    from cases import CASES

    import memschema
    case = next(c for c in CASES if c.id == case_id)
    if op == "fromfile":
        return lambda: np.fromfile(path, dtype=np.uint8)
    if op == "detect":
        return lambda: memschema.detect(path)
    if op == "open":
        def open_tables():
            doc = memschema.load(path)
            if doc.parsed is not None:
                for placed in doc.parsed.placed.values():
                    len(placed.value) if hasattr(placed.value, "__len__") else None
            return doc
        return open_tables
    if op == "decode":
        return lambda: case.decode(memschema.load(path))
    if op == "validate":
        return lambda: memschema.validate(path)
    if op == "dump":
        return lambda: memschema.dump(memschema.load(path))
    if op == "construct":
        fmt_name, _, variant = case_id.partition("/")
        fmt = memschema.registry.get_format(fmt_name)
        layout = fmt.layout_for(variant.split("-")[0] if fmt_name == "rvf" else (variant or None))
        decl = layout.as_construct()
        return lambda: decl.parse_file(path)
    raise ValueError(op)


def child(op: str, case_id: str, path: str, repeat: int) -> None:
    from cases import CASES
    times = []
    if op == "write":
        case = next(c for c in CASES if c.id == case_id)
        for _ in range(repeat):
            with tempfile.TemporaryDirectory(dir=OUT) as tmp:
                copy = Path(tmp) / Path(path).name
                shutil.copyfile(path, copy)
                t = time.perf_counter()
                case.write(copy)
                times.append(time.perf_counter() - t)
    else:
        fn = _op(op, case_id, path)
        if op != "construct":
            # untimed: the first call imports the format's modules; calls of a millisecond or less
            # take a few more to settle (allocator, page tables, decoding threads), whatever the op
            start = time.perf_counter()
            fn()
            while time.perf_counter() - start < WARM_SECONDS:
                fn()
        start = time.perf_counter()
        while len(times) < repeat or (op != "construct" and len(times) < MAX_CALLS
                                      and time.perf_counter() - start < TIMED_SECONDS):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    print(json.dumps({"seconds": statistics.median(times), "rss_kb": _peak_kb()}))


def _peak_kb() -> int:
    """This process's peak RSS.  Linux's ru_maxrss survives fork + exec (a child of a parent that
    made a 400 MB file would report the parent's peak), VmHWM starts again with the new program."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(op: str, case_id: str, path: Path, repeat: int, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", op, case_id, str(path), str(repeat)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the run -------------------------------------------------------------------------------------------

def make_file(case, scale: str) -> Path:
    params = case.scales[scale]
    files = OUT / "files"
    files.mkdir(parents=True, exist_ok=True)
    tag = "_".join(f"{k}{v}" for k, v in params.items())
    path = files / f"{case.id.replace('/', '_')}-{tag}.bin"
    if not path.exists():
        tmp = path.with_suffix(".part")
        case.make(tmp, **params)
        tmp.replace(path)
    return path


def run(scales: list[str], only: list[str] | None, repeat: int, timeout: float) -> list[dict]:
    from cases import CASES
    rows = []
    for case in CASES:
        if only and not any(case.id.startswith(o) for o in only):
            continue
        for scale in scales:
            if scale not in case.scales:
                continue
            t = time.perf_counter()
            path = make_file(case, scale)
            row = {"case": case.id, "scale": scale, "params": case.scales[scale], "bytes": path.stat().st_size,
                   "make_seconds": round(time.perf_counter() - t, 2)}
            for op in OPS:
                if op == "write" and case.write is None:
                    continue
                if op == "construct" and row["bytes"] > CONSTRUCT_LIMIT:
                    continue
                row[op] = measure(op, case.id, path, _repeats(op, repeat), timeout)
            rows.append(row)
            print(_line(row), flush=True)
    _extrapolate_construct(rows)
    return rows


def _repeats(op: str, repeat: int) -> int:
    """Plain construct runs once (minutes on large files); the baseline, cheap and the noisiest
    (whether the kernel backs numpy's buffer with huge pages varies from process to process), runs
    three times as often so that its median holds still."""
    return 1 if op == "construct" else 3 * repeat if op == "fromfile" else repeat


def _extrapolate_construct(rows: list[dict]) -> None:
    for row in rows:
        if "construct" in row:
            continue
        known = [r for r in rows if r["case"] == row["case"] and "seconds" in r.get("construct", {})]
        if known:
            ref = max(known, key=lambda r: r["bytes"])
            row["construct"] = {"seconds": ref["construct"]["seconds"] * row["bytes"] / ref["bytes"],
                                "extrapolated": True}


def ratio(row: dict, op: str) -> str:
    base = row.get("fromfile", {}).get("seconds")
    got = row.get(op, {})
    if "error" in got:
        return "error"
    if not base or "seconds" not in got:
        return "–"
    return f"{got['seconds'] / base:.2f}×"


def _secs(row: dict, op: str) -> str:
    got = row.get(op, {})
    if "error" in got:
        return f"error: {got['error']}"
    if "seconds" not in got:
        return "–"
    return ("~" if got.get("extrapolated") else "") + f"{got['seconds']:.4g} s"


def _line(row: dict) -> str:
    return f"{row['case']:24} {row['scale']:8} {row['bytes'] / 2**20:9.1f} MiB  " + "  ".join(
        f"{op} {_secs(row, op)} ({ratio(row, op)})" for op in OPS if op in row)


def markdown(rows: list[dict]) -> str:
    out = ["# Benchmarks", "",
           "Generated by `python benchmarks/run.py` (see its docstring). Times are medians with a warm cache, "
           "of at least `--repeat` runs (up to 200 within 0.25 s) after 0.1 s of untimed runs (at least one) in "
           "the measuring process, the same rule for every operation and the baseline; "
           "the ratio in parentheses is to `numpy.fromfile` of the same file in the same run (lower is better; "
           "the baseline is the median of three times as many runs, and still moves by up to 2× between runs "
           "on small files). "
           "`construct ×` is how many times longer plain construct takes than memschema's open "
           "(`~`: extrapolated from the small scale). RSS is the peak of the measuring process, "
           "Python and numpy included.", "",
           "```text", "python benchmarks/run.py --scale small,default --repeat 3 --publish   # regenerates this page",
           "```", "",
           "| case | scale | size | fromfile | detect | open | decode | validate | dump | write | construct × "
           "| validate RSS |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        construct = r.get("construct", {})
        opened = r.get("open", {}).get("seconds")
        speed = (("~" if construct.get("extrapolated") else "") + f"{construct['seconds'] / opened:,.0f}×") \
            if opened and "seconds" in construct else "–"
        rss = r.get("validate", {}).get("rss_kb")
        cells = [r["case"], r["scale"], f"{r['bytes'] / 2**20:,.1f} MiB", _secs(r, "fromfile"),
                 *(f"{_secs(r, op)} ({ratio(r, op)})" for op in ("detect", "open", "decode", "validate", "dump")),
                 _secs(r, "write"), speed, f"{rss / 1024:,.0f} MiB" if rss else "–"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", default="small,default", help="comma list of small, default, large")
    p.add_argument("--only", default="", help="comma list of case id prefixes (e.g. amem,rvf)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--publish", action="store_true", help="also write docs/benchmarks.md")
    args = p.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    rows = run(args.scale.split(","), [o for o in args.only.split(",") if o], args.repeat, args.timeout)
    (OUT / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    md = markdown(rows)
    (OUT / "results.md").write_text(md)
    if args.publish:
        (HERE.parent / "docs" / "benchmarks.md").write_text(md)
    print(f"wrote {OUT / 'results.md'}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
