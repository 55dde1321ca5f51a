"""The corpus copy in `tests/corpus/` is the shared corpus, file for file and byte for byte.

The repository carries the corpus so a fresh clone runs every test; the project's shared folder
(`../shared/corpus` beside the checkout, present in CI) is the reference it must not drift from.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from corpus_support import ROOT

COPY = ROOT / "tests" / "corpus"
SHARED = ROOT.parent / "shared" / "corpus"


def _tree(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below `root`."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_copy_holds_every_format_folder_with_data_and_expectations():
    tree = _tree(COPY)
    assert "README.md" in tree, f"{COPY}/README.md missing"
    for sub in ("mem8", "rvf", "amem"):
        data = [n for n in tree if n.startswith(f"{sub}/") and not n.endswith((".json", ".md"))]
        assert data, f"{COPY}/{sub}: no data files"
        missing = [n for n in data if f"{n}.expected.json" not in tree]
        assert not missing, f"{COPY}: data files without .expected.json: {missing}"


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared corpus at {SHARED} to compare the copy with "
                    "(a clone outside the project workspace); tests/corpus is used as it is")
def test_copy_is_identical_to_the_shared_corpus():
    copy, shared = _tree(COPY), _tree(SHARED)
    only_copy = sorted(set(copy) - set(shared))
    only_shared = sorted(set(shared) - set(copy))
    differ = sorted(n for n in set(copy) & set(shared) if copy[n] != shared[n])
    assert not (only_copy or only_shared or differ), (
        f"tests/corpus drifted from {SHARED}: only in the copy {only_copy}, only in shared {only_shared}, "
        f"different bytes {differ} (copy the shared corpus again: cp -r {SHARED}/. {COPY}/)")
