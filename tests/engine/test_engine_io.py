"""Engine: sources, atomic writes, append-safety and not-binary sniffing."""

from __future__ import annotations

import io
import json
import os
import zlib

import pytest

import memschema
from memschema.formats.mem8.seed_store import SeedDocument
from memschema.sniff import sniff
from memschema.source import FileChanged, append_safely, atomic_write, read_source


def _seed_bytes() -> bytes:
    doc = SeedDocument.new()
    doc.append_block(b"hello", 0.5, timestamp=1)
    return doc.build()


def test_sources_path_bytes_and_file_object(tmp_path):
    raw = _seed_bytes()
    path = tmp_path / "a.m8"
    path.write_bytes(raw)
    for source in (path, str(path), raw, bytearray(raw), memoryview(raw), io.BytesIO(raw)):
        assert memschema.load(source).content(0) == b"hello"
    data, name = read_source(path)
    assert name == str(path) and len(data) == len(raw)  # mmap, not a copy
    assert read_source(tmp_path / "empty" if (tmp_path / "empty").touch() is None else None)[0] == b""


def test_atomic_write_replaces_and_keeps_mode(tmp_path):
    path = tmp_path / "x.m8"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new" and (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["x.m8"]


def test_failed_atomic_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "x.m8"
    path.write_bytes(b"precious")

    def boom(fd):
        raise OSError("disk full")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        atomic_write(path, b"replacement")
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["x.m8"]  # temporary file removed


def test_save_is_atomic_and_round_trips(tmp_path):
    doc = memschema.load(_seed_bytes())
    doc.append_block(b"more", 1.0, timestamp=2)
    path = tmp_path / "s.m8"
    memschema.save(doc, path)
    assert memschema.load(path).content(1) == b"more"


def test_append_safely_refuses_a_changed_file_and_cuts_back_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "j.bin"
    path.write_bytes(b"abc")
    with pytest.raises(FileChanged):
        append_safely(path, b"def", expected_size=2)
    append_safely(path, b"def", expected_size=3)
    assert path.read_bytes() == b"abcdef"

    real_fsync = os.fsync
    calls = []

    def flaky(fd):
        calls.append(fd)
        if len(calls) == 1:
            raise OSError("I/O error")
        return real_fsync(fd)
    monkeypatch.setattr(os, "fsync", flaky)
    with pytest.raises(OSError):
        append_safely(path, b"XYZ", expected_size=6)
    assert path.read_bytes() == b"abcdef"


@pytest.mark.parametrize("data, variant", [
    (b"", "empty"),
    (zlib.compress(json.dumps({"a": 1}).encode()), "zlib_json"),
    (zlib.compress(b"\x00\x01binary"), "zlib"),
    (b"\x28\xb5\x2f\xfd" + b"\0" * 10, "zstd"),
    (b"\xef\xbb\xbf  \n{\"x\": 1}", "json"),
    (b"  [1, 2]", "json"),
    ("🧠 Directory Consciousness\n".encode(), "text"),
    (b"MEM8,True,eJwrSS0u0c1ILCpJLUrNS1EEAC5wBZs=", "text"),
])
def test_not_binary_files_are_named(data, variant):
    found = memschema.detect(data)
    assert (found.format, found.variant) == ("not_binary", variant)
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(data)
    assert exc.value.code == "not_memory_file"
    assert not memschema.validate(data).ok


def test_unknown_binary():
    assert sniff(b"\x00\x01\x02\xff" * 4).format == "unknown"
    assert memschema.detect(b"\x00\x00\x00\x00\x00\x00\x00\x10" + b"mem8-lite bincode").format == "unknown"


def test_zlib_bomb_is_not_inflated_whole():
    bomb = zlib.compress(b"{" + b" " * (200 << 20), 9)
    assert memschema.detect(bomb).variant == "zlib"  # over the inflate limit: not looked into


def test_recognised_but_undecoded_layouts_are_format_errors():
    data = b"M8MEGA" + b"\0" * 40
    assert memschema.detect(data).format == "m8mega"
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(data)
    assert exc.value.code == "not_decoded"
    with pytest.raises(memschema.FormatError):
        memschema.load(data, format="no-such-format")


def test_a_format_names_its_own_look_alikes_after_every_detect_and_before_generic_sniffing():
    """`Format.sniff` names a not-binary file a format's tools write: tried once no format's
    `detect` matched (so it never hides a memory file), before the generic rules (so it refines them)."""
    from memschema import registry

    class LookAlike(memschema.Format):
        name = "lookalike"

        def detect(self, data):
            return memschema.Detection("lookalike") if bytes(data[:4]) == b"LOOK" else None

        def sniff(self, data):
            return memschema.Detection("not_binary", "lookalike_text") if bytes(data[:5]) == b"look:" else None

    memschema.register(LookAlike)
    try:
        assert memschema.detect(b"look: a text file").id == "not_binary/lookalike_text"   # before the text rule
        assert memschema.detect(b"LOOK").id == "lookalike"
        assert memschema.detect(b"other text").id == "not_binary/text"
    finally:
        registry._formats.pop("lookalike")


def test_sniffing_a_zlib_file_reads_a_bounded_prefix():
    """A stream that never ends is read no further than the inflate limit, not copied whole."""
    from memschema.sniff import TooLarge, inflate_bounded
    endless = zlib.compressobj().compress(b"x") + bytes(300)   # no final block: looks truncated
    assert inflate_bounded(endless) is None
    stored = zlib.compress(os.urandom(3000), 0)
    with pytest.raises(TooLarge):
        inflate_bounded(stored, limit=1000)
    assert inflate_bounded(stored, limit=3000) == zlib.decompress(stored)
