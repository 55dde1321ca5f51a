"""Engine: how the `memschema` process ends (cli.main): an unexpected error is one line and exit 70
(1 means findings, 2 unreadable), `--debug` shows the traceback, MemoryError never prints a
traceback, Ctrl-C exits 130 quietly, a closed output pipe ends quietly (141)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memschema.cli import EXIT_INTERRUPTED, EXIT_SOFTWARE
from memschema.cli.common import EXIT_BROKEN_PIPE
from memschema.formats.mem8.seed_store import SeedDocument

RAISING = r"""
import sys
import memschema.api
from memschema.cli import main
def boom(*a, **k):
    raise {exc}
memschema.api.validate = boom
sys.exit(main(sys.argv[1:]))
"""


def _seed_file(tmp_path: Path, blocks: int = 1) -> Path:
    doc = SeedDocument.new()
    for i in range(blocks):
        doc.append_block(b"x", 0.5, timestamp=i)
    path = tmp_path / "s.m8"
    path.write_bytes(doc.build())
    return path


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("exc, words", [("MemoryError()", "out of memory"),
                                        ("RuntimeError('boom')", "internal error: RuntimeError: boom")])
def test_unexpected_errors_are_one_line_and_exit_70(tmp_path, exc, words):
    path = str(_seed_file(tmp_path))
    got = _run(RAISING.format(exc=exc), "validate", path)
    assert got.returncode == EXIT_SOFTWARE == 70
    assert words in got.stderr and "Traceback" not in got.stderr and len(got.stderr.strip().splitlines()) == 1
    debug = _run(RAISING.format(exc=exc), "--debug", "validate", path)
    assert debug.returncode == 70 and "Traceback" in debug.stderr


def _has_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_ctrl_c_exits_130_quietly(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)         # nobody writes: validate waits for the first byte
    proc = subprocess.Popen([sys.executable, "-m", "memschema.cli", "validate", str(fifo)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not _has_open(proc.pid, fifo) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_INTERRUPTED == 130
    assert err == "" and out == ""


def test_a_closed_output_pipe_ends_quietly(tmp_path):
    path = _seed_file(tmp_path, 100)      # megabytes of JSON: far more than the pipe holds
    got = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m memschema.cli dump --json {path} "
                                        "| head -c 10 >/dev/null"], capture_output=True, text=True, timeout=60)
    assert got.returncode == EXIT_BROKEN_PIPE and got.stderr == ""
