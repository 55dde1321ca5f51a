"""spec-v1 has no files in the wild: hand-check a small built file against the seed's tables
(seed 004, sections 1-6) with absolute offsets written out here, not derived from our declarations."""

from __future__ import annotations

import json
import struct

import lz4.frame
import numpy as np

import memschema
from memschema.formats.amem.model import Cluster, Edge, Model, Node
from memschema.formats.amem.writer import write_spec

U64_MAX = 0xFFFF_FFFF_FFFF_FFFF


def small_model() -> Model:
    return Model(dimension=2, nodes=[
        Node("hi", event_type=1, session_id=5, confidence=0.5, created_at=1_700_000_000 * 10**6,
             vector=np.array([1.0, 2.0], "<f4"), metadata={"k": "v"}),
        Node("yo!", event_type=4, session_id=5, confidence=1.0, created_at=-7 * 10**6),
    ], edges=[Edge(1, 0, 6, 0.25), Edge(0, 1, 1, 1.0)],
        clusters=[Cluster(np.array([0.5, 0.5], "<f4"), [0, 1])])


def test_amem_spec_v1_absolute_offsets():
    data, findings = write_spec(small_model())
    assert not findings
    n, m, dim = 2, 2, 2
    # Section 1: header, 64 bytes
    assert data[0:4] == b"AMEM"
    assert struct.unpack_from("<H", data, 4)[0] == 1                     # version
    assert struct.unpack_from("<H", data, 6)[0] == 0b111                 # vectors | indexes | compressed
    assert struct.unpack_from("<I", data, 8)[0] == n
    assert struct.unpack_from("<I", data, 12)[0] == m
    assert struct.unpack_from("<H", data, 16)[0] == dim
    assert struct.unpack_from("<H", data, 18)[0] == 1                    # one distinct session
    content_offset = 64 + 64 * n + 13 * m
    assert content_offset == 218
    assert struct.unpack_from("<Q", data, 20)[0] == content_offset
    content_length = struct.unpack_from("<Q", data, 28)[0]
    vector_offset = struct.unpack_from("<Q", data, 36)[0]
    assert vector_offset == content_offset + content_length
    index_offset = struct.unpack_from("<Q", data, 44)[0]
    assert index_offset == vector_offset + n * dim * 4
    plain = b'hiyo!{"k":"v"}'
    assert struct.unpack_from("<I", data, 52)[0] == len(plain)          # content_uncompressed
    assert data[56:64] == bytes(8)                                        # reserved
    # Section 2: node N at 64 + N*64
    node0, node1 = 64, 128
    assert data[node0] == 1 and data[node0 + 1:node0 + 4] == bytes(3)
    assert struct.unpack_from("<I", data, node0 + 4)[0] == 5             # session
    assert struct.unpack_from("<f", data, node0 + 8)[0] == 0.5           # confidence
    assert struct.unpack_from("<q", data, node0 + 12)[0] == 1_700_000_000
    assert struct.unpack_from("<Q", data, node0 + 20)[0] == 0            # content_offset
    assert struct.unpack_from("<I", data, node0 + 28)[0] == 2            # content_length
    assert struct.unpack_from("<Q", data, node0 + 32)[0] == 0            # vector_offset
    assert struct.unpack_from("<Q", data, node0 + 40)[0] == 5            # metadata after all contents
    assert struct.unpack_from("<I", data, node0 + 48)[0] == 9
    assert data[node0 + 52:node0 + 64] == bytes(12)
    assert data[node1] == 4
    assert struct.unpack_from("<q", data, node1 + 12)[0] == -7           # signed seconds
    assert struct.unpack_from("<Q", data, node1 + 20)[0] == 2
    assert struct.unpack_from("<Q", data, node1 + 32)[0] == U64_MAX      # no vector
    assert struct.unpack_from("<Q", data, node1 + 40)[0] == U64_MAX      # no metadata
    assert struct.unpack_from("<I", data, node1 + 48)[0] == 0
    # Section 3: edges, 13 bytes packed, sorted by source
    e0, e1 = 192, 205
    assert struct.unpack_from("<IIBf", data, e0) == (0, 1, 1, 1.0)
    assert struct.unpack_from("<IIBf", data, e1) == (1, 0, 6, 0.25)
    # Section 4: one LZ4 frame
    frame = data[content_offset:content_offset + content_length]
    assert frame[:4] == b"\x04\x22\x4d\x18"
    assert lz4.frame.decompress(frame) == plain
    assert json.loads(plain[5:14]) == {"k": "v"}
    # Section 5: vectors, node 1's slot all zero
    assert struct.unpack_from("<4f", data, vector_offset) == (1.0, 2.0, 0.0, 0.0)
    # Section 6: type index, session index, time index, cluster map
    at = index_offset
    assert struct.unpack_from("<II", data, at) == (1, 6)
    assert data[at + 8:at + 14] == bytes([0, 0b01, 0, 0, 0b10, 0])      # bit N of byte N//8, types 0..5
    at += 14
    assert struct.unpack_from("<II", data, at) == (2, 1)
    assert struct.unpack_from("<III", data, at + 8) == (5, 0, 1)         # end_node inclusive
    at += 20
    assert struct.unpack_from("<II", data, at) == (3, 2)
    assert struct.unpack_from("<qI", data, at + 8) == (-7, 1)            # ascending timestamps
    assert struct.unpack_from("<qI", data, at + 20) == (1_700_000_000, 0)
    at += 32
    assert struct.unpack_from("<III", data, at) == (4, 1, 2)
    assert struct.unpack_from("<2f", data, at + 12) == (0.5, 0.5)
    assert struct.unpack_from("<4I", data, at + 20) == (0, 0, 0, 1)
    assert at + 36 == len(data)


def test_amem_spec_v1_loads_and_queries():
    data, _ = write_spec(small_model())
    doc = memschema.load(data)
    assert doc.detection.id == "amem/spec-v1"
    assert memschema.validate(data).ok
    assert doc.content(0) == "hi" and doc.metadata(0) == {"k": "v"} and doc.metadata(1) is None
    assert doc.by_type("decision").tolist() == [0]
    assert doc.by_session(5).tolist() == [0, 1]
    assert doc.in_time_range(-10, 0).tolist() == [1]
    assert doc.similar([1.0, 2.0], k=5)[0][0] == 0 and len(doc.similar([1.0, 2.0], k=5)) == 1
    assert memschema.dump(doc) == data


def test_amem_spec_v1_uncompressed_and_without_indexes():
    data, _ = write_spec(small_model(), compress=False, indexes=False)
    doc = memschema.load(data)
    assert doc.header.flags == 0b001
    assert doc.header.content_length == doc.header.content_uncompressed
    assert doc.index_scan == ([], None)
    assert doc.by_type(4).tolist() == [1]          # falls back to a scan
    assert memschema.validate(data).ok
