"""Engine: decoding budgets (memschema.budget) through the API, the CLI and the lazy journals."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from corpus_support import corpus_files, require_corpus

import memschema
from memschema import budget
from memschema.budget import Budget, BudgetExceeded, Keys, SpanCache, parse_size
from memschema.cli import main
from memschema.formats.mem8.codecs import bincode
from memschema.formats.mem8.native_store import NativeDocument
from memschema.formats.mem8.t8r_store import T8RDocument
from memschema.jsonify import write_json

BIG = bincode.encode_bytes(bytes(range(256)) * 600)      # 153,600 value bytes


def _t8r(value: bytes = BIG) -> bytes:
    doc = T8RDocument.new()
    doc.put("small", bincode.encode_string("s"))
    doc.put("big", value)
    return doc.build()


def _native(value: bytes = BIG) -> bytes:
    doc = NativeDocument.new()
    doc.put("small", bincode.encode_string("s"))
    doc.put("big", value)
    return doc.build()


def test_sizes_parse_with_binary_suffixes():
    assert [parse_size(t) for t in ("4096", "64K", "64M", "1G", "2GiB", "3mb")] == \
        [4096, 64 << 10, 64 << 20, 1 << 30, 2 << 30, 3 << 20]
    with pytest.raises(ValueError):
        parse_size("lots")


def test_meter_charges_each_record_once_and_refuses_before_counting():
    meter = Budget(max_record_bytes=100, max_decoded_bytes=250).meter(10)
    meter.charge(100, "a", 1, key="a")
    meter.charge(100, "a", 1, key="a")        # decoded again: free
    assert meter.used == 100
    with pytest.raises(BudgetExceeded, match="per-record budget of 100") as info:
        meter.charge(101, "b", 7, key="b")
    assert (info.value.code, info.value.path, info.value.offset) == ("budget_exceeded", "b", 7)
    meter.charge(100, "c", 2, key="c")
    with pytest.raises(BudgetExceeded, match="budget of 250 bytes"):
        meter.charge(51, "d", 3, key="d")
    assert meter.used == 200                  # a refused charge counts nothing


def test_meter_charges_a_run_all_or_nothing():
    meter = Budget(max_record_bytes=100, max_decoded_bytes=250).meter(10)
    meter.charge(100, key="a")
    assert meter.charge_all([100, 60], ["a", "b"])
    assert meter.used == 160                  # "a" was charged already: only "b" counts
    assert not meter.charge_all([50, 50], ["c", "d"])        # 260 > 250: nothing charged
    assert not meter.charge_all([101], ["e"])                 # over the per-record budget
    assert meter.used == 160
    assert meter.charge_all([90], ["c"]) and meter.used == 250
    assert meter.charge_all([], [])


def test_keys_held_as_columns_are_the_pairs_charged_one_by_one():
    """A run charged as `Keys` columns is charged under the same (namespace, id) pairs a record
    decoded alone uses: charging one again costs nothing, refunding one frees exactly it, and a
    pair charged alone first is not charged again by the run."""
    keys = Keys(("frame", np.array([8, 40, 72])), ("content", np.array([0, 1])))
    assert len(keys) == 5 and [keys[i] for i in range(5)] == [("frame", 8), ("frame", 40), ("frame", 72),
                                                             ("content", 0), ("content", 1)]
    assert [keys.head(4)[i] for i in range(4)] == [keys[i] for i in range(4)] and len(keys.head(0)) == 0
    meter = Budget(max_record_bytes=100, max_decoded_bytes=1000).meter(10)
    meter.charge(30, key=("frame", 40))
    assert meter.charge_run([10, 30, 50, 20, 100], keys) == 5
    assert meter.used == 30 + 10 + 50 + 20 + 100          # ("frame", 40) was charged already
    meter.charge(10, key=("frame", 72))                   # charged by the run: free
    meter.charge(10, key=("frame", np.int64(72)))         # the same key with a numpy id
    meter.charge(5, key=("frame", 73))
    assert meter.used == 215
    meter.refund(50, ("frame", 72))
    assert meter.used == 165
    meter.charge(50, key=("frame", 72))                   # refunded: charged again
    assert meter.used == 215
    meter.charge(7, key=("frame", "not an int"))          # any other key still works
    meter.charge(7, key=("frame", "not an int"))
    assert meter.used == 222
    assert meter.charge_run([90] * 10, Keys(("other", np.arange(10)))) == 8   # the ninth would pass 1000
    assert meter.used == 222 + 8 * 90
    assert not meter.charge_all([90], Keys(("content", np.array([5])))) and meter.used == 942
    assert meter.charge_all([90, 90], Keys(("other", np.array([0, 1])))) and meter.used == 942   # charged already


def test_default_file_budget_grows_with_the_file():
    assert Budget().file_limit(1000) == budget.FILE_FLOOR
    assert Budget().file_limit(10 << 20) == budget.FILE_RATIO * (10 << 20)
    assert Budget(max_decoded_bytes=5).file_limit(10 << 20) == 5


def test_span_cache_is_bounded_in_entries_and_bytes():
    cache = SpanCache(max_entries=2, max_bytes=100)
    cache.put((0, 1), "a", 10)
    cache.put((1, 1), "b", 10)
    cache.put((2, 1), "c", 10)
    assert cache.get((0, 1)) is None and cache.get((2, 1)) == "c"
    cache.put((3, 1), "huge", 101)
    assert cache.get((3, 1)) is None and cache.size <= 100


@pytest.mark.parametrize("build, code, path", [
    (_t8r, "t8r.budget_exceeded", "frames[1].compressed"),
    (_native, "mem8.native.budget_exceeded", "pairs[1].raw8.payload.compressed"),
])
def test_a_record_over_the_budget_is_an_error_finding_naming_record_offset_and_budget(build, code, path):
    data = build()
    assert memschema.validate(data).ok
    report = memschema.validate(data, budget=Budget(max_record_bytes=100_000))
    finding = next(f for f in report.findings if f.code == code)
    assert finding.is_error and finding.path == path and finding.offset is not None
    assert "per-record budget of 100000 bytes" in finding.message
    raw = data[finding.offset:]       # the offset is where the record's compressed bytes start
    assert raw.startswith(b"\x78")    # zlib header of the record
    with budget.using(Budget(max_decoded_bytes=1000)):
        assert code in memschema.validate(data).codes()
    assert memschema.validate(data).ok  # the block ended: defaults again


def test_values_are_charged_once_however_often_they_are_read():
    """A native journal streams its records (`iter_records` keeps none, `entries` decodes again);
    a T8R journal keeps its frames' values.  Either way a record is charged to the budget once."""
    for build in (_t8r, _native):
        doc = memschema.load(build())
        assert [u.value for u in doc.entries()][1] == BIG
        used = doc.meter.used
        assert used >= len(BIG)
        assert [u.value for u in doc.entries()][1] == BIG
        assert doc.meter.used == used
        assert doc.live()["big"] == BIG


