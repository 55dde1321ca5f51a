"""Severity changes of the RVF review (issue 11 item 6, docs/rvf.md): an unknown Level-1 tag makes
upstream reject the spec manifest, so it is an error now.  (INDEX problems are warnings: see
test_rvf_index.py; META v1 rejections errors: test_rvf_meta.py.)"""

from __future__ import annotations

from corpus_support import require_corpus

import memschema
from memschema.formats.rvf.spec_build import level1_record_bytes, spec_segment_bytes


def test_unknown_level1_tag_is_an_error():
    root = (require_corpus("rvf") / "spec_level0root.bin").read_bytes()
    data = spec_segment_bytes(5, 1, level1_record_bytes(99, b"x") + root, 1)
    found = [(f.severity.value, f.code, f.offset) for f in memschema.validate(data).findings]
    assert ("error", "rvf.level1_tag_unknown", 64) in found
