"""Writing native journals: put/forget, the live view, atomic creation, append-safe commits, torn
tails reported and never cut silently; hypothesis round trips of whole journals."""

from __future__ import annotations

import random
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.mem8 import native_records
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native import (
    CHUNK_SIZE,
    ENVELOPE_HEAD,
    FLAG_HAS_CHAINED_RAW,
    FLAG_TOMBSTONED,
    PAIR_SIZE,
    native_layout,
    native_pair,
)
from memschema.formats.mem8.native_records import Replay, replay
from memschema.formats.mem8.native_store import NativeDocument, Wave, open_store, record_pairs, wave_fields
from memschema.formats.mem8.strategies import native_journals, native_raw_pairs, valid_files
from memschema.parsing import field_offset


def _s(text: str) -> bytes:
    return bincode.encode_string(text)


def test_put_forget_and_live_view():
    doc = NativeDocument.new()
    doc.put("a", _s("1"))
    doc.put("b", _s("2"), Wave(2.5, 0.5, 0.25))
    doc.put("a", _s("3"))
    doc.forget("b")
    assert doc.live() == {"a": _s("3")}
    assert [r.tombstoned for r in doc.records] == [False, False, False, True]
    tomb = doc.pairs[3]["mem8"]
    assert int(tomb["flags"]) == FLAG_TOMBSTONED and int(tomb["unknown_26"]) == 0
    assert doc.to_json()["pairs"][1]["mem8"]["wave"] == {"frequency": 2.5, "emotional_valence": 16384 / 32767,
                                                         "arousal": 16384 / 65535}


def test_long_record_chains_over_pairs():
    value = bincode.encode_bytes(random.Random(5).randbytes(10000))   # incompressible: 3+ pairs
    doc = NativeDocument.new()
    doc.put("long", value)
    r = doc.records[0]
    assert r.pairs == len(doc.pairs) > 1 and r.value == value
    assert all(int(p["mem8"]["flags"]) == FLAG_HAS_CHAINED_RAW for p in doc.pairs)
    assert [int(p["raw8"]["payload_len"]) for p in doc.pairs][:-1] == [CHUNK_SIZE] * (r.pairs - 1)


def test_commit_creates_atomically_then_appends(tmp_path):
    path = tmp_path / "store.m8"
    doc = open_store(path)
    doc.put("k", _s("v1"))
    doc.commit(path)
    assert path.read_bytes() == doc.build() and len(path.read_bytes()) == PAIR_SIZE
    again = open_store(path)
    again.put("k", _s("v2"))
    again.commit(path)
    loaded = memschema.load(path)
    assert loaded.live() == {"k": _s("v2")} and len(loaded.records) == 2
    assert memschema.validate(path).ok


def test_commit_appends_after_what_another_writer_committed(tmp_path):
    """Under the RecordStore lock the file is replayed as it is now: a record another writer
    appended since this document was read stays, ours follows it (nothing is lost)."""
    path = tmp_path / "store.m8"
    path.write_bytes(record_pairs("a", _s("x")))
    doc = open_store(path)
    with open(path, "ab") as fh:
        fh.write(record_pairs("b", _s("y")))
    doc.put("c", _s("z"))
    result = doc.commit(path)
    assert result == {"offset": 2 * PAIR_SIZE, "bytes": PAIR_SIZE, "torn_tail_cut": 0}
    assert memschema.load(path).live() == {"a": _s("x"), "b": _s("y"), "c": _s("z")}
    assert doc.build() == path.read_bytes()


def test_commit_cuts_a_torn_tail_another_writer_left(tmp_path):
    """A crash of another writer after this document was read: replay cuts the torn pair first,
    as upstream's open does, then appends (MEM8.md 2.7, LOCKS.md 1.6 step 3)."""
    path = tmp_path / "store.m8"
    path.write_bytes(record_pairs("a", _s("x")))
    doc = open_store(path)
    with open(path, "ab") as fh:
        fh.write(record_pairs("b", _s("y"))[:1000])
    doc.put("c", _s("z"))
    assert doc.commit(path)["torn_tail_cut"] == 1000
    assert memschema.load(path).live() == {"a": _s("x"), "c": _s("z")}
    assert not memschema.validate(path).findings


def test_commit_refuses_a_file_that_is_not_a_native_store(tmp_path):
    path = tmp_path / "store.m8"
    doc = open_store(path)
    path.write_bytes(b"MEM8" + bytes(8200))            # replaced by a seed file meanwhile
    doc.put("c", _s("z"))
    with pytest.raises(FormatError) as info:
        doc.commit(path)
    assert info.value.code == "mem8.native.bad_magic" and info.value.offset == 8
    assert path.read_bytes() == b"MEM8" + bytes(8200)


