"""Engine: formats whose `detect` takes `name` get the source's file name (and are asked about empty
files); formats with the plain `detect(data)` are called exactly as before."""

from __future__ import annotations

import io

import pytest

import memschema
from memschema import registry
from memschema.document import Document
from memschema.registry import Detection


class Named(memschema.Format):
    """Names files by their name alone: `*.named` (even when empty)."""

    name = "named_toy"
    priority = 0
    seen: list = []

    def detect(self, data, *, name=""):
        type(self).seen.append((bytes(data[:4]), name))
        return Detection("named_toy", None, "by name") if name.endswith(".named") else None

    def load(self, data, detection, *, name=""):
        return Document(detection, data, name)


class Plain(memschema.Format):
    """The old signature: must never receive a name, and is not asked about empty files."""

    name = "plain_toy"
    priority = 1
    calls: list = []

    def detect(self, data):
        type(self).calls.append(bytes(data[:4]))
        return Detection("plain_toy") if bytes(data[:4]) == b"PLN!" else None


@pytest.fixture
def toys():
    Named.seen, Plain.calls = [], []
    memschema.register(Named)
    memschema.register(Plain)
    yield
    registry._formats.pop("named_toy")
    registry._formats.pop("plain_toy")


def test_detect_passes_the_path_to_formats_that_take_a_name(toys, tmp_path):
    path = tmp_path / "x.named"
    path.write_bytes(b"PLN!")
    assert memschema.detect(path).id == "named_toy"
    assert Named.seen[-1] == (b"PLN!", str(path))
    assert Plain.calls == []                                   # found before the plain format
    assert memschema.detect(str(path)).id == "named_toy"
    with open(path, "rb") as fh:
        assert memschema.detect(fh).id == "named_toy"      # a file object's name
    assert Named.seen[-1][1] == str(path)


def test_bytes_carry_no_name_and_plain_formats_detect_as_before(toys, tmp_path):
    assert memschema.detect(b"PLN!rest").id == "plain_toy"
    assert Named.seen[-1] == (b"PLN!", "")
    assert Plain.calls == [b"PLN!"]
    assert memschema.detect(io.BytesIO(b"PLN!")).id == "plain_toy"
    assert Named.seen[-1][1] == ""                             # BytesIO has no name


def test_empty_files_reach_only_formats_that_take_a_name(toys, tmp_path):
    empty = tmp_path / "lock.named"
    empty.touch()
    assert memschema.detect(empty).id == "named_toy"
    other = tmp_path / "other.bin"
    other.touch()
    found = memschema.detect(other)
    assert (found.format, found.variant) == ("not_binary", "empty")
    assert Plain.calls == []                                   # never asked about 0 bytes
    assert Named.seen[-1] == (b"", str(other))


def test_load_and_validate_detect_with_the_name(toys, tmp_path):
    path = tmp_path / "y.named"
    path.write_bytes(b"anything")
    assert memschema.validate(path).format == "named_toy"
    doc = memschema.load(path)
    assert doc.detection.description == "by name" and doc.source == str(path)
    with pytest.raises(memschema.FormatError):                 # bytes: no name, nothing detects them
        memschema.load(b"anything")


def test_reading_files_imports_no_testing_code():
    """Loading every format's plugins (the first detect, load or validate) imports no hypothesis
    strategies or fuzzing mutators: they register nothing, and importing hypothesis took about
    90 ms of every command-line run."""
    import subprocess
    import sys

    from corpus_support import require_corpus
    path = require_corpus("mem8") / "native_record_store.m8"
    code = (f"import sys, memschema; memschema.validate({str(path)!r}); "
            "print(sorted(m for m in sys.modules if m.startswith('hypothesis') or m.endswith(('.strategies', "
            "'.mutators')) or m == 'memschema.strategies'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