@pytest.mark.parametrize("build", [_t8r, _native])
def test_streamed_json_is_the_json(build):
    doc = memschema.load(build())
    out = io.StringIO()
    write_json(doc.json_stream(), out)
    assert json.loads(out.getvalue()) == doc.to_json()
    assert out.getvalue() == json.dumps(doc.to_json(), indent=2, ensure_ascii=False)


def test_own_appends_are_not_charged_to_the_loaded_files_budget():
    doc = memschema.load(_t8r(), budget=Budget(max_decoded_bytes=200_000))
    used = doc.meter.used
    for i in range(3):
        doc.put(f"more{i}", BIG)
    assert doc.meter.used == used and not doc.check()


def test_cli_limits(tmp_path, capsys):
    path = tmp_path / "j.t8"
    path.write_bytes(_t8r())
    assert main(["validate", str(path)]) == 0
    assert main(["validate", "--max-record-bytes", "64K", str(path)]) == 1
    assert "t8r.budget_exceeded" in capsys.readouterr().out
    assert main(["validate", "--max-decoded-bytes", "1K", str(path)]) == 1
    with pytest.raises(SystemExit):
        main(["validate", "--max-record-bytes", "lots", str(path)])


@pytest.mark.parametrize("sub", ["mem8", "rvf", "amem"])
def test_defaults_let_every_real_file_through(sub):
    folder = require_corpus(sub)
    for name in corpus_files(sub):
        report = memschema.validate(folder / name)
        assert not any(f.code.endswith("budget_exceeded") for f in report.findings), f"{sub}/{name}: {report}"


def test_dump_streams_through_the_cli(tmp_path):
    path = tmp_path / "j.t8"
    path.write_bytes(_t8r())
    out = subprocess.run([sys.executable, "-m", "memschema.cli", "dump", "--json", str(path)], capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == memschema.output.document_json(memschema.load(path))
