"""Spec dialect payloads (RVF.md 4.2, 4.3, 4.7): spec MANIFEST payloads give their Level-1 records
and Level0Root, spec VEC payloads (block directory, columnar blocks, delta-varint id maps with
restarts, CRC32C per block) give vectors; on the corpus spec files and files built from the reference."""

from __future__ import annotations

import numpy as np
import pytest
from corpus_support import expected_for, require_corpus

import memschema
from memschema.formats.rvf.spec import spec_vec_payload
from memschema.formats.rvf.spec_build import (
    level1_record_bytes,
    spec_dir_bytes,
    spec_segment_bytes,
    spec_store,
    spec_vec_payload_bytes,
)
from memschema.parsing import parse

DIM = 3


def _blocks(seed=1):
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(10**12, size=300, replace=False)).tolist()   # > 128: restart points, wide gaps
    halves = (np.arange(300 * DIM, dtype=np.float32).reshape(300, DIM) % 128) * 0.5   # exact in f16 and bf16
    return ids, halves


def test_spec_store_gives_its_vectors():
    ids, v = _blocks()
    data = spec_store([[(ids[:150], v[:150], 0), (ids[150:250], v[150:250], 1)], [(ids[250:], v[250:], 2)]], DIM)
    doc = memschema.load(data)
    assert doc.dialect == "spec" and doc.dimension == DIM
    assert doc.ids.tolist() == ids
    np.testing.assert_array_equal(doc.matrix, v)
    assert memschema.validate(data).findings == []
    assert memschema.dump(doc) == data
    out = doc.to_json()
    records = out["latest_manifest"]["level1_records"]
    assert [r["tag_name"] for r in records] == ["segment_dir"]
    assert [e["payload_length"] for e in records[0]["decoded"]] == [s.payload_length for s in doc.segments[:2]]
    assert out["latest_manifest"]["level0_root"]["total_vector_count"] == 300 and len(out["vectors"]) == 300


def test_later_records_win_and_unlisted_segments_are_not_state():
    ids, v = _blocks()
    first = spec_vec_payload_bytes([(ids[:10], v[:10], 0)])
    again = spec_vec_payload_bytes([(ids[:2], v[100:102], 0)])
    data = spec_store([[(ids[:10], v[:10], 0)], [(ids[:2], v[100:102], 0)]], DIM)
    doc = memschema.load(data)
    assert doc.ids.tolist() == ids[2:10] + ids[:2]
    np.testing.assert_array_equal(doc.matrix[-2:], v[100:102])
    assert len(first) and len(again)
    # a VEC segment after the manifest is in no directory
    tail = spec_segment_bytes(1, 9, spec_vec_payload_bytes([(ids[20:22], v[20:22], 0)]), 1)
    assert memschema.load(data + tail).ids.tolist() == doc.ids.tolist()


def test_block_crc_and_id_map_errors():
    ids, v = _blocks()
    payload = bytearray(spec_vec_payload_bytes([(ids[:4], v[:4], 0)]))
    value = parse(spec_vec_payload, bytes(payload))
    block = value.entries[0].block_offset
    crc_at = bytes(payload).index(value.blocks[0].crc32c.to_bytes(4, "little"), block)
    payload[block] ^= 0xFF                       # a value byte: the block CRC32C no longer holds
    data = spec_segment_bytes(1, 1, bytes(payload), 1)
    found = [(f.severity.value, f.code, f.offset) for f in memschema.validate(data).findings]
    assert ("error", "rvf.spec_block_crc", 64 + crc_at) in found
    payload = bytearray(spec_vec_payload_bytes([(ids[:4], v[:4], 0)]))
    id_count_at = block + 4 * DIM * 4 + 1 + 2
    payload[id_count_at] = 3                     # id_count 3 for vector_count 4
    found = memschema.validate(spec_segment_bytes(1, 1, bytes(payload), 1)).findings
    assert ("rvf.spec_block_ids", 64 + id_count_at) in [(f.code, f.offset) for f in found]


def test_segment_dir_must_name_the_segments():
    ids, v = _blocks()
    vec = spec_segment_bytes(1, 1, spec_vec_payload_bytes([(ids[:4], v[:4], 0)]), 1)
    wrong = level1_record_bytes(1, spec_dir_bytes([{"segment_id": 7, "seg_type": 1, "file_offset": 0,
                                                     "payload_length": 1}]))
    root = (require_corpus("rvf") / "spec_level0root.bin").read_bytes()
    data = vec + spec_segment_bytes(5, 2, wrong + root, 1)
    codes = [(f.code, f.path.rsplit(".", 1)[-1]) for f in memschema.validate(data).findings]
    assert ("rvf.dir_entry_mismatch", "segment_id") in codes and ("rvf.dir_entry_mismatch", "payload_length") in codes


def test_spec_payload_declarations_through_dump_as(tmp_path):
    folder = require_corpus("rvf")
    root = (folder / "spec_level0root.bin").read_bytes()
    overlay = bytes(range(40))
    payload = tmp_path / "manifest_payload.bin"
    payload.write_bytes(level1_record_bytes(4, overlay) + root)
    out = memschema.parse_as("rvf.spec_manifest_payload", payload)["spec_manifest_payload"]
    want = expected_for(folder / "spec_level0root.bin")["level0_root"]
    for key in ("epoch", "dimension", "total_vector_count", "file_identity"):
        assert out["level0_root"][key] == want[key], key
    assert out["level1"]["records"][0]["value"] == overlay.hex()
    ids, v = _blocks()
    vec = tmp_path / "vec_payload.bin"
    vec.write_bytes(spec_vec_payload_bytes([(ids[:200], v[:200], 1)]))
    out = memschema.parse_as("rvf.spec_vec_payload", vec)["spec_vec_payload"]
    assert out["block_count"] == 1 and out["blocks"][0]["id_map"]["id_count"] == 200
    deltas = out["blocks"][0]["id_map"]["ids"]
    assert deltas[0] == ids[0] and deltas[128] == ids[128] and deltas[1] == ids[1] - ids[0]


@pytest.mark.parametrize("name", ["spec_level0root.bin", "spec_segment_meta_xxh3_sealed_padded.bin"])
def test_corpus_spec_files_still_read(name):
    path = require_corpus("rvf") / name
    if name.startswith("spec_segment"):
        doc = memschema.load(path)
        assert doc.dialect == "spec" and len(doc.ids) == 0 and memschema.validate(path).ok
    else:
        assert memschema.parse_as("rvf.level0_root", path)["level0_root"]["root_checksum_ok"]
