"""Units: RVF.md 6 test vectors, declaration round trips, validation findings with offsets,
writer behaviour (atomic create, append-safe, failed append), lineage checks and CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig

import pytest
from construct import Const, Renamed
from corpus_support import CORPUS, corpus_files, expected_for, require_corpus
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.rvf import DECLARATIONS, hashes
from memschema.formats.rvf.lineage_check import check_pair, lineage_report
from memschema.formats.rvf.segment import flag_names
from memschema.formats.rvf.strategies import spec_segment_bytes
from memschema.formats.rvf.writer import RvfStore
from memschema.parsing import build, parse

GOLDEN_SEGMENT = bytes.fromhex(
    "53465652" "01" "07" "0000" "0000000000000000" "0000000000000000" "0000000000000000"
    "02" "00" "0000" "00000000" "46b9dd2b0ba88d13233b3feb743eeb24" "00000000" "00000000")


@pytest.mark.parametrize("func, data, want", [
    (hashes.crc32_rotated, b"123456789", "2639f4cbcb2639f4f4cb263939f4cb26"),
    (hashes.crc32_rotated, b"", "00" * 16),
    (hashes.fold32, b"", "00" * 32),
    (hashes.fold32, b"abc", "616263000000000000000000000b131b" + "00" * 16),
    (hashes.fold32, bytes(range(64)), "e318c569e1c774e2d88500f9ae0b68c4187dd93592fe2acf43af1449765bd0fd"),
    (hashes.fold32_python, bytes(range(64)), "e318c569e1c774e2d88500f9ae0b68c4187dd93592fe2acf43af1449765bd0fd"),
    (hashes.shake256_128, b"", "46b9dd2b0ba88d13233b3feb743eeb24"),
    (lambda d: hashes.shake256(d, 32), b"", "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"),
    (hashes.xxh3_128_le, b"", "7f498d4624c30160d8984701d306aa99"),
])
def test_hash_vectors(func, data, want):
    assert func(data).hex() == want


@given(st.binary(max_size=300))
def test_fold32_in_c_is_the_python_fold(data):
    """The extension's fold (witness prev_hash, lineage parent_hash) is the byte-by-byte one, on
    bytes and on a view of a file's bytes."""
    if hashes._fold is None:
        pytest.skip("memschema.formats.rvf._fold is not built here")
    want = hashes.fold32_python(data)
    assert hashes.fold32(data) == want
    assert hashes.fold32(memoryview(bytearray(b"!" + data))[1:]) == want


def test_the_fold_is_built_where_a_compiler_exists():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if not shutil.which(compiler):
        pytest.skip("no C compiler here")
    assert hashes._fold is not None


def test_crc32c_and_golden_structures():
    assert hashes.crc32c(b"123456789") == 0xE3069283
    h = parse(DECLARATIONS["segment_header"], GOLDEN_SEGMENT)
    assert str(h.seg_type) == "meta" and h.checksum_algo == 2
    assert bytes(h.content_hash) == hashes.shake256_128(b"")
    assert build(DECLARATIONS["segment_header"], h) == GOLDEN_SEGMENT
    root = bytearray(4096)
    root[:8] = bytes.fromhex("304d565201000000")
    assert hashes.crc32c(bytes(root[:0xFFC])) == 0x1418DDFF
    root[4] = 0
    assert hashes.crc32c(bytes(root[:0xFFC])) == 0x96E04188


def test_corpus_cross_checks():
    folder = require_corpus("rvf")
    child = memschema.load(folder / "s06_lineage_child.rvf")
    first = child.segments[0]
    assert bytes(first.header.content_hash).hex() == "35070f515135070f0f513507070f5135"
    parent_bytes = (folder / "s06_lineage_parent.rvf").read_bytes()
    assert bytes(child.identity.parent_hash) == hashes.fold32(parent_bytes)




def _fixed_size(decl):
    try:
        return decl.sizeof()
    except Exception:  # noqa: BLE001 - variable-size declarations have no sizeof
        return None


FIXED_NAMES = [n for n, d in DECLARATIONS.items() if _fixed_size(d)]


def _with_consts(decl, raw: bytes) -> bytes:
    """`raw` with every `Const` field of `decl` (the segment magic and version) set to its constant:
    any bytes round-trip except those the declaration rejects."""
    out, at = bytearray(raw), 0      # fixed-size declarations only: each field follows the one before
    for sub in getattr(decl, "subcons", ()):
        inner = sub
        while isinstance(inner, Renamed):     # the name, then the doc
            inner = inner.subcon
        if isinstance(inner, Const):
            out[at:at + inner.sizeof()] = inner.build(None)
        at += sub.sizeof()
    return bytes(out)


