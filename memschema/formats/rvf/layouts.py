"""The four dialects as whole files (RVF.md 1, 3.1, 4.1, 5): segments from offset 0 to the end of
the file, each its 64-byte header and `payload_length` payload bytes (spec: then the signature
footer when SIGNED, then `alignment_pad` zero bytes).  Bytes that do not form a complete segment
are the section's tail: a torn append, or what follows a header whose magic or version is wrong.

A payload is decoded by its `seg_type` where the dialect's writer declares the payload (runtime:
MANIFEST, VEC, JOURNAL, WITNESS, KERNEL, EBPF, COW_MAP, MEMBERSHIP; wasm_export: its VEC and
MANIFEST); a payload that does not decode as declared stays its bytes, so one bad payload never
hides the segments after it (its checks report it).  INDEX and META payloads, and every spec
payload, stay bytes here: `index_graph`, `meta_seg` and `spec_payloads` decode them (INDEX in bulk,
because its adjacency holds millions of varints; the spec MANIFEST is located from the end of its
payload and spec VEC blocks sit at offsets their directory gives, neither of which a `.ksy` can
state).  The store state (latest manifest, live vectors, witnesses, index, COW view) is computed
from these parsed segments by `document`.
"""

from __future__ import annotations

from construct import FixedSized, GreedyBytes, Select, Struct, Switch, this

from ...layout import EOF, Layout, Section
from .runtime_payloads import (
    cow_map_payload,
    ebpf_payload,
    journal_payload,
    kernel_payload,
    manifest_payload,
    membership_payload,
    vec_payload,
    wasm_manifest_payload,
    wasm_vec_payload,
    witness_payload,
)
from .segment import segment_header
from .spec import spec_segment

RUNTIME, SPEC, WASM, RUVBOT = "runtime", "spec", "wasm_export", "ruvbot"
DIALECTS = (RUNTIME, SPEC, WASM, RUVBOT)

RUNTIME_PAYLOADS = {
    "manifest": manifest_payload, "vec": vec_payload, "journal": journal_payload, "witness": witness_payload,
    "kernel": kernel_payload, "ebpf": ebpf_payload, "cow_map": cow_map_payload, "membership": membership_payload,
}
WASM_PAYLOADS = {"vec": wasm_vec_payload, "manifest": wasm_manifest_payload}


def _segment(payloads: dict, doc: str) -> Struct:
    cases = {name: Select(decl, GreedyBytes) for name, decl in payloads.items()}
    return Struct(
        "header" / segment_header * "64-byte segment header (RVF.md 2.1)",
        "payload" / FixedSized(this.header.payload_length, Switch(this.header.seg_type, cases, default=GreedyBytes))
        * "payload_length bytes: the payload its seg_type declares, or its bytes as they are when it does not "
          "decode as declared (reported by the checks) or its type has no declaration here",
    ) * doc


runtime_segment = _segment(RUNTIME_PAYLOADS, "one packed segment as rvf-runtime writes it (RVF.md 3.1)")
wasm_segment = _segment(WASM_PAYLOADS, "one packed segment of an rvf-wasm store export (RVF.md 5)")
PAYLOADS = {RUNTIME: RUNTIME_PAYLOADS, RUVBOT: RUNTIME_PAYLOADS, WASM: WASM_PAYLOADS, SPEC: {}}


def _layout(dialect: str, segment, title: str, doc: str) -> Layout:
    return Layout(
        f"rvf_{dialect}", title, doc,
        Section("segments", segment, "segments from offset 0 until the end of the file; bytes after the last "
                                     "complete segment are its torn tail", count=EOF),
        extension="rvf",
    )


LAYOUTS = {
    RUNTIME: _layout(RUNTIME, runtime_segment, "RVF store as rvf-runtime RvfStore writes it",
                     "packed segments (64-byte header + payload, no padding) from offset 0 to the end of the file; "
                     "no file header; the state is the last complete MANIFEST whose payload decodes"),
    SPEC: _layout(SPEC, spec_segment, "RVF segments as the upstream spec codecs write them",
                  "segments of header + payload + signature footer (SIGNED) + zero padding to 64 bytes, from "
                  "offset 0 to the end of the file; the MANIFEST payload ends with the 4096-byte Level0Root"),
    WASM: _layout(WASM, wasm_segment, "RVF store export of @ruvector/rvf-wasm",
                  "a VEC segment (u16 count, u32 dimension) then a MANIFEST segment, packed, hashes unset"),
    RUVBOT: _layout(RUVBOT, runtime_segment, "RVF file written by ruvbot's build-rvf.js",
                    "packed runtime segments with SHA-256[:16] hashes and JSON META, PROFILE and WITNESS "
                    "payloads (kept as bytes where they do not decode as the runtime's)"),
}
SEGMENTS = {dialect: layout.section("segments").decl for dialect, layout in LAYOUTS.items()}
