"""Engine: the CLI's commands and exit codes, and a fourth format plugged in without engine changes."""

from __future__ import annotations

import json

import pytest
from construct import Const, Int16ul, PrefixedArray, Struct

import memschema
from memschema import cli, registry
from memschema.document import Document
from memschema.errors import warning
from memschema.formats.mem8.seed_store import SeedDocument
from memschema.jsonify import to_jsonable
from memschema.parsing import build, parse


def _seed(tmp_path, name="a.m8", extra=b""):
    doc = SeedDocument.new()
    doc.append_block(b"hello world", 0.5, timestamp=1)
    path = tmp_path / name
    path.write_bytes(doc.build() + extra)
    return path


def test_detect_inspect_dump_validate(tmp_path, capsys):
    good = _seed(tmp_path)
    assert cli.main(["detect", str(good)]) == 0
    assert "mem8/seed" in capsys.readouterr().out
    assert cli.main(["inspect", str(good)]) == 0
    assert "1 blocks" in capsys.readouterr().out
    assert cli.main(["dump", "--json", str(good)]) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert dumped["blocks"][0]["content_hex"] == b"hello world".hex()
    assert cli.main(["dump", "--json", "--as", "mem8.seed_header", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["seed_header"]["block_count"] == 1
    assert cli.main(["validate", str(good)]) == 0


def test_validate_exit_codes_and_json(tmp_path, capsys):
    good = _seed(tmp_path)
    torn = _seed(tmp_path, "torn.m8", b"\1" * 10)
    text = tmp_path / "notes.m8"
    text.write_text('{"contexts": []}')
    assert cli.main(["validate", str(torn)]) == 0          # lenient: a warning
    assert cli.main(["validate", "--strict", str(torn)]) == 1
    capsys.readouterr()
    assert cli.main(["validate", "--json", "--strict", str(good), str(torn)]) == 1
    reports = json.loads(capsys.readouterr().out)["reports"]
    finding = reports[1]["findings"][0]
    assert finding == {"severity": "error", "code": "mem8.trailing_partial_block", "path": "trailing",
                       "offset": 30 + 4096, "message": finding["message"]}
    assert cli.main(["validate", str(text)]) == 2
    assert cli.main(["validate", str(tmp_path / "missing.m8")]) == 2


def test_errors_go_to_stderr_with_path_and_offset(tmp_path, capsys):
    bad = tmp_path / "bad.m8"
    bad.write_bytes(b"MEM8\x01\x00\x03")
    assert cli.main(["dump", "--json", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "header.block_count" in err and "offset 6" in err
    assert cli.main(["dump", "--json", "--as", "mem8.nope", str(bad)]) == 2
    assert cli.main(["convert", str(bad), str(tmp_path / "out.m8")]) == 2


def test_schemas_lists_declarations(capsys):
    assert cli.main(["schemas"]) == 0
    out = capsys.readouterr().out
    assert "mem8.seed_block" in out and "4096" in out


# --- a fourth format, registered from outside the engine -------------------------------------

toy_file = Struct("magic" / Const(b"TOY!"), "values" / PrefixedArray(Int16ul, Int16ul))


class ToyDocument(Document):
    def to_json(self):
        return {"format": "toy", **to_jsonable(self.fields)}

    def build(self):
        return build(toy_file, self.fields)

    def check(self, strict=False):
        return [warning("toy.odd", "odd value", f"values[{i}]", 6 + 2 * i)
                for i, v in enumerate(self.fields["values"]) if v % 2]


class Toy(memschema.Format):
    name = "toy"
    declarations = {"file": toy_file}

    def detect(self, data):
        return memschema.Detection("toy") if bytes(data[:4]) == b"TOY!" else None

    def load(self, data, detection, *, name=""):
        doc = ToyDocument(detection, data, name)
        doc.fields = parse(toy_file, data, 0, "")
        return doc


@pytest.fixture
def toy_format():
    memschema.register(Toy)
    yield
    registry._formats.pop("toy")


def test_a_new_format_plugs_in_without_touching_the_engine(toy_format, tmp_path, capsys):
    raw = b"TOY!" + (3).to_bytes(2, "little") + b"\x02\x00\x03\x00\x04\x00"
    path = tmp_path / "f.toy"
    path.write_bytes(raw)
    assert memschema.detect(path).id == "toy"
    assert memschema.dump(memschema.load(path)) == raw
    report = memschema.validate(path)
    assert [(f.code, f.path, f.offset) for f in report.findings] == [("toy.odd", "values[1]", 8)]
    assert "toy.file" in memschema.declarations()
    assert cli.main(["dump", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["values"] == [2, 3, 4]
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(raw[:9])
    assert (exc.value.path, exc.value.offset) == ("values[1]", 8)


def test_demo_writes_samples_of_every_format_and_they_validate(tmp_path, capsys):
    assert cli.main(["demo", str(tmp_path)]) == 0
    written = sorted(tmp_path.iterdir())
    formats = {memschema.detect(p).format for p in written}
    assert {"mem8", "amem"} <= formats
    for path in written:
        assert memschema.validate(path, strict=True).ok, path
        assert memschema.dump(memschema.load(path)) == path.read_bytes(), path