@pytest.mark.parametrize("name", FIXED_NAMES)
@given(data=st.data())
def test_fixed_declarations_round_trip_any_bytes(name, data):
    decl = DECLARATIONS[name]
    raw = _with_consts(decl, data.draw(st.binary(min_size=decl.sizeof(), max_size=decl.sizeof())))
    value = parse(decl, raw)
    assert build(decl, value) == raw
    assert build(decl, parse(decl, build(decl, value))) == raw


@pytest.mark.parametrize("seg_index", range(10))
def test_variable_payload_declarations_round_trip_corpus_payloads(seg_index):
    doc = memschema.load(require_corpus("rvf") / "s03_two_batches_delete.rvf")
    seg = doc.segments[seg_index]
    name = {"manifest": "manifest_payload", "vec": "vec_payload", "journal": "journal_payload",
            "witness": "witness_payload"}[seg.type_name]
    raw = bytes(doc.payload(seg))
    assert build(DECLARATIONS[name], parse(DECLARATIONS[name], raw)) == raw


def test_kernel_and_ebpf_payloads_round_trip():
    doc = memschema.load(require_corpus("rvf") / "s08_kernel_ebpf.rvf")
    for seg in doc.segments:
        if seg.type_name in ("kernel", "ebpf"):
            raw = bytes(doc.payload(seg))
            decl = DECLARATIONS[f"{seg.type_name}_payload"]
            value = parse(decl, raw)
            assert build(decl, value) == raw
    kernel = next(s for s in doc.to_json()["segments"] if s["seg_type"] == "kernel")["decoded"]
    assert kernel["api_port"] == 8080 and kernel["image_hash_ok"]


def test_flags_keep_unknown_bits():
    assert flag_names(0x8008) == ["SEALED", "bit15"]


def test_spec_segments_with_each_algorithm():
    data = spec_segment_bytes(7, 1, b"x" * 37, 1) + spec_segment_bytes(7, 2, b"y" * 5, 2) + \
        spec_segment_bytes(7, 3, b"", 3)
    doc = memschema.load(data)
    assert doc.dialect == "spec"
    algos = [s["hash_algorithm"] for s in doc.to_json()["segments"]]
    assert algos == ["xxh3_128", "shake256_128", "xxh3_128"]
    assert all(s["hash_ok"] for s in doc.to_json()["segments"])
    assert memschema.dump(doc) == data


# --- validation findings name path and offset ---------------------------------------------------

def test_hash_mismatch_names_segment_and_offset():
    data = bytearray((require_corpus("rvf") / "s03_two_batches_delete.rvf").read_bytes())
    data[162 + 64 + 20] ^= 1    # inside the first VEC payload
    f = next(f for f in memschema.validate(bytes(data)).findings if f.code == "rvf.hash_mismatch")
    assert (f.path, f.offset) == ("segments[1].header.content_hash", 162 + 0x28)


def test_torn_tail_keeps_the_previous_manifest():
    data = (require_corpus("rvf") / "s03_two_batches_delete.rvf").read_bytes()
    torn = data[:1540 + 100]       # the last manifest is cut short
    doc = memschema.load(torn)
    assert doc.latest.segment.offset == 993 and doc.epoch == 2
    report = memschema.validate(torn)
    assert report.ok and "rvf.torn_tail" in report.codes()
    assert memschema.dump(doc) == torn


def test_truncated_identity_is_reported():
    data = bytearray((require_corpus("rvf") / "s01_empty_dim4.rvf").read_bytes())
    short = bytes(data[:-10])
    # make the manifest's payload_length match the shorter payload and rehash it
    doc = memschema.load(short + bytes(0))
    assert "rvf.torn_tail" in memschema.validate(short).codes()
    assert doc.latest is None
    payload = bytes(data[64:-10])
    header = parse(DECLARATIONS["segment_header"], bytes(data[:64]))
    header.payload_length = len(payload)
    header.content_hash = hashes.crc32_rotated(payload)
    fixed = build(DECLARATIONS["segment_header"], header) + payload
    report = memschema.validate(fixed)
    f = next(f for f in report.findings if f.code == "rvf.identity_truncated")
    assert f.offset == 64 + 26 + 4 and memschema.load(fixed).identity is None


# --- writer ---------------------------------------------------------------------------------------

