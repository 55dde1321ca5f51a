"""Untrusted bytes: any byte string, and any mutation of a corpus file, make detect / load /
dump / validate return or raise FormatError only — within 2 s and a bounded allocation — and a
mutation that loads still dumps byte-identically (nothing lost)."""

from __future__ import annotations

import pytest
from corpus_support import CORPUS, corpus_files, require_corpus
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.strategies import FINDING, exercise_bounded, mutations

SUBDIRS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
CORPUS_FILES = [(sub, name) for sub in SUBDIRS for name in corpus_files(sub)]
FORMATS = [f.name for f in memschema.list_formats()]

# (corpus folder, file) -> reason, for mutations that expose a bug not yet fixed in a format's code.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _heads() -> list[bytes]:
    """The first bytes of every corpus file: random tails after a real magic reach the decoders."""
    out = {b""}
    for sub, name in CORPUS_FILES:
        path = CORPUS / sub / name
        if path.is_file():
            out.add(path.read_bytes()[:64])
    return sorted(out)


HEADS = _heads()


@given(st.sampled_from(HEADS), st.integers(0, 64), st.binary(max_size=512))
def test_any_bytes_never_crash(head, cut, tail):
    data = head[:cut] + tail
    exercise_bounded(data)


@pytest.mark.parametrize("format", FORMATS)
@given(data=st.sampled_from(HEADS).flatmap(lambda h: st.binary(max_size=256).map(lambda t: h + t)))
def test_forced_format_never_crashes(format, data):
    """`load(data, format=F)` skips detection, so every decoder sees every other format's bytes."""
    exercise_bounded(data, format)


def _params():
    for sub, name in CORPUS_FILES:
        known = KNOWN_BUGS.get((sub, name))
        marks = [pytest.mark.xfail(strict=True, reason=known)] if known else []
        yield pytest.param(sub, name, marks=marks, id=f"{sub}/{name}")


@pytest.mark.parametrize(("sub", "name"), list(_params()))
def test_corpus_mutation_never_crashes(sub, name):
    folder = require_corpus(sub)
    original = (folder / name).read_bytes()

    @given(mutations(st.just(original)))
    def check(mutation):
        out = exercise_bounded(mutation.data)
        if mutation.expect == FINDING:
            assert out.load_error is not None or out.codes, f"{sub}/{name}: {mutation} went unnoticed"
        if out.dumped is not None and out.dumped != mutation.data:
            at = next((i for i, (a, b) in enumerate(zip(out.dumped, mutation.data)) if a != b),
                      min(len(out.dumped), len(mutation.data)))
            raise AssertionError(f"{sub}/{name}: {mutation} loads, but dump differs at byte offset {at}")

    check()
