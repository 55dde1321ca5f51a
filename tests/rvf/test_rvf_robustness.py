"""Bad bytes: truncations and byte flips of every corpus file and of generated stores give
findings or a FormatError (with path and offset), never another exception."""

from __future__ import annotations

import random

import pytest
from corpus_support import corpus_where, require_corpus
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.rvf.segment import SEG_TYPES
from memschema.formats.rvf.strategies import spec_segment_bytes, store_from_ops, valid_files
from memschema.strategies import decoder_mutations, decoder_mutators, exercise_bounded
from memschema.strategies.mutate import change_bytes

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


# -- fuzzing hooks: re-sealed payloads reach the segment decoders (issue 10 item 7) --------------------------

def _stores() -> dict[str, bytes]:
    spec = b"".join(spec_segment_bytes(seg_type, i + 1, bytes(range(i, 90 + i)), algo)
                    for i, (seg_type, algo) in enumerate([(SEG_TYPES["meta"], 1), (SEG_TYPES["index"], 0),
                                                          (SEG_TYPES["quant"], 2), (0x40, 3)]))
    return {"runtime": store_from_ops(4, "l2", [("ingest", [1, 2, 3]), ("delete", [2]), ("ingest", [7])]),
            "spec": spec}


@pytest.mark.parametrize("dialect", ["runtime", "spec"])
def test_resealed_payload_mutations_pass_the_hashes(dialect):
    """Each dialect's hashes are recomputed (rotated CRC-32; XXH3-128 / SHAKE-256): no mismatch, and
    in the runtime dialect the changed manifests, VECs, witnesses and journals reach their decoders."""
    data = _stores()[dialect]
    assert memschema.validate(data).ok
    plain, sealed = set(), set()
    for seed in range(40):
        rnd = random.Random(seed)
        out = decoder_mutators("rvf")["payload"](data, rnd)
        sealed |= memschema.validate(out).codes()
        plain |= memschema.validate(change_bytes(data, random.Random(seed), keep_length=True)).codes()
    assert "rvf.hash_mismatch" in plain and "rvf.hash_mismatch" not in sealed, sealed
    if dialect == "runtime":
        decoders = {"rvf.manifest_unparseable", "rvf.witness_broken", "rvf.witness_unparseable", "rvf.vec_size",
                    "rvf.dir_entry_mismatch", "rvf.total_vectors_mismatch", "rvf.payload_unparseable"}
        assert sealed & decoders, sealed


@given(st.data())
def test_decoder_mutations_never_crash(data):
    mutation = data.draw(decoder_mutations(valid_files(), "rvf"))
    exercise_bounded(mutation.data, "rvf")