def test_failed_append_leaves_previous_state(tmp_path, monkeypatch):
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2)
    store.ingest([1], [[1.0, 2.0]])
    before = path.read_bytes()
    import memschema.formats.rvf.writer as writer_mod

    def boom(p, data, expected_size):
        with open(p, "ab") as fh:
            fh.write(data[: len(data) // 2])
        with open(p, "r+b") as fh:
            fh.truncate(expected_size)
        raise OSError("disk full")

    monkeypatch.setattr(writer_mod, "append_safely", boom)
    with pytest.raises(OSError):
        store.ingest([2], [[3.0, 4.0]])
    assert path.read_bytes() == before
    monkeypatch.undo()
    assert store.ingest([3], [[5.0, 6.0]])["epoch"] == 2
    doc = memschema.load(path)
    assert sorted(doc.ids.tolist()) == [1, 3] and memschema.validate(path).ok


def test_append_rereads_a_changed_file_and_cuts_a_torn_append(tmp_path):
    """Under the writer lock the file is re-checked: another writer's ingest is read back from
    its manifest before ours is appended; bytes of a torn append after the manifest are cut."""
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2)
    other = RvfStore.open(path)
    other.ingest([1], [[1.0, 2.0]])
    with open(path, "ab") as fh:
        fh.write(b"x")
    result = store.ingest([2], [[3.0, 4.0]])
    assert result["torn_tail_cut"] == 1 and result["epoch"] == 2
    doc = memschema.load(path)
    assert sorted(doc.ids.tolist()) == [1, 2] and memschema.validate(path).ok


def test_append_refuses_bytes_that_are_not_a_torn_append(tmp_path):
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2)
    store.ingest([1], [[1.0, 2.0]])
    data = bytearray(path.read_bytes())
    data[0:4] = b"JUNK"                                  # the first segment header is gone
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError) as info:
        store.ingest([2], [[3.0, 4.0]])
    assert info.value.code == "rvf.needs_repair" and info.value.offset == 0
    assert path.read_bytes() == bytes(data)


def test_derive_records_parent(tmp_path):
    parent = RvfStore.create(tmp_path / "p.rvf", 3, metric="cosine")
    parent.ingest([1, 2], [[1, 2, 3], [4, 5, 6]])
    child = parent.derive(tmp_path / "c.rvf")
    grand = child.derive(tmp_path / "g.rvf")
    pdoc, cdoc, gdoc = (memschema.load(tmp_path / n) for n in ("p.rvf", "c.rvf", "g.rvf"))
    result = check_pair(cdoc, pdoc)
    assert result["parent_id_matches_parent_file_id"] and result["lineage_depth_is_parent_plus_1"]
    assert result["parent_hash_verifies"] and not result["findings"]
    assert gdoc.identity.lineage_depth == 2 and cdoc.metric == "cosine"
    parent.ingest([3], [[7, 8, 9]])          # the parent changes after the derive
    stale = check_pair(cdoc, memschema.load(tmp_path / "p.rvf"))
    assert not stale["parent_hash_verifies"]
    assert [f.code for f in stale["findings"]] == ["rvf.lineage_parent_hash"]
    report = lineage_report([str(tmp_path)])
    assert len(report["files"][str(tmp_path / "g.rvf")]["ancestry"]) == 2
    _ = grand


