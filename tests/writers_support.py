"""Test support for concurrency: start writer processes that begin at the same instant, and
processes that hold a lock until told to let go."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

# Trials of the N-writers tests; raise it (MEMSCHEMA_STRESS_TRIALS=50) for a longer run.
TRIALS = int(os.environ.get("MEMSCHEMA_STRESS_TRIALS", "2"))

_LOOP = """
for _round in range(_rounds):
    print("ready", flush=True)
    while not os.path.exists(f"{_go}-{_round}"):
        time.sleep(0.0002)
    write(_round)
"""


def run_together(code: str, argvs: list[list], workdir: Path, rounds: int = 1, timeout: float = 600) -> list[str]:
    """Run writer processes, one per argv: `code` defines `write(round)` (its arguments are in
    `args`); in each round every process is released at the same instant.  Returns their stdout;
    fails on any non-zero exit, with the stderr."""
    go = workdir / f"go-{time.monotonic_ns()}"
    head = "import os, sys, time\n_go, _rounds, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]\n"
    procs = [subprocess.Popen([sys.executable, "-c", head + code + _LOOP, str(go), str(rounds), *map(str, argv)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for argv in argvs]
    printed = [[] for _ in procs]
    try:
        for r in range(rounds):
            for p, lines in zip(procs, printed):
                while (line := p.stdout.readline()).strip() != "ready":
                    assert line, f"writer {p.args[4:]} ended early:\n{p.stderr.read()}"
                    lines.append(line)
            Path(f"{go}-{r}").touch()
        outs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, f"writer {p.args[4:]} failed:\n{err}"
    return ["".join(lines) + out for lines, (out, _) in zip(printed, outs)]


class Holder:
    """A python process that runs `code` (which takes a lock), prints `ready`, and holds it until
    `release()` (stdin closed) or `kill()`."""

    def __init__(self, code: str, *argv):
        self.proc = subprocess.Popen([sys.executable, "-c", code + "\nprint('ready', flush=True)\nsys.stdin.read()\n",
                                      *map(str, argv)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line == "ready", self.proc.stderr.read()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0, self.proc.stderr.read()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=60)

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.kill()
