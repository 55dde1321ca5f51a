"""Files written by upstream's capture code (tests/amem_wal/upstream/README.md): memschema reads
exactly what upstream's `read_entries`/`wal_status` read, round-trips them byte for byte, and
upstream reads what memschema appended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import memschema

UPSTREAM = Path(__file__).parent / "upstream"
WITH_READS = ["transport", "memschema_appended_then_upstream", "memschema_rewritten_then_upstream"]


def _expected(stem: str) -> dict:
    return json.loads((UPSTREAM / f"{stem}.upstream.json").read_text())


@pytest.mark.parametrize("path", sorted(UPSTREAM.glob("*.wal")), ids=lambda p: p.name)
def test_upstream_files_load_validate_and_round_trip(path):
    raw = path.read_bytes()
    assert memschema.detect(path).id == "amem_wal"
    doc = memschema.load(path)
    assert memschema.dump(doc) == raw, path.name
    report = memschema.validate(path, strict=path.name != "torn.wal")
    assert report.ok, f"{path.name}:\n{report}"


@pytest.mark.parametrize("stem", WITH_READS)
def test_memschema_recovers_what_upstream_reads(stem):
    want = _expected(stem)
    doc = memschema.load(UPSTREAM / f"{stem}.wal")
    got = doc.recovered()
    assert (doc.recovery.accepted, doc.recovery.next_sequence, len(doc.data)) == \
        (want["entries"], want["next_sequence"], want["bytes"])
    for i, (a, b) in enumerate(zip(got, want["records"], strict=True)):
        assert (a.sequence, a.direction, a.timestamp_ns, a.data.hex()) == \
            (b["sequence"], b["direction"], b["timestamp_ns"], b["data_hex"]), f"{stem}: entries[{i}]"
    if "session" in want:
        assert got[0].session_uuid == want["session"]


def test_torn_append_is_a_warning_and_upstream_cut_it():
    torn = memschema.load(UPSTREAM / "torn.wal")
    stop = torn.recovery.stop
    assert (stop.step, stop.path, stop.offset) == ("torn", "entries.tail.total_len", 988)
    report = memschema.validate(UPSTREAM / "torn.wal")
    assert [(f.severity.value, f.code, f.offset) for f in report.findings] == [("warning", "amem_wal.torn_tail", 988)]
    assert [f.code for f in memschema.validate(UPSTREAM / "torn.wal", strict=True).errors] == ["amem_wal.torn_tail"]
    after = (UPSTREAM / "transport.wal").read_bytes()        # the next start kept exactly truncate_to bytes
    assert after[:torn.recovery.truncate_to] == (UPSTREAM / "torn.wal").read_bytes()[:torn.recovery.truncate_to]
    assert memschema.load(UPSTREAM / "transport.wal").parsed.placed["entries"].offsets[-1] == torn.recovery.truncate_to


def test_upstream_accepts_the_entries_memschema_appended():
    mine = memschema.load(UPSTREAM / "memschema_appended.wal")
    upstream = _expected("memschema_appended_then_upstream")["records"]
    appended = [r for r in upstream if r["timestamp_ns"] in (1764770000000000000, 1764770000000000001)]
    assert [r["sequence"] for r in appended] == [7, 8] and mine.recovery.next_sequence == 9
    assert upstream[-1]["sequence"] == 9                       # the server continued after memschema's entries
    assert [e.data.hex() for e in mine.recovered()[-2:]] == [r["data_hex"] for r in appended]