def test_commit_never_overwrites_a_file_created_meanwhile(tmp_path, monkeypatch):
    """Creation is O_EXCL-like: a store that appears between the replay and the write (a writer
    that does not take the lock) makes the commit fail, it is not replaced."""
    import memschema.formats.mem8.appending as appending
    path = tmp_path / "store.m8"
    doc = open_store(path)
    doc.put("c", _s("z"))
    real = appending.create_new

    def late(p, data, mode):
        p.write_bytes(record_pairs("other", _s("w")))
        return real(p, data, mode)
    monkeypatch.setattr(appending, "create_new", late)
    with pytest.raises(FileExistsError):
        doc.commit(path)
    assert memschema.load(path).live() == {"other": _s("w")}


def test_torn_tail_is_reported_and_never_cut(tmp_path):
    path = tmp_path / "store.m8"
    full = record_pairs("a", _s("x")) + record_pairs("big", bincode.encode_bytes(bytes(9000)))
    path.write_bytes(full[:-100])
    report = memschema.validate(path)
    torn = [f for f in report.findings if f.code == "mem8.native.torn_tail"]
    assert report.ok and len(torn) == 1
    assert torn[0].offset == PAIR_SIZE and "1 complete records" in torn[0].message
    assert str(len(full) - 100 - PAIR_SIZE) in torn[0].message
    doc = open_store(path)
    assert doc.live() == {"a": _s("x")}
    with pytest.raises(FormatError) as info:
        doc.put("c", _s("z"))
    assert info.value.code == "mem8.native.torn_tail" and info.value.offset == PAIR_SIZE
    assert path.read_bytes() == full[:-100]        # untouched
    cut = doc.drop_torn_tail()                       # explicit, in memory only
    assert len(cut) == len(full) - 100 - PAIR_SIZE and path.read_bytes() == full[:-100]
    doc.put("c", _s("z"))
    doc.save(path)                                   # an explicit, atomic rewrite
    assert memschema.load(path).live() == {"a": _s("x"), "c": _s("z")}
    assert not memschema.validate(path).warnings


def test_put_on_a_raw_pair_file_is_refused():
    doc = NativeDocument.new()
    doc.append_payload(42, b"not a record")
    with pytest.raises(FormatError):
        doc.put("k", _s("v"))


@given(native_journals())
def test_whole_journal_round_trip(data):
    doc = memschema.load(data)
    assert memschema.dump(doc) == data
    rebuilt = NativeDocument.new()
    for r, pair in ((r, doc.pairs[r.pair_index]["mem8"]) for r in doc.records):
        wave = wave_fields(pair)
        if r.tombstoned:
            rebuilt.forget(r.key)
        else:
            rebuilt.put(r.key, r.value, wave)
    assert rebuilt.build() == data


@given(native_raw_pairs())
def test_raw_pair_file_round_trip(data):
    doc = memschema.load(data)
    assert doc.application == "raw" and memschema.dump(doc) == data
    rebuilt = NativeDocument.new()
    for p in doc.payloads:
        rebuilt.append_payload(p.location, p.data, wave_fields(doc.pairs[p.pair_index]["mem8"]),
                               p.tombstoned)
    assert rebuilt.build() == data


@given(valid_files("native"), st.data())
def test_appending_keeps_every_earlier_record(data, more):
    doc = memschema.load(data)
    if doc.application != "st8":
        return
    before = [(r.key, r.value) for r in doc.records]
    key = more.draw(st.text(max_size=8))
    doc.put(key, _s("new"))
    assert [(r.key, r.value) for r in doc.records] == before + [(key, _s("new"))]
    assert doc.build()[:len(data)] == data


# where replay looks: each pair's location and payload length, and the envelope head of its payload
_REPLAY_BYTES = [(field_offset(native_pair, name), size) for name, size in
                 (("mem8.location", 8), ("raw8.payload_len", 2), ("raw8.payload", ENVELOPE_HEAD))]


@given(native_journals(), st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(_REPLAY_BYTES),
                                             st.integers(0, 63), st.integers(1, 255)), max_size=3),
       st.integers(0, 2))
def test_the_numpy_replay_is_the_loop(data, flips, cut_pairs):
    """A journal whose records are all sound is indexed with numpy (`_sound_run`); it must give the
    records, findings and torn tail the record-by-record loop gives, and on a damaged journal
    (bytes flipped where replay looks, pairs cut off the end) either agree or leave it to the loop."""
    buf = bytearray(data)
    for pair, (at, size), byte, mask in flips:
        buf[(pair % (len(buf) // PAIR_SIZE)) * PAIR_SIZE + at + byte % size] ^= mask
    buf = bytes(buf[:max(len(buf) - cut_pairs * PAIR_SIZE, PAIR_SIZE)])
    table = native_layout.parse(buf).pairs
    fast = replay(table, buf, 0, len(buf), Replay())
    with mock.patch.object(native_records, "_sound_run", lambda *args: None):
        loop = replay(table, buf, 0, len(buf), Replay())
    assert (list(fast.records), fast.findings, fast.torn) == (list(loop.records), loop.findings, loop.torn)
    if not flips and not cut_pairs:
        assert fast.records._runs, "a sound journal is indexed with numpy"
