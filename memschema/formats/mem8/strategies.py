"""Hypothesis strategies for whole files of the MEM8 family (the project's property-testing
convention: `valid_files(variant)` and `broken_files()` per format package).

- `valid_files(variant)`: bytes of VALID whole files written by memschema's own writers:
  `native` (ST8 record journals and raw payload pair files; also `native_journal` / `native_raw`
  alone), `t8r`, `m8mem`, `seed`, `m8sections`, `m8tool`; `None` = any of them.
- `broken_files()`: `(bytes, code)` pairs: a valid file damaged in one way, and the finding code
  `memschema.validate` must report for it.
- `reseal(data)`, `MUTATORS`: checksum fix-ups and layer mutations that let fuzzed bytes reach
  the decoders (`mutators.py`).

Each layout has its own clearly separated strategy functions below.
"""

from __future__ import annotations

from hypothesis import strategies as st

from .codecs import bincode
from .m8mem import m8mem_checksum, m8mem_memory
from .m8mem_store import M8MemDocument
from .m8tool_store import M8ToolDocument
from .mutators import MUTATORS, reseal  # noqa: F401 - the fuzzing hooks (memschema.strategies.mutate)
from .native import BLOCK_SIZE, ST8_MAGIC, block_header
from .native_store import NativeDocument, Wave, payload_pairs
from .record_frame import FRAME_HEADER_SIZE
from .sections import SECTION_CODES, WAVE_SIZE, markqant_text
from .sections_store import M8SectionsDocument
from .seed_store import SeedDocument
from .t8r import FILE_HEADER_SIZE, t8r_layout
from .t8r_store import T8RDocument

# -- shared pieces ----------------------------------------------------------------------------------

_keys = st.text(max_size=12)
_values = st.one_of(st.binary(max_size=64).map(bincode.encode_bytes),
                    st.text(max_size=32).map(bincode.encode_string),
                    st.binary(min_size=4000, max_size=9000).map(bincode.encode_bytes))   # multi-pair records
_waves = st.one_of(st.none(), st.builds(Wave, st.floats(0, 65535), st.floats(-1, 1), st.floats(0, 1)))
_ops = st.lists(st.tuples(st.sampled_from(("put", "put", "forget")), _keys, _values, _waves), min_size=1,
                max_size=5)   # at least one record: a 0-byte store is detected as an empty file


# -- native (MEM8.md Part 2) --------------------------------------------------------------------------

@st.composite
def native_journals(draw) -> bytes:
    """An ST8 record journal built by put/forget (tombstones included)."""
    doc = NativeDocument.new()
    for op, key, value, wave in draw(_ops):
        if op == "put":
            doc.put(key, value, wave)
        else:
            doc.forget(key)
    return doc.build()


@st.composite
def native_raw_pairs(draw) -> bytes:
    """A raw payload pair file (like the golden vector): distinct locations, so no two payloads
    chain into one, and a first payload that does not look like an ST8 record."""
    locations = draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=4, unique=True))
    out = bytearray()
    for i, loc in enumerate(locations):
        payload = draw(st.binary(min_size=1, max_size=9000))
        if i == 0 and payload.startswith(ST8_MAGIC):
            payload = b"raw" + payload
        out += payload_pairs(loc, payload, draw(_waves), draw(st.booleans()))
    return bytes(out)


# -- T8R (MEM8.md 2.8) ----------------------------------------------------------------------------------

@st.composite
def t8r_journals(draw) -> bytes:
    doc = T8RDocument.new()
    for op, key, value, _ in draw(_ops):
        if op == "put":
            doc.put(key, value)
        else:
            doc.forget(key)
    return doc.build()


# -- M8MEM (MEM8.md Part 3) -----------------------------------------------------------------------------

_short_text = st.text(max_size=20).filter(lambda s: len(s.encode()) <= 255)


@st.composite
def m8mem_files(draw) -> bytes:
    doc = M8MemDocument.new(draw(st.integers(0, 2**40)), draw(st.integers(0, 2**32 - 1)))
    for _ in range(draw(st.integers(0, 4))):
        doc.add_memory(draw(_short_text), draw(st.lists(_short_text, max_size=4)), draw(st.text(max_size=200)),
                       draw(_short_text), draw(st.integers(0, 2**40)))
    return doc.build()


# -- seed (MEM8.md Part 1) ------------------------------------------------------------------------------

@st.composite
def seed_files(draw) -> bytes:
    doc = SeedDocument.new()
    t = draw(st.integers(0, 2**52))
    for content in draw(st.lists(st.binary(max_size=5000), max_size=4)):
        t += draw(st.integers(0, 10**6))
        doc.append_block(content, draw(st.floats(0, 1)), timestamp=t)
    return doc.build()


# -- sectioned files and the m8 tool layout (MEM8.md Part 4) --------------------------------------------

_ascii = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=60)
_waves_rows = st.lists(st.fixed_dictionaries({
    "id": st.integers(0, 2**64 - 1), "amplitude": st.integers(0, 255), "frequency": st.integers(0, 65535),
    "phase": st.integers(0, 255), "valence": st.integers(-128, 127), "arousal": st.integers(0, 255),
    "decay_tau": st.integers(0, 65535), "timestamp": st.integers(0, 2**64 - 1),
    "interference": st.integers(0, 2**64 - 1)}), max_size=3)


@st.composite
def m8sections_files(draw) -> bytes:
    doc = M8SectionsDocument.new(draw(st.sampled_from(sorted(SECTION_CODES))), draw(st.integers(0, 2**40)))
    for kind in draw(st.lists(st.sampled_from(("text", "waves")), min_size=1, max_size=3)):
        if kind == "text":
            text = draw(_ascii)
            words = sorted({w for w in text.split() if w}, key=len)[:4]
            doc.add_text(text, words)
        else:
            doc.add_waves(draw(_waves_rows))
    return doc.build()


