"""Logs written by upstream's own V3 code (tests/amem_log/upstream/README.md): memschema decodes them
exactly (hashes, chain, hashed timestamps), round-trips them byte for byte, writes the same JSON
serde does, and upstream verifies and continues what memschema appended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import memschema
from memschema.formats.amem_log.block_json import hash_timestamp, serde_block

UPSTREAM = Path(__file__).parent / "upstream"
FILES = sorted(p for p in UPSTREAM.iterdir() if p.suffix in (".log", ".wal"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_upstream_files_load_validate_strictly_and_round_trip(path):
    raw = path.read_bytes()
    want = "amem_log/immortal_log" if path.suffix == ".log" else "amem_log/memory_wal"
    assert memschema.detect(path).id == want
    doc = memschema.load(path)
    assert memschema.dump(doc) == raw
    report = memschema.validate(path, strict=True)
    assert report.findings == [], f"{path.name}:\n{report}"
    for i, read in enumerate(doc.reads):
        assert serde_block(read.value) == read.raw, f"{path.name}: record {i} is not what serde writes"


def test_hashes_chain_and_timestamps_are_upstreams():
    want = json.loads((UPSTREAM / "immortal.upstream.json").read_text())["blocks"]
    doc = memschema.load(UPSTREAM / "immortal.log")
    blocks = doc.blocks()
    assert [b["sequence"] for b in blocks] == [w["sequence"] for w in want] == list(range(10))
    for i, (b, w) in enumerate(zip(blocks, want, strict=True)):
        assert bytes(b["hash"]).hex() == w["hash"] and w["verify"], i
        assert hash_timestamp(b["timestamp"]) == w["rfc3339"], i                # the +00:00 form upstream hashes
        assert doc.reads[i].computed_hash().hex() == w["hash"], i
    assert doc.chain.block_count == 10 and doc.chain.last_hash.hex() == want[-1]["hash"]
    assert len(memschema.load(UPSTREAM / "memory.wal").recovered()) == 9


def test_upstream_verifies_and_continues_what_memschema_appended():
    result = json.loads((UPSTREAM / "memschema_appended_then_upstream.upstream.json").read_text())
    assert result["blocks_before"] == 13 and result["verified_before"] and result["chain_intact_before"]
    assert result["corrupted_before"] == [] and result["wal_recovered"] == 3
    assert result["appended_sequence"] == 13 and result["verified_after"] and result["blocks_after"] == 14
    mine = (UPSTREAM / "memschema_appended.log").read_bytes()
    after = memschema.load(UPSTREAM / "memschema_appended_then_upstream.log")
    assert bytes(after.data[:len(mine)]) == mine
    assert bytes(after.blocks()[-1]["hash"]).hex() == result["appended_hash"]
    tool = after.blocks()[11]["content"]
    assert tool["input"]["x"] == 1e21 and tool["duration_ms"] == 2**64 - 1
