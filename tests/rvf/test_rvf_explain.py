"""`explain` on a real runtime file names the field RVF.md places at an offset (s03: MANIFEST at 0,
VEC at 162 with 5 records of dimension 4, WITNESS at 352, MANIFEST at 483 listing those three)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from corpus_support import require_corpus

import memschema
from memschema.layout import explain

VEC_AT, MANIFEST_AT = 162, 483
HEADER, VEC_HEAD, RECORD = 64, 6, 8 + 4 * 4            # RVF.md 2.1, 3.6 (dimension 4)
DIR_AT, ENTRY = MANIFEST_AT + HEADER + 22, 25          # RVF.md 3.3: the directory at payload offset 22

CASES = [
    (VEC_AT + 0x28, "segments[1].header.content_hash", None),                       # RVF.md 2.1
    (VEC_AT + 0x10 + 3, "segments[1].header.payload_length", 126),
    (VEC_AT + HEADER + 4, "segments[1].payload.vector_count", 5),
    (VEC_AT + HEADER + VEC_HEAD + 2 * RECORD, "segments[1].payload.records[2].id", 3),
    (VEC_AT + HEADER + VEC_HEAD + 2 * RECORD + 8 + 4 + 1, "segments[1].payload.records[2].data[1]", 3.125),
    (DIR_AT + ENTRY + 8, "segments[3].payload.segment_dir[1].offset", VEC_AT),      # 25-byte entries
    (DIR_AT + 2 * ENTRY + 24, "segments[3].payload.segment_dir[2].seg_type", "witness"),
    (DIR_AT + 3 * ENTRY, "segments[3].payload.del_count", 0),
]


@pytest.mark.parametrize("offset, path, value", CASES, ids=[c[1] for c in CASES])
def test_explain_names_the_field_rvf_md_places_there(offset, path, value):
    doc = memschema.load(require_corpus("rvf") / "s03_two_batches_delete.rvf")
    leaf = explain(doc.parsed, offset).leaf
    assert leaf is not None and leaf.path == path, f"s03 @{offset}: {leaf and leaf.path} instead of {path}"
    assert leaf.offset <= offset < leaf.offset + leaf.size
    if value is not None:
        assert leaf.value == value, f"s03 {path} @{leaf.offset}: {leaf.value!r}"


def test_cli_explain_gives_the_directory_entry_offset():
    path = require_corpus("rvf") / "s03_two_batches_delete.rvf"
    out = subprocess.run([sys.executable, "-m", "memschema", "explain", str(path), str(DIR_AT + ENTRY + 8), "--json"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    (hit,) = json.loads(out)["offsets"]
    assert (hit["path"], hit["start"], hit["size"], hit["value"]) == \
        ("segments[3].payload.segment_dir[1].offset", DIR_AT + ENTRY + 8, 8, VEC_AT)