def test_lineage_corpus_and_cli():
    folder = require_corpus("rvf")
    for name in ("s06_lineage_child.rvf", "s06_lineage_grandchild.rvf"):
        want = expected_for(folder / name)["lineage"]
        child = memschema.load(folder / name)
        got = check_pair(child, memschema.load(folder / want["parent_file"]), want["parent_file"])
        for key in ("is_root", "parent_id_matches_parent_file_id", "lineage_depth_is_parent_plus_1",
                    "parent_hash_verifies", "parent_hash_rule", "derivation_type_recorded", "parent_file"):
            assert got[key] == want[key], (name, key)
    out = subprocess.run([sys.executable, "-m", "memschema.cli", "lineage", "--json", str(folder)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    files = json.loads(out.stdout)["files"]
    grand = files[str(folder / "s06_lineage_grandchild.rvf")]
    assert [a["parent_file"] for a in grand["ancestry"]] == ["s06_lineage_child.rvf", "s06_lineage_parent.rvf"]


def test_lineage_cli_reports_missing_parent(tmp_path):
    folder = require_corpus("rvf")
    (tmp_path / "child.rvf").write_bytes((folder / "s06_lineage_child.rvf").read_bytes())
    out = subprocess.run([sys.executable, "-m", "memschema.cli", "lineage", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "broken" in out.stdout


def test_rvf_manifest_without_deletion_section_is_read_and_reported():
    """RVF.md 3.3: upstream readers accept a manifest that ends after its directory."""
    from construct import Container, ListContainer

    from memschema.formats.rvf.runtime_payloads import manifest_payload_short
    from memschema.formats.rvf.writer import segment_bytes
    payload = manifest_payload_short.build(Container(
        epoch=3, dimension=4, total_vectors=0, seg_count=0, profile_id=0, metric="l2", reserved=bytes(2),
        segment_dir=ListContainer(), trailing=b"\x00\x00"))
    data = segment_bytes(5, 1, payload)
    doc = memschema.load(data)
    assert doc.deleted_ids == [] and doc.epoch == 3 and doc.identity is None
    assert memschema.dump(doc) == data
    report = memschema.validate(data)
    assert report.ok
    (finding,) = [f for f in report.findings if f.code == "rvf.deletions_missing"]
    assert (finding.path, finding.offset) == ("segments[0].payload.del_count", 64 + 22)
    assert doc.to_json()["latest_manifest"]["deletion_section"] is False


# --- lazy open ------------------------------------------------------------------------------------

def test_open_walks_no_payload_and_a_segment_is_walked_when_asked(tmp_path, monkeypatch):
    """Past detection (which reads the first segments to tell the dialect), loading follows the
    segments by their lengths and reads their headers as one table; a segment's payload is walked
    the first time it is asked for, once."""
    import re

    from memschema import walker
    from memschema.formats.rvf.document import load_rvf
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2)
    for i in range(4):
        store.ingest([i + 1], [[float(i), 1.0]])
    walked = []
    real = walker.Walker.walk

    def walk(self, decl, pos, end, where, ctx, *rest):
        if re.fullmatch(r"segments\[\d+\]", where):
            walked.append(where)
        return real(self, decl, pos, end, where, ctx, *rest)

    detection = memschema.detect(path)
    monkeypatch.setattr(walker.Walker, "walk", walk)
    doc = load_rvf(path.read_bytes(), detection)
    assert not walked and [s.type_name for s in doc.segments].count("manifest") == 5
    assert doc.headers["segment_id"].tolist() == [int(s.header.segment_id) for s in doc.segments]
    assert not walked                                     # headers are parsed alone, not with the payload
    last = doc._manifest_segments[-1]
    assert doc.latest.segment is last and set(walked) == {last.path}   # (one walk enters several layers)
    before = len(walked)
    assert doc.latest.value is last.decoded and len(walked) == before    # kept: not walked again
    assert sorted(doc.ids.tolist()) == [1, 2, 3, 4] and memschema.validate(path).ok


def test_header_rules_read_the_header_table_and_parse_only_flagged_headers(tmp_path, monkeypatch):
    """Validation checks every header's fields on the table `load` reads; a segment's header is
    parsed only when one of its fields breaks a rule (then its finding names the field)."""
    from memschema.formats.rvf import document
    from memschema.formats.rvf.segment import segment_header
    from memschema.parsing import field_offset
    path = tmp_path / "s.rvf"
    store = RvfStore.create(path, 2)
    for i in range(3):
        store.ingest([i + 1], [[float(i), 1.0]])
    parsed = []
    real = document.parse_value
    monkeypatch.setattr(document, "parse_value", lambda decl, data, at, where, *a: parsed.append(where) or
                        real(decl, data, at, where, *a))
    assert memschema.validate(path).ok and not [p for p in parsed if p.endswith(".header")]
    data = bytearray(path.read_bytes())
    second = memschema.load(bytes(data)).segments[1]
    data[second.offset + field_offset(segment_header, "reserved_1")] = 7
    parsed.clear()
    report = memschema.validate(bytes(data))
    assert [(f.code, f.path) for f in report.findings] == [("rvf.nonzero_reserved", "segments[1].header.reserved_1")]
    assert [p for p in parsed if p.endswith(".header")] == ["segments[1].header"]


@pytest.mark.parametrize("name", [n for n in corpus_files("rvf") if n.endswith(".rvf")])
def test_hash_columns_are_the_per_segment_rule(name):
    """`hash_algorithms` / `hash_results` (read off the header table for every segment at once)
    say what the rule gives one segment at a time, on every real file and on a copy with one
    payload byte flipped."""
    data = bytearray((CORPUS / "rvf" / name).read_bytes())
    for flip in (False, True):
        doc = memschema.load(bytes(data))
        one_by_one = [doc._algorithm(doc.stored_hash(s)[0] == hashes.ZERO16, doc.stored_hash(s)[1], s.payload_length)
                      for s in doc.segments]
        assert doc.hash_algorithms == one_by_one
        expected = [hashes.payload_hash(a, doc.payload(s)) for a, s in zip(one_by_one, doc.segments)]
        assert doc.hash_results == [None if e is None else e == doc.stored_hash(s)[0]
                                    for e, s in zip(expected, doc.segments)]
        sized = [s for s in doc.segments if s.payload_length]
        if not flip and sized:
            data[sized[0].payload_offset] ^= 0x40
    if sized and doc.hash_algorithms[sized[0].index] in hashes.PAYLOAD_HASHES:
        assert doc.hash_results[sized[0].index] is False
