"""Engine: any input a shell can give (memschema.source): `-`, pipes, /dev/stdin, process
substitution and FIFOs are read as bounded streams and give the verdict the file gives; devices,
directories and sockets get a clear answer at once; a FIFO without a writer never hangs."""

from __future__ import annotations

import os
import pty
import shlex
import socket
import subprocess
import sys
import threading
import time

import pytest

import memschema
from memschema import source
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.t8r_store import T8RDocument

CLI = f"{shlex.quote(sys.executable)} -m memschema.cli"


def _journal(torn: bool = False, broken: bool = False) -> bytes:
    doc = T8RDocument.new()
    doc.put("a", bincode.encode_string("one"))
    doc.put("b", bincode.encode_bytes(os.urandom(2000)))
    data = bytearray(doc.build())
    if broken:
        data[-5] ^= 0xFF          # payload CRC of the last frame
    return bytes(data) + (b"\x01\x02\x03" if torn else b"")


def _sh(command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout)


def _verdict(out: str) -> list[str]:
    """The report without the source name on its first line."""
    lines = out.splitlines()
    return [lines[0].split(": ", 1)[1]] + lines[1:] if lines else []


@pytest.mark.parametrize("kind", ["clean", "torn", "broken"])
def test_pipes_give_the_verdict_of_the_file(tmp_path, kind):
    path = tmp_path / "j.t8"
    path.write_bytes(_journal(torn=kind == "torn", broken=kind == "broken"))
    f = shlex.quote(str(path))
    direct = _sh(f"{CLI} validate {f}")
    assert direct.returncode == (1 if kind == "broken" else 0)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    commands = [f"cat {f} | {CLI} validate -", f"(cat {f} > {fifo} &); {CLI} validate {fifo}"]
    if kind == "clean":
        commands += [f"cat {f} | {CLI} validate /dev/stdin", f"{CLI} validate <(cat {f})",
                     f"{CLI} validate - < {f}", f"{CLI} validate /dev/stdin < {f}"]
    for command in commands:
        got = _sh(command)
        assert (got.returncode, _verdict(got.stdout)) == (direct.returncode, _verdict(direct.stdout)), command


def test_detect_and_dump_from_a_pipe(tmp_path):
    path = tmp_path / "j.t8"
    path.write_bytes(_journal())
    got = _sh(f"cat {path} | {CLI} detect -")
    assert got.returncode == 0 and got.stdout.startswith("-: t8r")
    dumped = _sh(f"cat {path} | {CLI} dump --json -")
    assert dumped.returncode == 0 and '"format": "t8r"' in dumped.stdout
    for name in ("-", "/dev/stdin"):        # inspect reads its input twice (load, then validate): same bytes
        inspected = _sh(f"cat {path} | {CLI} inspect {name}")
        assert inspected.returncode == 0 and "validation: 0 errors" in inspected.stdout, inspected


def test_streams_past_the_limit_are_a_format_error(tmp_path):
    path = tmp_path / "j.t8"
    path.write_bytes(_journal())
    got = _sh(f"cat {path} | {CLI} validate --max-stream-bytes 1K -")
    assert got.returncode == 2 and "input_too_large" in got.stdout and "max_stream_bytes" in got.stdout
    with memschema.budget.using(memschema.Budget(max_stream_bytes=100)):
        r, w = os.pipe()
        os.write(w, _journal())
        os.close(w)
        with os.fdopen(r, "rb") as fh, pytest.raises(memschema.FormatError) as info:
            memschema.load(fh)
    assert info.value.code == "input_too_large"


def test_a_fifo_without_writer_times_out(tmp_path, monkeypatch):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(source, "FIFO_TIMEOUT", 0.3)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="no writer"):
        memschema.load(fifo)
    assert time.monotonic() - started < 5
    code = (f"import sys, memschema.source as s; s.FIFO_TIMEOUT = 0.3; from memschema.cli import main; "
            f"sys.exit(main(['validate', {str(fifo)!r}]))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert got.returncode == 2 and "nothing was written to the FIFO" in got.stdout + got.stderr


def test_a_fifo_whose_writer_comes_late_is_read(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = _journal()

    def writer():
        time.sleep(0.3)
        with open(fifo, "wb") as fh:
            fh.write(data[:50])
            fh.flush()
            time.sleep(0.2)
            fh.write(data[50:])
    t = threading.Thread(target=writer)
    t.start()
    assert memschema.validate(fifo).ok
    t.join()


@pytest.mark.parametrize("path, what", [("/dev/null", "character device"), ("/dev/zero", "character device")])
def test_devices_are_refused_at_once(path, what):
    got = _sh(f"{CLI} validate {path}", timeout=20)
    assert got.returncode == 2 and what in got.stdout + got.stderr
    with pytest.raises(source.NotAFile):
        memschema.load(path)


def test_directories_and_sockets_are_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="directory"):     # the CLI walks folders instead
        memschema.load(tmp_path)
    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        got = _sh(f"{CLI} validate {sock_path}", timeout=20)
        assert got.returncode == 2 and str(sock_path) in got.stdout + got.stderr
    finally:
        sock.close()


def test_a_terminal_on_stdin_is_refused():
    controller, terminal = pty.openpty()
    try:
        got = subprocess.run([sys.executable, "-m", "memschema.cli", "validate", "-"], stdin=terminal,
                             capture_output=True, text=True, timeout=20)
    finally:
        os.close(controller)
        os.close(terminal)
    assert got.returncode == 2 and "terminal" in got.stdout + got.stderr