@st.composite
def m8tool_files(draw) -> bytes:
    """Version ',' is left out: `MEM8,` is the text capsule, which detection tests first (MEM8.md Part 4)."""
    doc = M8ToolDocument.new(draw(st.integers(0, 255).filter(lambda v: v != ord(","))), draw(st.integers(0, 255)))
    for _ in range(draw(st.integers(1, 3))):
        doc.add_section(draw(st.binary(min_size=4, max_size=4)), draw(st.binary(max_size=64)),
                        draw(st.integers(0, 255)))
    return doc.build()


_VALID = {
    "native_journal": native_journals,
    "native_raw": native_raw_pairs,
    "t8r": t8r_journals,
    "m8mem": m8mem_files,
    "seed": seed_files,
    "m8sections": m8sections_files,
    "m8tool": m8tool_files,
}


def valid_files(variant: str | None = None) -> st.SearchStrategy[bytes]:
    """Valid whole files of one variant (`native`, `native_journal`, `native_raw`, `t8r`, `m8mem`,
    `seed`, `m8sections`, `m8tool`) or of any (None)."""
    if variant == "native":
        return st.one_of(native_journals(), native_raw_pairs())
    if variant is None:
        return st.one_of(*(f() for f in _VALID.values()))
    return _VALID[variant]()


# -- broken files ---------------------------------------------------------------------------------------

def _flip(data: bytes, at: int, mask: int) -> bytes:
    out = bytearray(data)
    out[at] ^= mask
    return bytes(out)


@st.composite
def _native_flipped(draw) -> tuple[bytes, str]:
    """One byte changed in a block body (the block headers stay, so detection still sees a native
    file): the block's CRC seal no longer matches."""
    data = draw(st.one_of(native_journals(), native_raw_pairs()))
    block = draw(st.integers(0, len(data) // BLOCK_SIZE - 1))
    at = block * BLOCK_SIZE + draw(st.integers(block_header.sizeof(), BLOCK_SIZE - 1))
    return _flip(data, at, draw(st.integers(1, 255))), "mem8.native.crc_mismatch"


@st.composite
def _native_torn(draw) -> tuple[bytes, str]:
    """The journal cut short inside its last record (a crash during append); the first block header
    stays whole, so detection still sees a native file."""
    data = draw(native_journals())
    last = NativeDocument(NativeDocument.new().detection, data).records[-1].offset
    cut = draw(st.integers(max(block_header.sizeof(), last + 1), len(data) - 1))
    return data[:cut], "mem8.native.torn_tail"


@st.composite
def _t8r_torn(draw) -> tuple[bytes, str]:
    """The journal cut inside one of its frames (never on a frame boundary: that is a valid file)."""
    data = draw(t8r_journals())
    frames = t8r_layout.parse(data).placed["frames"]
    start, end = frames.record_span(draw(st.integers(0, len(frames.value) - 1)))
    return data[:draw(st.integers(start + 1, end - 1))], "t8r.torn_tail"


@st.composite
def _t8r_flipped_frame_header(draw) -> tuple[bytes, str]:
    """A byte of the first frame header changed: its header CRC no longer matches."""
    data = draw(t8r_journals())
    at = draw(st.integers(FILE_HEADER_SIZE, FILE_HEADER_SIZE + FRAME_HEADER_SIZE - 1))
    return _flip(data, at, draw(st.integers(1, 255))), "t8r.header_crc_mismatch"


@st.composite
def _m8mem_flipped(draw) -> tuple[bytes, str]:
    """A byte of the last fixed-size field (the last memory's timestamp, or the header's
    last_accessed when there is none) or of the checksum itself changed."""
    data = draw(m8mem_files())
    tail = m8mem_memory.timestamp.sizeof() + m8mem_checksum.sizeof()
    at = draw(st.integers(len(data) - tail, len(data) - 1))
    return _flip(data, at, draw(st.integers(1, 255))), "m8mem.checksum_mismatch"


@st.composite
def _m8mem_no_checksum(draw) -> tuple[bytes, str]:
    return draw(m8mem_files())[:-1], "m8mem.checksum_missing"


@st.composite
def _sections_wave_size(draw) -> tuple[bytes, str]:
    """A WaveMemory section whose size is not a whole number of 32-byte records."""
    doc = M8SectionsDocument.new(draw(st.sampled_from(sorted(SECTION_CODES))), 0)
    doc.add_section(SECTION_CODES[doc.variant]["WaveMemory"],
                    draw(st.binary(min_size=1, max_size=100).filter(lambda b: len(b) % WAVE_SIZE)))
    return doc.build(), "m8sections.wave_size"


@st.composite
def _sections_unknown_token(draw) -> tuple[bytes, str]:
    """Markqant text using a byte >= 0x80 that its token table does not define."""
    doc = M8SectionsDocument.new(draw(st.sampled_from(sorted(SECTION_CODES))), 0)
    text = draw(_ascii).encode() + bytes([draw(st.integers(0x80, 0xFF))])
    doc.add_section(SECTION_CODES[doc.variant]["MarkqantText"], markqant_text.build(
        {"token_count": 0, "tokens": [], "encoded_len": len(text), "encoded": text}))
    return doc.build(), "m8sections.markqant_token"


def broken_files() -> st.SearchStrategy[tuple[bytes, str]]:
    """(broken file, finding code validate must report)."""
    return st.one_of(_native_flipped(), _native_torn(), _t8r_torn(), _t8r_flipped_frame_header(),
                     _m8mem_flipped(), _m8mem_no_checksum(), _sections_wave_size(), _sections_unknown_token())
