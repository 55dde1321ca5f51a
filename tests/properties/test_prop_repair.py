"""`repair` on untrusted bytes (every format's broken files, mutations of every corpus file): it
raises nothing but FormatError, within a time and allocation bound; what it returns is a fixed
point (repairing it again changes nothing); a file with no finding at all comes back byte for
byte."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from corpus_support import CORPUS, corpus_files, require_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

import memschema
from memschema.strategies import broken_files, mutations, strategy_modules, valid_files

PACKAGES = sorted(strategy_modules())
SUBDIRS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else ["mem8", "rvf", "amem"]


SECONDS, ALLOC_FACTOR, ALLOC_CONSTANT = 5.0, 64, 8 << 20


def _repair_bounded(data: bytes):
    """`repair(data)`, or None when it raises FormatError; anything else escapes (a crash), and
    it must stay within SECONDS and ALLOC_FACTOR * len + ALLOC_CONSTANT bytes at peak."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        return memschema.repair(data)
    except memschema.FormatError:
        return None
    finally:
        elapsed, peak = time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < SECONDS, f"repair took {elapsed:.2f} s on {len(data)} bytes"
        assert peak <= ALLOC_FACTOR * len(data) + ALLOC_CONSTANT, f"repair allocated {peak} bytes on {len(data)}"


def _fixed_point(data: bytes) -> None:
    first = _repair_bounded(data)
    if first is None:
        return
    again = memschema.repair(first.data, format=first.detection.id)
    assert again.data == first.data and not again.changes, [str(c) for c in again.changes]


@pytest.mark.parametrize("pkg", PACKAGES)
@settings(max_examples=40)
@given(data=st.data())
def test_broken_files_repair_to_a_fixed_point(pkg, data):
    damaged, _code = data.draw(broken_files(pkg))
    _fixed_point(damaged)


@pytest.mark.parametrize("pkg", PACKAGES)
@settings(max_examples=25)
@given(data=st.data())
def test_valid_files_without_findings_come_back_unchanged(pkg, data):
    good = data.draw(valid_files(pkg))
    if memschema.validate(good).findings:
        return
    try:
        result = memschema.repair(good)
    except memschema.FormatError as exc:
        assert exc.code == "no_repair"
        return
    assert result.data == good and not result.changes


@pytest.mark.parametrize(("sub", "name"), [(s, n) for s in SUBDIRS for n in corpus_files(s)])
def test_corpus_mutations_repair_to_a_fixed_point(sub, name):
    original = (require_corpus(sub) / name).read_bytes()

    @settings(max_examples=30)
    @given(mutations(st.just(original)))
    def check(mutation):
        _fixed_point(mutation.data)

    check()
