"""Seed format: truncations and byte flips of corpus files give findings or FormatError, nothing else."""

from __future__ import annotations

import pytest
from corpus_support import corpus_where, require_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

import memschema

SEED = corpus_where("mem8", format="mem8", variant="seed")


def _exercise(data: bytes) -> None:
    memschema.detect(data)
    report = memschema.validate(data)
    for finding in report.findings:
        assert finding.path is not None and (finding.offset is None or 0 <= finding.offset <= len(data)), finding
    try:
        doc = memschema.load(data)
    except memschema.FormatError as exc:
        assert exc.offset is None or 0 <= exc.offset <= len(data), exc
        return
    doc.to_json()
    doc.summary()
    if doc.format == "mem8" and doc.variant == "seed":
        assert memschema.dump(doc) == data


@pytest.mark.parametrize("name", SEED)
def test_every_truncation_of_the_header_and_first_block(name):
    data = (require_corpus("mem8") / name).read_bytes()
    for cut in list(range(0, min(len(data), 200))) + list(range(200, len(data), 97)):
        _exercise(data[:cut])


@pytest.mark.parametrize("name", SEED)
@settings(max_examples=40)
@given(flips=st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(1, 255)), min_size=1, max_size=8))
def test_byte_flips(name, flips):
    data = bytearray((require_corpus("mem8") / name).read_bytes())
    for pos, mask in flips:
        data[pos % len(data)] ^= mask
    _exercise(bytes(data))


def test_truncated_header_names_field_and_offset():
    data = (require_corpus("mem8") / "upstream_test_3blocks.m8").read_bytes()
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(data[:20])
    # the field the 20 bytes end in: temporal_phase (8 bytes at 18), not just "the header"
    assert (exc.value.path, exc.value.offset, exc.value.code) == ("header.temporal_phase", 18, "truncated")
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(b"XXXX" + data[4:], format="mem8")
    assert (exc.value.path, exc.value.offset) == ("header.magic", 0)


def test_findings_name_paths_and_offsets():
    data = bytearray((require_corpus("mem8") / "upstream_test_3blocks.m8").read_bytes())
    data[4] = 2                          # version
    data[30 + 4096 + 0] = 9              # blocks[1].index
    data[30 + 4096 * 2 + 72 + 100] = 1   # padding of blocks[2]
    data[30 + 8] ^= 1                    # blocks[0].wave_signature
    report = memschema.validate(bytes(data))
    got = {(f.code, f.path, f.offset) for f in report.findings}
    assert got == {("mem8.version", "header.version", 4),
                   ("mem8.index_sequence", "blocks[1].index", 30 + 4096),
                   ("mem8.nonzero_padding", "blocks[2].content_area", 30 + 2 * 4096 + 72 + 100),
                   ("mem8.wave_signature_mismatch", "blocks[0].wave_signature", 38)}
    assert report.ok  # all warnings
