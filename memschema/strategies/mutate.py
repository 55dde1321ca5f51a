"""Generic mutations of valid files: truncation, bit flips, overflowing count/offset/length fields and
corrupted hash fields.  Fields are located through the format's declarations (`parsing.locate`), not
through hand-written offsets: every registered declaration anchored by a constant magic that parses
at offset 0 names the integer and hash fields of the file's head (and of whole-file declarations,
everything they cover)."""

from __future__ import annotations

import random
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import construct as c
from hypothesis import strategies as st

from .. import registry
from ..errors import FormatError
from ..parsing import locate, parse

NO_CRASH = "no_crash"   # load/validate return or raise FormatError, nothing else
FINDING = "finding"     # ... and the change is noticed: FormatError or at least one finding

SIZE_NAME = re.compile(r"(count|len|length|size|offset|_off|num|total)", re.I)
HASH_NAME = re.compile(r"(hash|crc|checksum|digest|signature|sha|xxh)", re.I)
MAX_FIELDS = 400


@dataclass(frozen=True)
class Mutation:
    """A mutated file, how it was made, and what a reader must do with it."""

    data: bytes
    kind: str            # truncate | bit_flip | byte_set | overflow | hash_mismatch
    detail: str
    expect: str          # NO_CRASH or FINDING

    def __repr__(self) -> str:
        return f"Mutation({self.kind}: {self.detail}, expect={self.expect}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class Field:
    path: str
    offset: int
    size: int
    kind: str            # "size" or "hash"
    fmt: str = ""        # struct format of an integer field


def _anchored(decl) -> bool:
    """Whether parsing `decl` at offset 0 checks a constant magic first."""
    while isinstance(decl, (c.Renamed, c.Transformed)) or type(decl).__name__ in ("Hex",):
        decl = decl.subcon
    if isinstance(decl, c.Const):
        return True
    if isinstance(decl, c.Struct) and decl.subcons:
        return _anchored(decl.subcons[0])
    return False


def _leaves(decl, value, path: str) -> Iterator[tuple[str, object]]:
    while isinstance(decl, c.Renamed):
        decl = decl.subcon
    if isinstance(decl, c.Struct) and isinstance(value, dict):
        for sc in decl.subcons:
            if sc.name and sc.name in value:
                yield from _leaves(sc, value[sc.name], f"{path}.{sc.name}" if path else sc.name)
    elif isinstance(decl, (c.Array, c.GreedyRange)) and isinstance(value, list):
        for i, item in enumerate(value[:8]):      # a few elements are enough
            yield from _leaves(decl.subcon, item, f"{path}[{i}]")
    elif isinstance(decl, (c.FormatField, c.Bytes, c.Enum)):
        yield path, decl


def _fields(decl, data) -> list[Field]:
    try:
        value = parse(decl, data, 0)
    except FormatError:
        return []
    out = []
    for path, leaf in _leaves(decl, value, ""):
        name = path.rsplit(".", 1)[-1]
        try:
            offset = locate(decl, value, path)
        except Exception:  # noqa: BLE001 - a field locate cannot place is simply not mutated
            continue
        if isinstance(leaf, c.FormatField) and leaf.fmtstr[-1] in "BHILQbhilq" and SIZE_NAME.search(name):
            out.append(Field(path, offset, leaf.length, "size", leaf.fmtstr))
        elif HASH_NAME.search(name):
            try:
                size = leaf.sizeof()
            except Exception:  # noqa: BLE001
                continue
            if size:
                out.append(Field(path, offset, size, "hash"))
        if len(out) >= MAX_FIELDS:
            break
    return out


def located_fields(data: bytes, format: str | None = None) -> list[Field]:
    """Integer size/count/offset fields and hash fields of `data`, found through every anchored
    declaration of `format` (all formats when None) that parses at offset 0."""
    decls = registry.declarations()
    out: dict[tuple[int, str], Field] = {}
    for name, decl in sorted(decls.items()):
        if format and name.split(".", 1)[0] != format.split("/", 1)[0]:
            continue
        if not _anchored(decl):
            continue
        for f in _fields(decl, data):
            out.setdefault((f.offset, f.kind), f)
    return sorted(out.values(), key=lambda f: f.offset)


def _overflow_values(fmt: str, size: int) -> list[int]:
    bits = 8 * size
    if fmt[-1].islower():
        return [(1 << (bits - 1)) - 1, -(1 << (bits - 1)), -1]
    return [(1 << bits) - 1, (1 << (bits - 1)), (1 << bits) - 2]


