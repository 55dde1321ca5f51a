"""What the benchmark measures, per format and variant: how to make a file of a given scale with
memschema's own writers, what "decode everything" means, and one write/append operation.

Scales: `small` is 10× smaller than `default` (the sizes of issue 12), `large` is 10× larger.
Each case's functions take plain values and paths so they can run in a fresh subprocess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

WORDS = "memory graph agent rust python vector index session decision fact episode skill lz4 cosine".split()
T0 = 1_767_225_600_000_000


@dataclass(frozen=True)
class Case:
    id: str                                   # format/variant
    scales: dict[str, dict]                   # scale -> parameters of `make`
    make: Callable[..., None]                 # make(path, **params) writes the file
    decode: Callable                          # decode(doc) -> touches every record's decoded content
    write: Callable | None = None             # write(path) -> one append/put/save on the file
    describe: Callable[[dict], str] = field(default=lambda p: ", ".join(f"{k}={v}" for k, v in p.items()))


def _scales(**default) -> dict[str, dict]:
    small = {k: max(1, v // 10) if k not in ("dim",) else v for k, v in default.items()}
    large = {k: v * 10 if k not in ("dim",) else v for k, v in default.items()}
    return {"small": small, "default": default, "large": large}


# --- MEM8 seed -----------------------------------------------------------------------------------

def make_seed(path: Path, blocks: int) -> None:
    from memschema.formats.mem8.seed_store import SeedDocument
    rng = np.random.default_rng(1)
    doc = SeedDocument.new()
    sizes = rng.integers(20, 4000, blocks)
    for i in range(blocks):
        text = (f"memory {i}: " + " ".join(WORDS[j % len(WORDS)] for j in range(i, i + 40))).encode()
        doc.append_block(text * (int(sizes[i]) // len(text) + 1), float(rng.random()), timestamp=T0 + i)
    doc.save(path)


def decode_seed(doc) -> int:
    """Every block's content, most recent first, through the bulk reader (`content(i)` one block
    at a time costs about 8.7 µs a block, 5x the bulk reader on 100,000 blocks)."""
    return sum(len(c) for c in doc.contents(doc.backwards_order()))


def write_seed(path: Path) -> None:
    import memschema
    doc = memschema.load(path)
    doc.append_block(b"one more memory", 0.5)
    memschema.save(doc, path)


# --- MEM8 native journal ---------------------------------------------------------------------------

def make_native(path: Path, records: int) -> None:
    from memschema.formats.mem8.codecs import bincode
    from memschema.formats.mem8.native_store import NativeDocument
    rng = np.random.default_rng(2)
    doc = NativeDocument.new()
    for i in range(records):
        text = " ".join(WORDS[j % len(WORDS)] for j in rng.integers(0, 1000, 1500))
        doc.put(f"src/file_{i}.rs", bincode.encode_string(text))
    Path(path).write_bytes(doc.build())


def decode_native(doc) -> int:
    return sum(len(v) for v in doc.live().values())


def write_native(path: Path) -> None:
    import memschema
    from memschema.formats.mem8.codecs import bincode
    doc = memschema.load(path)
    doc.put("one/more.rs", bincode.encode_string("fn main() {}"))
    if hasattr(doc, "commit"):
        doc.commit(path)
    else:
        Path(path).write_bytes(doc.build())


# --- T8R journal -------------------------------------------------------------------------------------

def make_t8r(path: Path, records: int) -> None:
    from memschema.formats.mem8.codecs import bincode
    from memschema.formats.mem8.t8r_store import T8RDocument
    doc = T8RDocument.new()
    for i in range(records):
        doc.put(f"k{i}", bincode.encode_string(" ".join(WORDS) * 20 + str(i)))
    Path(path).write_bytes(doc.build())


# --- AMEM ----------------------------------------------------------------------------------------------

def _model(nodes: int, edges: int, dim: int):
    from memschema.formats.amem.model import Edge, Model, Node
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((nodes, dim), dtype=np.float32)
    words = rng.integers(0, len(WORDS), (nodes, 4))
    ns = [Node(content=f"node {i}: {' '.join(WORDS[w] for w in words[i])} about topic {i % 97}",
               event_type=i % 6, session_id=i // 1000, confidence=0.5, created_at=T0 + i, id=i, vector=vectors[i])
          for i in range(nodes)]
    src = np.sort(rng.integers(0, nodes, edges))
    dst = rng.integers(0, nodes, edges)
    es = [Edge(int(s), int(t), int(k), 0.5, T0) for s, t, k in zip(src, dst, rng.integers(0, 7, edges))]
    return Model(dimension=dim, nodes=ns, edges=es)


def make_amem(path: Path, nodes: int, edges: int, dim: int) -> None:
    from memschema.formats.amem.writer import write_agentic
    Path(path).write_bytes(write_agentic(_model(nodes, edges, dim))[0])


def make_amem_spec(path: Path, nodes: int, edges: int, dim: int) -> None:
    from memschema.formats.amem.writer import write_spec
    Path(path).write_bytes(write_spec(_model(nodes, edges, dim))[0])


def decode_amem(doc) -> int:
    if hasattr(doc, "contents"):
        return sum(len(t) for t in doc.contents())
    return sum(len(doc.content(i)) for i in range(doc.node_count))


def write_amem(path: Path) -> None:
    import memschema
    doc = memschema.load(path)
    memschema.save(doc, path)


# --- RVF ---------------------------------------------------------------------------------------------

def make_rvf(path: Path, vectors: int, ingests: int, dim: int) -> None:
    from memschema.formats.rvf.writer import StoreWriter
    rng = np.random.default_rng(3)
    writer = StoreWriter(dimension=dim, metric="l2")
    per = max(1, vectors // ingests)
    with open(path, "wb") as fh:
        fh.write(writer.create())
        for k in range(ingests):
            ids = np.arange(k * per, (k + 1) * per, dtype=np.uint64)
            fh.write(writer.ingest(ids, rng.random((per, dim), dtype=np.float32)))


def decode_rvf(doc) -> int:
    return int(doc.matrix.size)


CASES: list[Case] = [
    Case("mem8/seed", _scales(blocks=100_000), make_seed, decode_seed, write_seed),
    Case("mem8/native", _scales(records=2_000), make_native, decode_native, write_native),
    Case("t8r", _scales(records=20_000), make_t8r, decode_native),
    Case("amem/agentic-memory", _scales(nodes=100_000, edges=500_000, dim=128), make_amem, decode_amem, write_amem),
    Case("amem/spec-v1", _scales(nodes=100_000, edges=500_000, dim=128), make_amem_spec, decode_amem),
    Case("rvf/runtime", _scales(vectors=1_000_000, ingests=100, dim=128), make_rvf, decode_rvf),
    Case("rvf/runtime-ingests", {"small": {"vectors": 10_000, "ingests": 100, "dim": 32},
                                 "default": {"vectors": 100_000, "ingests": 1_000, "dim": 32},
                                 "large": {"vectors": 1_000_000, "ingests": 10_000, "dim": 32}},
         make_rvf, decode_rvf),
]
