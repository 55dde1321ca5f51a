"""Engine: writes (memschema.writes): a failed append is cut back (disk full for real: a 1 MiB
tmpfs, or RLIMIT_FSIZE where mounting is not allowed), temporary files of killed saves are found
and removed, saves go through symlinks, new files get 0666 & ~umask, errors name the target."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import memschema
from memschema.cli import main
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native_store import NativeDocument
from memschema.formats.mem8.seed_store import SeedDocument
from memschema.formats.mem8.t8r_store import T8RDocument
from memschema.formats.rvf.writer import RvfStore
from memschema.writes import STALE_SECONDS, TEMP_NAME, atomic_write, is_stale, stale_temp_files

APPEND = bincode.encode_bytes(os.urandom(5000))     # under 8 KiB, but more than the page the file has


@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MiB tmpfs (root only); skipped where it cannot be mounted (the RLIMIT test covers that)."""
    where = tmp_path / "tiny"
    where.mkdir()
    got = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    if got.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {got.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def _fill(directory: Path) -> None:
    """Use every free byte of the file system (unbuffered, so closing writes nothing more)."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 16, 1):
            try:
                while True:
                    os.write(fd, bytes(size))
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def _t8r_41() -> bytes:
    doc = T8RDocument.new()
    doc.put("a", bincode.encode_string("hello"))
    data = doc.build()
    assert len(data) == 41        # the file of the table
    return data


def test_t8r_append_on_a_full_disk_is_cut_back(tiny_fs):
    path = tiny_fs / "j.t8"
    path.write_bytes(_t8r_41())
    _fill(tiny_fs)
    doc = memschema.load(path)
    doc.put("b", APPEND)
    with pytest.raises(OSError) as info:
        doc.commit(path)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert path.read_bytes() == _t8r_41()          # was 41 -> 4096 before issue 10


def test_native_append_on_a_full_disk_is_cut_back(tiny_fs):
    path = tiny_fs / "j.m8"
    doc = NativeDocument.new()
    doc.put("a", bincode.encode_string("1"))
    path.write_bytes(doc.build())
    before = path.read_bytes()
    _fill(tiny_fs)
    doc = memschema.load(path)
    doc.put("b", APPEND)
    with pytest.raises(OSError, match="No space"):
        doc.commit(path)
    assert path.read_bytes() == before


def test_rvf_ingest_on_a_full_disk_is_cut_back_and_the_store_reopens(tiny_fs):
    path = tiny_fs / "s.rvf"
    store = RvfStore.create(path, 8)
    store.ingest([1, 2], np.ones((2, 8), np.float32))
    before = path.read_bytes()
    _fill(tiny_fs)
    with pytest.raises(OSError):
        store.ingest(np.arange(10, 300), np.ones((290, 8), np.float32))
    assert path.read_bytes() == before
    assert memschema.validate(path).ok
    RvfStore.open(path)


CHILD_FSIZE = r"""
import os, resource, signal, sys
import memschema
from memschema.formats.mem8.codecs import bincode
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # the write fails with EFBIG instead of killing us
path = sys.argv[1]
doc = memschema.load(path)
doc.put("b", bincode.encode_bytes(os.urandom(5000)))
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 100, resource.RLIM_INFINITY))
try:
    doc.commit(path)
except OSError as exc:
    print(exc.errno, exc.filename)
"""


def test_append_over_the_file_size_limit_is_cut_back(tmp_path):
    """Disk full simulated with RLIMIT_FSIZE: the write stops part-way (EFBIG) and the file is cut back."""
    path = tmp_path / "j.t8"
    path.write_bytes(_t8r_41())
    got = subprocess.run([sys.executable, "-c", CHILD_FSIZE, str(path)], capture_output=True, text=True, timeout=60)
    assert got.stdout.split() == [str(errno.EFBIG), str(path)], got.stderr
    assert path.read_bytes() == _t8r_41()


CHILD_SAVE = r"""
import os, sys, time
import memschema
from memschema.formats.mem8.seed_store import SeedDocument
real = os.fsync
def stuck(fd):          # the temporary file is written; the process is killed before the rename
    print("writing", flush=True)
    time.sleep(600)
os.fsync = stuck
doc = SeedDocument.new()
doc.append_block(b"new", 0.5, timestamp=2)
memschema.save(doc, sys.argv[1])
"""


def _killed_save(path: Path) -> Path:
    proc = subprocess.Popen([sys.executable, "-c", CHILD_SAVE, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    temps = [p for p in path.parent.iterdir() if TEMP_NAME.match(p.name)]
    assert len(temps) == 1 and temps[0].name.startswith(f".{path.name}.memschema-{proc.pid}-")
    return temps[0]


def _seed(content: bytes = b"old") -> SeedDocument:
    doc = SeedDocument.new()
    doc.append_block(content, 0.5, timestamp=1)
    return doc


def test_kill_during_save_leaves_a_temp_the_next_save_removes(tmp_path):
    path = tmp_path / "s.m8"
    memschema.save(_seed(), path)
    old = path.read_bytes()
    temp = _killed_save(path)
    assert path.read_bytes() == old and is_stale(temp)
    memschema.save(_seed(b"newer"), path)
    assert not temp.exists() and memschema.load(path).content(0) == b"newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.m8"]


def test_cleanup_command_finds_and_removes_stale_temps(tmp_path, capsys):
    path = tmp_path / "s.m8"
    memschema.save(_seed(), path)
    temp = _killed_save(path)
    assert main(["cleanup", "--dry-run", str(tmp_path)]) == 0
    assert f"stale {temp}" in capsys.readouterr().out and temp.exists()
    assert main(["cleanup", str(path)]) == 0
    assert f"removed {temp}" in capsys.readouterr().out and not temp.exists()


def test_live_or_recent_temps_are_not_stale(tmp_path):
    live = tmp_path / f".s.m8.memschema-{os.getpid()}-0123abcd.tmp"
    live.write_bytes(b"being written")
    assert not is_stale(live) and stale_temp_files(tmp_path) == []
    old = time.time() - STALE_SECONDS - 10
    os.utime(live, (old, old))
    assert is_stale(live)                          # untouched for an hour: stale whoever wrote it
    other = tmp_path / ".s.m8.tmp"                  # not ours: never touched
    other.write_bytes(b"x")
    assert not is_stale(other)


def test_save_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "data" / "s.m8"
    real.parent.mkdir()
    memschema.save(_seed(), real)
    link = tmp_path / "link.m8"
    link.symlink_to(Path("data") / "s.m8")
    memschema.save(_seed(b"through the link"), link)
    assert link.is_symlink() and memschema.load(real).content(0) == b"through the link"
    dangling = tmp_path / "dangling.m8"
    dangling.symlink_to(Path("data") / "new.m8")
    atomic_write(dangling, b"created")
    assert dangling.is_symlink() and (tmp_path / "data" / "new.m8").read_bytes() == b"created"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_get_0666_minus_umask_and_existing_ones_keep_their_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "new.m8", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "new.m8").stat().st_mode & 0o777 == mode
    os.chmod(tmp_path / "new.m8", 0o640)
    atomic_write(tmp_path / "new.m8", b"y")
    assert (tmp_path / "new.m8").stat().st_mode & 0o777 == 0o640


def test_errors_name_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "s.m8"

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        atomic_write(path, b"data")
    assert info.value.filename == str(path) and ".tmp" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