@st.composite
def _mutate(draw, files, format):
    data = bytes(draw(files))
    kinds = ["truncate", "bit_flip", "byte_set"]
    fields = located_fields(data, format) if data else []
    sizes = [f for f in fields if f.kind == "size" and f.offset + f.size <= len(data)]
    hashes = [f for f in fields if f.kind == "hash" and f.offset + f.size <= len(data)]
    if sizes:
        kinds.append("overflow")
    if hashes:
        kinds.append("hash_mismatch")
    if not data:
        return Mutation(draw(st.binary(max_size=16)), "byte_set", "bytes instead of an empty file", NO_CRASH)
    kind = draw(st.sampled_from(kinds))
    if kind == "truncate":
        n = draw(st.integers(0, len(data) - 1))
        return Mutation(data[:n], kind, f"cut to {n} of {len(data)} bytes", NO_CRASH)
    if kind == "bit_flip":
        flips = draw(st.lists(st.integers(0, 8 * len(data) - 1), min_size=1, max_size=4, unique=True))
        out = bytearray(data)
        for bit in flips:
            out[bit // 8] ^= 1 << (bit % 8)
        return Mutation(bytes(out), kind, f"bits {flips}", NO_CRASH)
    if kind == "byte_set":
        at = draw(st.integers(0, len(data) - 1))
        value = draw(st.binary(min_size=1, max_size=8))
        out = bytearray(data)
        out[at:at + len(value)] = value[: len(data) - at]
        return Mutation(bytes(out), kind, f"{value.hex()} at {at}", NO_CRASH)
    if kind == "overflow":
        f = draw(st.sampled_from(sizes))
        old = struct.unpack_from(f.fmt, data, f.offset)[0]
        value = draw(st.sampled_from([v for v in _overflow_values(f.fmt, f.size) if v != old] or [old]))
        out = bytearray(data)
        struct.pack_into(f.fmt, out, f.offset, value)
        expect = FINDING if value != old else NO_CRASH
        return Mutation(bytes(out), kind, f"{f.path} @{f.offset}: {old} -> {value}", expect)
    f = draw(st.sampled_from(hashes))
    bit = draw(st.integers(0, 8 * f.size - 1))
    out = bytearray(data)
    out[f.offset + bit // 8] ^= 1 << (bit % 8)
    return Mutation(bytes(out), kind, f"{f.path} @{f.offset}: bit {bit} flipped", FINDING)


def mutations(files: st.SearchStrategy[bytes], format: str | None = None) -> st.SearchStrategy[Mutation]:
    """Mutations of the files `files` draws: truncations, bit flips, byte overwrites (expect: no
    crash), count/offset/length fields set to overflowing values and hash fields corrupted (expect:
    the change is noticed — a `FormatError` or a finding).  `format` restricts which declarations
    locate the fields."""
    return _mutate(files, format)


# -- mutations that reach the decoders ------------------------------------------------------------------
# A format's strategies module may expose `reseal(data) -> bytes` (every checksum of the layout
# recomputed with the format's own code) and `MUTATORS` (name -> (data, Random) -> bytes | None:
# changes inside one encoding layer, re-encoded around it).  Generic byte changes followed by
# `reseal`, plus the format's own mutators, are what the fuzz harness and the property tests use
# to get past the checksums to the decompressors and record decoders.

def change_bytes(data: bytes, rnd: random.Random, keep_length: bool = False) -> bytes:
    """A few bytes flipped or set, and (unless `keep_length`) inserted, erased, cut or appended."""
    out = bytearray(data)
    kinds = ("flip", "set") if keep_length else ("flip", "set", "insert", "erase", "cut", "extend")
    for _ in range(rnd.randint(1, 3)):
        if not out and keep_length:
            break
        kind = rnd.choice(kinds) if out else "extend"
        at = rnd.randrange(len(out)) if out else 0
        if kind == "flip":
            out[at] ^= 1 << rnd.randrange(8)
        elif kind == "set":
            out[at] = rnd.choice((0, 0x7F, 0x80, 0xFF, rnd.randrange(256)))
        elif kind == "insert":
            out[at:at] = rnd.randbytes(rnd.randint(1, 4))
        elif kind == "erase":
            del out[at:at + rnd.randint(1, 4)]
        elif kind == "cut":
            del out[at:]
        else:
            out += rnd.randbytes(rnd.randint(1, 8))
    return bytes(out)


def decoder_mutators(format: str) -> dict[str, Callable[[bytes, random.Random], bytes | None]]:
    """Mutators of `format` whose output keeps its checksums valid: `bytes+reseal` (random byte
    changes, then the format's `reseal`) and the format's own `MUTATORS`; empty when the format
    ships neither."""
    from .files import _module_for
    try:
        module, _ = _module_for(format)
    except LookupError:
        return {}
    out: dict[str, Callable[[bytes, random.Random], bytes | None]] = {}
    reseal = getattr(module, "reseal", None)
    if reseal is not None:
        out["bytes+reseal"] = lambda data, rnd: reseal(change_bytes(data, rnd))
    out.update(getattr(module, "MUTATORS", {}))
    return out


@st.composite
def _decoder_mutation(draw, files, format):
    data = bytes(draw(files))
    options = decoder_mutators(format)
    if not options:
        return Mutation(data, "none", f"{format} has no decoder mutators", NO_CRASH)
    name = draw(st.sampled_from(sorted(options)))
    seed = draw(st.integers(0, 2**32 - 1))
    out = options[name](data, random.Random(seed))
    return Mutation(data if out is None else out, name, f"seed {seed}" + (" (not applicable)" if out is None else ""),
                    NO_CRASH)


def decoder_mutations(files: st.SearchStrategy[bytes], format: str) -> st.SearchStrategy[Mutation]:
    """Mutations by `decoder_mutators(format)` of the files `files` draws (kind = mutator name)."""
    return _decoder_mutation(files, format)
