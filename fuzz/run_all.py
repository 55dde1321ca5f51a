"""Fuzz every registered format with atheris for a bounded time.

    python fuzz/run_all.py [--seconds N] [--format F ...] [--seed S]

For each format of `memschema.list_formats()` a subprocess runs `fuzz/harness.py` for N seconds,
seeded with the corpus files detected as that format (`tests/corpus/*/`), with the
inputs in `fuzz/regressions/<format>/`, and with a minimal seed built from the format's
declarations (so a format without corpus files is still fuzzed).  Prints executions per second and
total executions per format and per mutator (libFuzzer's own, or one of the format's decoder
mutators that keep checksums valid); a crash, timeout or out-of-memory input is written to
`fuzz/crashes-new/` (git-ignored) and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = Path(os.environ.get("MEMSCHEMA_CORPUS", ROOT / "tests" / "corpus"))
CRASHES = HERE / "crashes-new"
REGRESSIONS = HERE / "regressions"
SIDECARS = (".json", ".md", ".xfail", ".txt")

sys.path.insert(0, str(ROOT))
import memschema  # noqa: E402


def corpus_by_format() -> dict[str, list[Path]]:
    """Corpus files grouped by the format `memschema.detect` assigns them."""
    out: dict[str, list[Path]] = {}
    if not CORPUS.is_dir():
        return out
    for path in sorted(CORPUS.glob("*/*")):
        if not path.is_file() or path.name.endswith(SIDECARS):
            continue
        try:
            fmt = memschema.detect(path.read_bytes()).format
        except Exception:  # noqa: BLE001 - a corpus file detect chokes on still seeds its folder
            fmt = path.parent.name
        out.setdefault(fmt, []).append(path)
    return out


def minimal_seeds(fmt: str) -> list[bytes]:
    """Seeds built from the format itself: one example of each anchored declaration and, when the
    format ships a strategies module, a valid file."""
    import warnings

    from hypothesis.errors import NonInteractiveExampleWarning

    from memschema.strategies import from_construct, valid_files
    from memschema.strategies.mutate import _anchored

    seeds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        for name, decl in memschema.declarations().items():
            if name.split(".", 1)[0] == fmt and _anchored(decl):
                try:
                    value, ctx = from_construct(decl, with_context=True).example()
                    seeds.append(decl.build(value, **ctx))
                except Exception:  # noqa: BLE001 - a seed is a convenience, not a requirement
                    pass
        try:
            seeds.append(valid_files(fmt).example())
        except Exception:  # noqa: BLE001 - no strategies module for this format
            pass
    return seeds or [fmt.encode()]


def run_format(fmt: str, seconds: int, seeds: list[Path], seed: int = 0) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"memschema-fuzz-{fmt}-"))
    try:
        for i, path in enumerate(seeds):
            shutil.copy(path, work / f"corpus-{i}-{path.name}")
        for i, data in enumerate(minimal_seeds(fmt)):
            (work / f"minimal-{i}").write_bytes(data)
        regress = REGRESSIONS / fmt
        if regress.is_dir():
            for path in regress.iterdir():
                if path.is_file() and not path.name.endswith(SIDECARS) \
                        and not path.with_name(path.name + ".xfail").exists():
                    shutil.copy(path, work / f"regression-{path.name}")
        CRASHES.mkdir(exist_ok=True)
        stats = work / "mutator-execs.json"
        cmd = [sys.executable, str(HERE / "harness.py"), "--format", fmt,
               f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048", "-max_len=65536",
               f"-artifact_prefix={CRASHES}/{fmt}-", "-print_final_stats=1", f"-seed={seed}", str(work)]
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 300, cwd=ROOT,
                              env={**os.environ, "MEMSCHEMA_FUZZ_STATS": str(stats)})
        elapsed = time.monotonic() - started
        by_mutator = json.loads(stats.read_text()) if stats.is_file() else {}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log = proc.stderr + proc.stdout
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log) or re.findall(r"Done (\d+) runs", log)
    total = int(runs[-1]) if runs else 0
    crashed = proc.returncode != 0
    artifacts = re.findall(r"Test unit written to (\S+)", log)
    rate = re.findall(r"stat::average_exec_per_sec:\s*(\d+)", log)
    return {"format": fmt, "execs": total, "seconds": elapsed,
            "execs_per_s": int(rate[-1]) if rate else total / max(elapsed, 1e-9),
            "seeds": len(seeds), "crashed": crashed, "artifacts": artifacts, "by_mutator": by_mutator,
            "log": log if crashed else "", "returncode": proc.returncode}


UNPACK = ('python -c "import base64, sys, zlib; '
          'sys.stdout.buffer.write(zlib.decompress(base64.b64decode(sys.argv[1])))" B64 > input.bin')


def replay_line(path: Path) -> str:
    """The crashing input in a form a CI log keeps (`UNPACK` gives the bytes back)."""
    try:
        return base64.b64encode(zlib.compress(path.read_bytes(), 9)).decode()
    except OSError as exc:
        return f"(unreadable: {exc})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60, help="fuzzing time per format (default 60)")
    ap.add_argument("--format", action="append", help="only this format (repeatable)")
    ap.add_argument("--seed", type=int, default=0,
                    help="libFuzzer's random seed (default 0: a new one each run); CI fixes it so that a failure "
                         "replays exactly")
    args = ap.parse_args(argv)
    formats = [f.name for f in memschema.list_formats()]
    if args.format:
        unknown = sorted(set(args.format) - set(formats))
        if unknown:
            ap.error(f"unknown format(s) {unknown}; registered: {formats}")
        formats = [f for f in formats if f in args.format]
    seeds = corpus_by_format()
    failed = False
    for fmt in formats:
        result = run_format(fmt, args.seconds, seeds.get(fmt, []), args.seed)
        status = "CRASH" if result["crashed"] else "ok"
        print(f"{fmt:10} {status:5} {result['execs']:9d} execs in {result['seconds']:6.1f} s "
              f"({result['execs_per_s']:8.1f} exec/s), {result['seeds']} corpus seeds", flush=True)
        if result["by_mutator"]:
            parts = sorted(result["by_mutator"].items(), key=lambda kv: -kv[1])
            print(f"{'':16} by mutator: " + ", ".join(f"{name} {n}" for name, n in parts), flush=True)
        if result["crashed"]:
            failed = True
            print(result["log"][-6000:], file=sys.stderr)
            for path in result["artifacts"]:
                print(f"  crashing input: {path}", file=sys.stderr)
                print(f"  the same input where that file is gone (B64 below; {UNPACK}):\n"
                      f"  {replay_line(Path(path))}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
