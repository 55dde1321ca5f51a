"""`memschema export` of the corpus queried with DuckDB: the answers (counts per event type and
session, dangling edges found by a join, findings by code, records per file) are the ones
`memschema.load` / `memschema.validate` give; columns come from the declarations."""

from __future__ import annotations

import importlib
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from corpus_support import CORPUS, require_corpus

import memschema
from memschema import cli
from memschema.formats.amem import agentic

duckdb = pytest.importorskip("duckdb") if not os.environ.get("CI") else importlib.import_module("duckdb")
EVENT_NAMES = {v: k for k, v in agentic.EVENT_TYPES.items()}
DANGLING_TARGET = 987_654_321


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory) -> Path:
    """The corpus's data files, plus an AMEM file whose first edge points at a node that does not
    exist (so the dangling-edge join has something to find) and a seed file with a torn append."""
    require_corpus("amem")
    root = tmp_path_factory.mktemp("inputs")
    for sub in ("amem", "mem8", "rvf"):
        (root / sub).mkdir()
        for path in sorted((CORPUS / sub).iterdir()):
            if path.is_file() and not path.name.endswith((".json", ".md")):
                shutil.copy(path, root / sub / path.name)
    data = bytearray((CORPUS / "amem" / "small_d8.amem").read_bytes())
    doc = memschema.load(bytes(data))
    target = doc.parsed.offset_of("edges[0].target_id") if doc.parsed is not None else \
        doc.edge_offset(0, "target_id")
    data[target:target + 8] = DANGLING_TARGET.to_bytes(8, "little")
    (root / "amem" / "dangling.amem").write_bytes(bytes(data))
    (root / "mem8" / "torn.m8").write_bytes((CORPUS / "mem8" / "varied.m8").read_bytes() + b"torn")
    return root


@pytest.fixture(scope="module")
def exported(corpus_copy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tables")
    assert cli.main(["export", str(corpus_copy), "-o", str(out)]) == 0
    return out


def _files(root: Path, variant: str) -> list[Path]:
    return [p for p in sorted(root.rglob("*")) if p.is_file() and memschema.detect(p).id == variant]


def _q(out: Path, sql: str) -> list[tuple]:
    con = duckdb.connect()
    for table in out.glob("*.parquet"):
        con.execute(f"CREATE VIEW {table.stem} AS SELECT * FROM read_parquet('{table}')")
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_counts_per_event_type_and_session(corpus_copy, exported):
    got = _q(exported, "SELECT file, event_type, session_id, count(*) FROM amem_agentic_memory_nodes GROUP BY ALL")
    want = Counter()
    for path in _files(corpus_copy, "amem/agentic-memory"):
        nodes = memschema.load(path).nodes
        for event, session in zip(nodes["event_type"].tolist(), nodes["session_id"].tolist()):
            want[(str(path), EVENT_NAMES.get(event, str(event)), session)] += 1
    assert want, "no AMEM nodes in the corpus"
    assert got == sorted(((*k, v) for k, v in want.items()), key=repr)


def test_dangling_edges_found_by_a_join(corpus_copy, exported):
    got = _q(exported, """
        SELECT e.file, e.record, e.source_id, e.target_id FROM amem_agentic_memory_edges e
        WHERE NOT EXISTS (SELECT 1 FROM amem_agentic_memory_nodes n WHERE n.file = e.file AND n.id = e.source_id)
           OR NOT EXISTS (SELECT 1 FROM amem_agentic_memory_nodes n WHERE n.file = e.file AND n.id = e.target_id)""")
    want = []
    for path in _files(corpus_copy, "amem/agentic-memory"):
        doc = memschema.load(path)
        ids = set(doc.nodes["id"].tolist())
        for j, (s, t) in enumerate(zip(doc.edges["source_id"].tolist(), doc.edges["target_id"].tolist())):
            if s not in ids or t not in ids:
                want.append((str(path), j, s, t))
    assert want and any(t == DANGLING_TARGET for *_, t in want)
    assert got == sorted(want, key=repr)


def test_findings_by_code(corpus_copy, exported):
    got = _q(exported, "SELECT code, severity, count(*) FROM findings GROUP BY ALL")
    want = Counter()
    for path in sorted(p for p in corpus_copy.rglob("*") if p.is_file()):
        for f in memschema.validate(path).findings:
            want[(f.code, str(f.severity))] += 1
    assert ("mem8.trailing_partial_block", "warning") in want and ("amem.dangling_edge", "error") in want
    assert got == sorted(((*k, v) for k, v in want.items()), key=repr)
    torn = _q(exported, "SELECT file, \"offset\" FROM findings WHERE code = 'mem8.trailing_partial_block'")
    assert torn == [(str(corpus_copy / "mem8" / "torn.m8"), (CORPUS / "mem8" / "varied.m8").stat().st_size)]


def test_seed_blocks_per_file_and_their_offsets(corpus_copy, exported):
    got = _q(exported, "SELECT file, count(*), sum(content_len), min(\"offset\") FROM mem8_seed_blocks GROUP BY file")
    want = []
    for path in _files(corpus_copy, "mem8/seed"):
        blocks = memschema.load(path).parsed["blocks"]
        if len(blocks):
            want.append((str(path), len(blocks), int(np.sum(blocks["content_len"], dtype=np.int64)),
                         memschema.load(path).parsed.offset_of("blocks[0]")))
    assert got == sorted(want, key=repr)


def test_rvf_live_vectors_per_file(corpus_copy, exported):
    got = _q(exported, "SELECT file, count(*) FROM rvf_runtime_vectors GROUP BY file")
    want = [(str(p), len(memschema.load(p).ids)) for p in _files(corpus_copy, "rvf/runtime")]
    assert got == sorted([w for w in want if w[1]], key=repr)


def test_columns_and_types_come_from_the_declaration(exported):
    import pyarrow.parquet as pq

    from memschema.formats.mem8.seed import seed_block
    schema = pq.read_schema(exported / "mem8_seed_blocks.parquet")
    assert schema.names == ["file", "record", "offset", *(sc.name for sc in seed_block.subcons)]
    assert str(schema.field("importance").type) == "uint16" and str(schema.field("wave_signature").type) == "binary"
    nodes = pq.read_schema(exported / "amem_agentic_memory_nodes.parquet")
    assert str(nodes.field("event_type").type) == "dictionary<values=string, indices=int32, ordered=0>"


def test_csv_export_answers_the_same(corpus_copy, exported, tmp_path):
    assert cli.main(["export", str(corpus_copy / "amem"), "-o", str(tmp_path), "--to", "csv"]) == 0
    con = duckdb.connect()
    csv = con.execute(f"SELECT event_type, count(*) FROM read_csv('{tmp_path}/amem_agentic_memory_nodes.csv') "
                      "GROUP BY ALL ORDER BY ALL").fetchall()
    parquet = _q(exported, "SELECT event_type, count(*) FROM amem_agentic_memory_nodes GROUP BY ALL ORDER BY ALL")
    assert sorted(csv) == sorted(parquet)
