"""Bad bytes: truncations and byte flips of every corpus file and of generated stores give
findings or a FormatError (with path and offset), never another exception."""

from __future__ import annotations

import pytest
from corpus_support import corpus_where, require_corpus
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.rvf.strategies import valid_files

FILES = corpus_where("rvf", format="rvf")


def _exercise(data: bytes, label: str) -> None:
    try:
        doc = memschema.load(data, format="rvf")
    except FormatError as exc:
        assert exc.code, label
        return
    doc.to_json()
    doc.summary()
    assert memschema.dump(doc) == data, f"{label}: round trip of damaged bytes"
    report = memschema.validate(data, format="rvf")
    for f in report.findings:
        assert f.code and (f.offset is None or 0 <= f.offset <= len(data)), f"{label}: {f}"


@pytest.mark.parametrize("name", FILES)
def test_every_truncation(name):
    data = (require_corpus("rvf") / name).read_bytes()
    step = max(1, len(data) // 300)
    for cut in range(0, len(data), step):
        _exercise(data[:cut], f"{name}[:{cut}]")


@pytest.mark.parametrize("name", FILES)
def test_byte_flips(name):
    data = (require_corpus("rvf") / name).read_bytes()
    step = max(1, len(data) // 150)
    for i in range(0, len(data), step):
        for mask in (0x01, 0xFF):
            mutated = bytearray(data)
            mutated[i] ^= mask
            _exercise(bytes(mutated), f"{name} byte {i} ^ 0x{mask:02x}")


@given(valid_files(), st.data())
def test_random_mutations_of_generated_stores(data, draw):
    mutated = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 4))):
        i = draw.draw(st.integers(0, len(mutated) - 1))
        mutated[i] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(0, len(mutated)))
    _exercise(bytes(mutated[:cut]), "generated")


def test_as_structures_on_garbage():
    for kind in ("level0_root", "lineage_record", "witness_chain", "manifest_payload", "vec_payload"):
        for data in (b"", b"\xff" * 7, b"\x00" * 100, b"\xff" * 5000):
            try:
                memschema.parse_as(f"rvf.{kind}", data)
            except FormatError:
                pass
