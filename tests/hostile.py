"""Hostile files of issue 10 (small files that decode to gigabytes) and the subprocess probe that
measures what a memschema call costs on them (peak RSS, wall time, outcome).

Built with the formats' own encoders; only the token stream of the LZW bomb is written here,
because encoding 64 MiB with the greedy encoder would take minutes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
from construct import Container

from memschema.dtypes import struct_dtype
from memschema.formats.amem import agentic
from memschema.formats.amem.compression import compress_block
from memschema.formats.amem.model import Model, Node
from memschema.formats.amem.writer import write_agentic
from memschema.formats.mem8.codecs import bincode, token_lzw
from memschema.formats.mem8.codecs.location import location
from memschema.formats.mem8.native import ST8_MAGIC, ST8_VERSION, t8r_frame_header
from memschema.formats.mem8.native_store import payload_pairs
from memschema.formats.mem8.record_frame import MAX_FRAME_LEN, header_crc
from memschema.formats.mem8.t8r_store import T8RDocument

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


# -- LZW + zlib bomb -------------------------------------------------------------------------------

def lzw_bomb_tokens(prefix: bytes, fill: int, ramp: int = 1000) -> bytes:
    """Token codes that decode to `prefix + b"a" * fill`: the prefix as literals, then the KwKwK ramp
    ('a', 'aa', 'aaa', ... up to `ramp` bytes, each a new code), then the longest entry repeated,
    then the entry of the remaining length."""
    codes = list(prefix) + [ord("a")]
    n = 256 + len(prefix)              # next code the decoder assigns (one per code after the first)
    made, length = 1, 1                # 'a' bytes emitted; length of the entry of the last code
    entry_of = {1: ord("a")}
    while length < ramp and made + length + 1 <= fill:
        codes.append(n)                # KwKwK: prev + prev[0]
        length += 1
        entry_of[length] = n
        made += length
        n += 1
    while fill - made >= length:
        codes.append(entry_of[length])
        made += length
    if fill > made:
        codes.append(entry_of[fill - made] if fill - made in entry_of else ord("a"))
        made += fill - made if fill - made in entry_of else 1
    while made < fill:
        codes.append(ord("a"))
        made += 1
    out = bytearray()
    for code in codes:
        token_lzw.write_varint(code, out)
    return bytes(out)


def bomb_compressed(raw_len: int = MAX_FRAME_LEN) -> bytes:
    """zlib(tokens) of a valid `Record {key: "", value: b"a" * N}` that is `raw_len` bytes long."""
    head = bincode.encode_string("")
    value_len = raw_len - len(head)
    value_len -= len(bincode.encode_varint(value_len))
    prefix = head + bincode.encode_varint(value_len)
    assert len(prefix) + value_len == raw_len
    return zlib.compress(lzw_bomb_tokens(prefix, value_len), 9)


def _frame(compressed: bytes, raw_len: int) -> bytes:
    h = Container(compressed_len=len(compressed), raw_len=raw_len, payload_crc32=zlib.crc32(compressed),
                  header_crc32=0)
    h.header_crc32 = header_crc(h)
    return t8r_frame_header.build(h) + compressed


def t8r_bomb(size: int) -> bytes:
    """A T8R journal of about `size` bytes whose frames each decode to 64 MiB."""
    frame = _frame(bomb_compressed(), MAX_FRAME_LEN)
    head = T8RDocument.new().build()
    return head + frame * max(1, (size - len(head)) // len(frame))


def native_bomb(size: int) -> bytes:
    """A native ST8 journal of about `size` bytes whose records each decode to 64 MiB."""
    record = payload_pairs(location(""), ST8_MAGIC + bytes([ST8_VERSION]) + _frame(bomb_compressed(), MAX_FRAME_LEN))
    return record * max(1, size // len(record))


# -- AMEM: nodes sharing 16 MiB blobs ----------------------------------------------------------------

def amem_shared_blobs(nodes: int = 200, blobs: int = 1, size: int = 16 * MiB) -> bytes:
    """agentic-memory file whose `nodes` nodes all point at `blobs` LZ4 blobs of `size` bytes each."""
    stored = [compress_block((b"%c" % (ord("a") + b)) * size) for b in range(blobs)]
    model = Model(dimension=4, nodes=[Node(created_at=i, id=i) for i in range(nodes)])
    data, _ = write_agentic(model, blobs=stored + [None] * (nodes - blobs), term_index=False)
    out = bytearray(data)
    table = np.frombuffer(out, dtype=struct_dtype(agentic.node_record), count=nodes, offset=agentic.HEADER_SIZE)
    starts = np.cumsum([0] + [len(b) for b in stored])
    which = np.arange(nodes) % blobs
    table["content_offset"] = starts[which]
    table["content_length"] = np.array([len(b) for b in stored])[which]
    return bytes(out)


# -- measuring in a subprocess ------------------------------------------------------------------------

_PROBE = r"""
import json, resource, sys, time
import memschema
path, call = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
out = {}
try:
    if call == "validate":
        r = memschema.validate(path)
        out = {"ok": r.ok, "codes": sorted(r.codes()), "errors": len(r.errors)}
    elif call == "dump":
        import io
        from memschema.cli import main
        sys.stdout = io.TextIOWrapper(open("/dev/null", "wb"))
        out = {"status": main(["dump", "--json", path])}
    else:
        raise SystemExit("unknown call " + call)
except BaseException as exc:  # the probe reports whatever happened
    out = {"exception": type(exc).__name__, "message": str(exc)[:300]}
out["seconds"] = time.perf_counter() - t0
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
sys.__stdout__.write(json.dumps(out) + "\n")
"""


def probe(path: Path, call: str = "validate", limit_mib: int = 1024, timeout: float = 120) -> dict:
    """Run `memschema.<call>(path)` in a fresh interpreter (address space capped at `limit_mib` so a
    regression cannot take the machine down).  Returns the outcome, its wall time, and the child's
    peak RSS from `getrusage(RUSAGE_CHILDREN)` as seen by a wrapper process."""
    wrapper = (f"import resource, subprocess, sys, json\n"
               f"resource.setrlimit(resource.RLIMIT_AS, ({limit_mib} << 20, {limit_mib} << 20))\n"
               f"p = subprocess.run([sys.executable, '-c', {_PROBE!r}, {str(path)!r}, {call!r}],"
               f" capture_output=True, text=True)\n"
               f"rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
               f"print(json.dumps({{'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-2000:], 'rss': rss}}))\n")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)
    wall = time.perf_counter() - t0
    res = json.loads(proc.stdout)
    line = res["out"].strip().splitlines()[-1] if res["out"].strip() else "{}"
    out = json.loads(line) if line.startswith("{") else {"raw": res["out"]}
    out.update(rc=res["rc"], children_rss_mib=res["rss"], wall=wall, stderr=res["err"])
    return out
