"""Bad bytes give findings or FormatError, never another exception, hang or huge allocation."""

from __future__ import annotations

import random
import struct

import pytest
from corpus_support import corpus_files, require_corpus
from hypothesis import given
from hypothesis import strategies as st

import memschema
from memschema.errors import FormatError
from memschema.formats.amem import strategies as amem_st
from memschema.formats.amem.model import Model, Node
from memschema.formats.amem.writer import write_agentic, write_spec
from memschema.strategies import decoder_mutations, decoder_mutators, exercise_bounded


def exercise(data: bytes, fmt: str | None = None) -> set[str]:
    """Load, dump, JSON and validate; only FormatError may escape load."""
    report = memschema.validate(data, format=fmt)
    try:
        doc = memschema.load(data, format=fmt)
    except FormatError as exc:
        assert exc.code in report.codes() or not report.ok, (exc, report)
        return report.codes()
    doc.to_json()
    doc.summary()
    memschema.dump(doc)
    return report.codes()


@pytest.mark.parametrize("name", corpus_files("amem"))
def test_amem_truncations_and_byte_flips(name):
    raw = (require_corpus("amem") / name).read_bytes()
    # every header byte, then ~60 positions spread over the rest of the file
    positions = sorted(set(range(min(64, len(raw)))) | set(range(64, len(raw), max(1, len(raw) // 60))))
    for cut in positions[::4] + [len(raw) - 1]:
        for fmt in (None, "amem/agentic-memory", "amem/spec-v1"):
            exercise(raw[:cut], fmt)
    for pos in positions:
        flip = (0x01, 0x80, 0xFF)[pos % 3]
        data = raw[:pos] + bytes([raw[pos] ^ flip]) + raw[pos + 1:]
        exercise(data, None if pos % 2 else "amem/agentic-memory")


@given(amem_st.broken_files())
def test_amem_broken_files_report_their_code(case):
    data, code = case
    codes = exercise(data)
    assert code in codes, (code, codes)


@given(amem_st.valid_files(), st.data())
def test_amem_random_mutations_never_crash(data, draw):
    pos = draw.draw(st.integers(0, max(len(data) - 1, 0)))
    value = draw.draw(st.binary(min_size=1, max_size=8))
    exercise(data[:pos] + value + data[pos + len(value):])
    exercise(data[:pos], "amem/agentic-memory")
    exercise(data[:pos], "amem/spec-v1")


def test_amem_huge_declared_sizes_are_findings_not_memory_errors():
    data, _ = write_agentic(Model(dimension=1, nodes=[Node("hello hello hello", id=0)]))
    doc = memschema.load(data)
    start, _ = doc.blob_span(0)
    bad = data[:start] + struct.pack("<I", 0xFFFFFFFF) + data[start + 4:]
    report = memschema.validate(bad)
    assert "amem.bad_lz4_size" in report.codes()
    finding = next(f for f in report.findings if f.code == "amem.bad_lz4_size")
    assert finding.offset == start and finding.path == "content[0]"
    huge = data[:16] + struct.pack("<Q", 10**18) + data[24:]
    with pytest.raises(FormatError):
        memschema.load(huge)
    with pytest.raises(FormatError) as info:
        memschema.load(huge, format="amem/agentic-memory")
    assert info.value.code == "amem.truncated" and info.value.path == "nodes"


def test_amem_unknown_tag_and_trailing_bytes_survive_dump():
    data, _ = write_agentic(Model(dimension=0, nodes=[Node("x y zz", id=3)]))
    extra = data + bytes([0x42]) + struct.pack("<Q", 3) + b"abc" + b"\x01\x02"
    doc = memschema.load(extra)
    assert memschema.dump(doc) == extra
    codes = memschema.validate(extra).codes()
    assert {"amem.unknown_index_tag", "amem.trailing_bytes"} <= codes
    assert doc.to_json()["indexes"]["tags"][-1] == 0x42


def test_amem_inconsistent_header_names_both_layouts():
    data, _ = write_agentic(Model(dimension=4, nodes=[Node("a", id=0)]))
    broken = data[:40] + struct.pack("<Q", 9999) + data[48:]
    det = memschema.detect(broken)
    assert det.id == "amem" and "spec-v1" in det.description and "agentic-memory" in det.description
    report = memschema.validate(broken)
    assert "amem.inconsistent_header" in report.codes()


def test_amem_spec_cluster_map_with_empty_centroids_cannot_exhaust_memory():
    """Found by tox's run of the declaration properties (hypothesis 6.170): num_clusters 2^32 - 1 and
    dimension 0 made construct build 4 billion empty lists (24 GB, OOM-killed)."""
    import time

    from memschema.strategies import check_bytes_survive
    decl = memschema.declarations()["amem.spec_cluster_map"]
    data = decl.build({"index_type": 4, "num_clusters": 0, "dimension": 0, "centroids": [], "assignments": []},
                      header={"node_count": 0})
    data = data[:4] + (0xFFFFFFFF).to_bytes(4, "little") + data[8:]
    started = time.monotonic()
    with pytest.raises(memschema.FormatError) as exc:
        memschema.parse_as("amem.spec_cluster_map", data)
    assert exc.value.path == "spec_cluster_map.centroids"
    assert check_bytes_survive(decl, data, header={"node_count": 0}) is False
    assert time.monotonic() - started < 1


# -- hostile files of issue 10: small files whose nodes share 16 MiB blobs ------------------------------

HOSTILE_RSS_MIB, HOSTILE_SECONDS = 256, 20


@pytest.mark.parametrize("blobs, size_mib, about_kb", [(1, 16, 91), (3, 14, 191)])
@pytest.mark.parametrize("call", ["validate", "dump"])
def test_nodes_sharing_huge_blobs_stay_small(tmp_path, blobs, size_mib, about_kb, call):
    from hostile import MiB, amem_shared_blobs, probe
    path = tmp_path / "shared.amem"
    path.write_bytes(amem_shared_blobs(200, blobs, size_mib * MiB))
    assert abs(path.stat().st_size / 1000 - about_kb) < 15
    got = probe(path, call)
    assert got["rc"] == 0 and "exception" not in got, got
    assert got["children_rss_mib"] < HOSTILE_RSS_MIB and got["seconds"] < HOSTILE_SECONDS, got
    if call == "validate":
        assert "amem.budget_exceeded" in got["codes"], got


def test_a_shared_blob_is_decoded_once_and_each_node_is_charged(monkeypatch):
    import lz4.block
    from hostile import MiB, amem_shared_blobs
    data = amem_shared_blobs(200, 1, 16 * MiB)
    calls = []
    real = lz4.block.decompress
    monkeypatch.setattr(lz4.block, "decompress", lambda *a, **k: calls.append(len(a[0])) or real(*a, **k))
    report = memschema.validate(data)
    assert len(calls) == 1                           # one blob, one decode
    over = [f for f in report.findings if f.code == "amem.budget_exceeded" and f.path]
    assert over and over[0].path == "content[4]" and over[0].is_error   # 4 × 16 MiB fit the 64 MiB budget
    assert over[0].offset == memschema.load(data).blob_span(4)[0]
    assert "budget of 67108864 bytes" in over[0].message
    doc = memschema.load(data, budget=memschema.Budget(max_decoded_bytes=300 * 16 * MiB))
    assert doc.content(199) == doc.content(0) and len(calls) == 2     # one more for this document


@pytest.mark.parametrize("nodes", [40, 20_000])      # one chunk of DECODE_ROWS, and two
def test_contents_charged_a_chunk_at_a_time_match_node_by_node(nodes):
    """`decoded` charges a chunk's well-formed blobs together; the outcomes (contents, and the
    budget error of the first node past the budget, then of every later one) and the bytes charged
    must be those of decoding node by node."""
    texts = [f"memory {i}: " + "abc" * (i % 7 + 40) for i in range(nodes)]
    data = write_agentic(Model(dimension=4, nodes=[Node(content=t, created_at=i) for i, t in enumerate(texts)]))[0]
    budget = memschema.Budget(max_decoded_bytes=sum(len(t) for t in texts[:nodes // 2]) + 5)

    def outcome(x):
        return x if isinstance(x, bytes) else (x.code, x.path, x.offset)

    together = memschema.load(data, budget=budget)
    got = [outcome(x) for x in together.decoded(failures=True)]
    alone = memschema.load(data, budget=budget)
    expected = [outcome(next(alone.decoded(i, i + 1, failures=True))) for i in range(nodes)]
    assert got == expected
    assert together.meter.used == alone.meter.used
    assert got[nodes // 2 - 1] == texts[nodes // 2 - 1].encode() and got[nodes // 2][0] == "amem.budget_exceeded"


@pytest.mark.parametrize("damaged", [[], [3], [0, 17, 39]])
def test_contents_decoded_a_batch_at_a_time_match_node_by_node(damaged):
    """A chunk whose blobs all look well-formed is decoded as whole batches; a batch holding a blob
    lz4 refuses (its size prefix intact, its block garbled) goes node by node.  Either way the
    outcomes and the bytes charged are those of decoding node by node."""
    from memschema.formats.amem.agentic_store import PREFIX
    texts = [f"memory {i}: " + "abc" * (i % 7 + 40) for i in range(40)]
    data = bytearray(write_agentic(Model(dimension=4, nodes=[Node(content=t, created_at=i)
                                                             for i, t in enumerate(texts)]))[0])
    spans = memschema.load(bytes(data)).blobs
    for i in damaged:
        start, length = int(spans[0][i]), int(spans[1][i])
        data[start + PREFIX.itemsize:start + length] = b"\xff" * (length - PREFIX.itemsize)
    data = bytes(data)

    def outcome(x):
        return x if isinstance(x, bytes) else (x.code, x.path, x.offset)

    together = memschema.load(data)
    got = [outcome(x) for x in together.decoded(failures=True)]
    alone = memschema.load(data)
    expected = [outcome(next(alone.decoded(i, i + 1, failures=True))) for i in range(len(texts))]
    assert got == expected and together.meter.used == alone.meter.used
    assert [i for i, x in enumerate(got) if not isinstance(x, bytes)] == damaged
    assert [x for i, x in enumerate(got) if i not in damaged] == [t.encode() for i, t in enumerate(texts)
                                                                  if i not in damaged]


# -- fuzzing hooks: mutations that reach the LZ4 decoders (issue 10 item 7) ----------------------------------

def _brains() -> dict[str, bytes]:
    nodes = [Node(content=f"memory {i}: " + "the quick brown fox " * (i + 3), created_at=i) for i in range(6)]
    return {"agentic-memory": write_agentic(Model(dimension=4, nodes=nodes))[0],
            "spec-v1": write_spec(Model(dimension=4, nodes=nodes))[0]}


@pytest.mark.parametrize("layout, mutator, reached", [
    ("agentic-memory", "lz4_block", "amem.bad_lz4"),        # only decompress_block says this
    ("agentic-memory", "lz4_size", "amem.bad_lz4_size"),
    ("agentic-memory", "content", "amem.bad_utf8"),         # the decoded text itself
    ("spec-v1", "lz4_frame_bytes", "amem.bad_lz4"),         # only decompress_frame says this
    ("spec-v1", "lz4_frame", "amem.bad_utf8"),
])
def test_mutations_reach_the_lz4_decoders(layout, mutator, reached):
    data = _brains()[layout]
    assert memschema.validate(data).ok
    codes = set()
    for seed in range(40):
        out = decoder_mutators("amem")[mutator](data, random.Random(seed))
        assert out is not None
        codes |= memschema.validate(out).codes()
    assert reached in codes, codes


@given(st.data())
def test_decoder_mutations_never_crash(data):
    mutation = data.draw(decoder_mutations(amem_st.valid_files(), "amem"))
    exercise_bounded(mutation.data, "amem")


def test_amem_a_large_node_id_costs_a_finding_not_a_dense_table():
    """Tag 6 is dense by node id: a flipped id bit must not make validation build a table of 2^25
    entries (found by the mutation property: 8 MB allocated for a 296-byte file)."""
    from memschema.strategies.exercise import exercise_bounded
    data, _ = write_agentic(Model(dimension=0, nodes=[Node("alpha beta", id=0)]))
    at = memschema.load(data).node_offset(0, "id")
    big = data[:at] + struct.pack("<Q", 1 << 25) + data[at + 8:]
    exercise_bounded(big)
    found = [f for f in memschema.validate(big).findings if f.code == "amem.doc_lengths_mismatch"]
    assert found and found[0].path == "indexes.doc_lengths.count"


@pytest.mark.parametrize("stored_offset, length", [
    (0x7FFFFFFFFFFF4140, 60_000),   # found by CI's fuzz run: start + length wrapped past int64
    (2**64 - 5, 40),                # as int64 this is -5: plus the block start it would land inside the file
], ids=["wraps_int64", "u64_reads_as_negative"])
def test_amem_a_content_offset_past_every_file_is_out_of_bounds(stored_offset, length):
    data, _ = write_agentic(Model(dimension=4, nodes=[Node("alpha", id=0), Node("beta", id=1)]))
    doc = memschema.load(data)
    at, at_length = doc.node_offset(0, "content_offset"), doc.node_offset(0, "content_length")
    bad = bytearray(data)
    struct.pack_into("<Q", bad, at, stored_offset)
    struct.pack_into("<I", bad, at_length, length)
    exercise_bounded(bytes(bad))
    found = [f for f in memschema.validate(bytes(bad)).findings if f.code == "amem.content_out_of_bounds"]
    assert [(f.severity, f.path, f.offset) for f in found] == [("error", "nodes[0].content_length", at_length)]
    assert "runs past the end" in found[0].message
