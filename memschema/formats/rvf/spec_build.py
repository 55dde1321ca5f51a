"""Building spec-dialect bytes through the `spec` declarations, as the upstream codecs lay them out
(RVF.md 4; `rvf-wire` writer.rs / vec_seg_codec.rs, `rvf-manifest` level0.rs / level1.rs): padded
segments, VEC payloads of columnar blocks, MANIFEST payloads of Level-1 records + Level0Root.
No shipping tool writes this dialect; these make test files from the reference."""

from __future__ import annotations

import numpy as np
from construct import Container, ListContainer

from ...parsing import build, field_offset, parse
from . import hashes
from .lineage import file_identity
from .segment import HEADER_SIZE, SEG_TYPES, header_bytes
from .spec import (
    ALIGNMENT,
    DATA_TYPES,
    LEVEL0_SIZE,
    LEVEL1_TAGS,
    ROOT_MANIFEST_MAGIC,
    VEC_ID_ENCODING_DELTA,
    VEC_ID_RESTART_INTERVAL,
    level0_root,
    level1_record,
    spec_dir_entry,
    spec_vec_block,
    spec_vec_block_body,
    spec_vec_directory,
)

_DTYPES = {name: value for value, name in DATA_TYPES.items()}
_TAGS = {name: tag for tag, name in LEVEL1_TAGS.items()}


def _columns(vectors, dtype: int) -> bytes:
    """Columnar values of a (count, dim) matrix in DataType f32, f16 or bf16 (top f32 half)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if dtype == _DTYPES["bf16"]:
        return (matrix.T.view(np.uint32) >> 16).astype("<u2").tobytes()
    return matrix.T.astype({_DTYPES["f32"]: "<f4", _DTYPES["f16"]: "<f2"}[dtype]).tobytes()


def _pad(raw: bytes) -> bytes:
    return raw + bytes(-len(raw) % ALIGNMENT)


def spec_segment_bytes(seg_type: int, segment_id: int, payload: bytes, checksum_algo: int, flags: int = 0) -> bytes:
    """One spec-dialect segment: hash by checksum_algo, zero padding to 64 bytes."""
    digest = hashes.payload_hash(hashes.declared_algorithm(checksum_algo, "xxh3_128"), payload)
    pad = -(HEADER_SIZE + len(payload)) % ALIGNMENT
    return header_bytes(seg_type=seg_type, segment_id=segment_id, flags=flags, payload_length=len(payload),
                        checksum_algo=checksum_algo, content_hash=digest, alignment_pad=pad) + payload + bytes(pad)


def _id_map(ids: list[int]) -> list[int]:
    """rvf-wire `encode_delta`: absolute at every 128th id, else the difference to the previous."""
    return [i if k % VEC_ID_RESTART_INTERVAL == 0 else i - ids[k - 1] for k, i in enumerate(ids)]


def spec_vec_block_bytes(ids, vectors, dtype: int = 0) -> bytes:
    """`write_vec_block`: columnar values, delta-varint id map, CRC32C, padding (dtype 0-2)."""
    matrix = np.asarray(vectors)
    ids = [int(i) for i in ids]
    entry = Container(block_offset=0, vector_count=matrix.shape[0], dim=matrix.shape[1], dtype=dtype, tier=0)
    id_map = Container(encoding=VEC_ID_ENCODING_DELTA, restart_interval=VEC_ID_RESTART_INTERVAL, id_count=len(ids),
                       ids=_id_map(ids))
    body = build(spec_vec_block_body, Container(values=_columns(matrix, dtype), id_map=id_map), "spec_vec_block",
                 entries=[entry], _index=0)
    return _pad(body + build(spec_vec_block.crc32c, hashes.crc32c(body)))


def spec_vec_payload_bytes(blocks: list[tuple]) -> bytes:
    """A VEC payload of blocks given as (ids, vectors, dtype)."""
    encoded = [spec_vec_block_bytes(*b) for b in blocks]
    directory = Container(block_count=len(blocks), entries=ListContainer(
        Container(block_offset=0, vector_count=0, dim=0, dtype=0, tier=0) for _ in blocks))
    offset = len(_pad(build(spec_vec_directory, directory)))
    for entry, (_, vectors, dtype), raw in zip(directory.entries, blocks, encoded):
        entry.update(dict(block_offset=offset, vector_count=np.shape(vectors)[0], dim=np.shape(vectors)[1],
                          dtype=dtype))
        offset += len(raw)
    return _pad(build(spec_vec_directory, directory)) + b"".join(encoded)


def level1_record_bytes(tag: int, value: bytes) -> bytes:
    return build(level1_record, Container(tag=tag, length=len(value), pad=0, value=value,
                                          align=bytes(-(field_offset(level1_record, "value") + len(value)) % 8)))


def spec_dir_bytes(entries: list[dict]) -> bytes:
    """A segment_dir record value: 64-byte entries (fields of `spec_dir_entry`, zero by default)."""
    blank = parse(spec_dir_entry, bytes(spec_dir_entry.sizeof()))
    return b"".join(build(spec_dir_entry, Container({**blank, **e})) for e in entries)


def level0_root_bytes(**fields) -> bytes:
    """A Level0Root with `fields` set (zero elsewhere) and its CRC32C."""
    root = parse(level0_root, bytes(LEVEL0_SIZE))
    root.update(dict(magic=ROOT_MANIFEST_MAGIC, version=1))
    identity = fields.pop("file_identity", None)
    if identity is not None:
        root.file_identity = parse(file_identity, build(file_identity, Container(identity)))
    root.update(fields)
    raw = build(level0_root, root)
    at = field_offset(level0_root, "root_checksum")
    return raw[:at] + hashes.crc32c(raw[:at]).to_bytes(4, "little")


def spec_store(vec_blocks: list[list[tuple]], dimension: int, checksum_algo: int = 1, epoch: int = 1) -> bytes:
    """A spec file: one VEC segment per entry of `vec_blocks`, then a MANIFEST whose segment_dir
    lists them and whose Level0Root gives dimension, vector count and epoch."""
    out, listed, total = b"", [], 0
    for i, blocks in enumerate(vec_blocks):
        payload = spec_vec_payload_bytes(blocks)
        listed.append({"segment_id": i + 1, "seg_type": SEG_TYPES["vec"], "file_offset": len(out),
                       "payload_length": len(payload), "block_count": len(blocks)})
        total += sum(len(b[0]) for b in blocks)
        out += spec_segment_bytes(SEG_TYPES["vec"], i + 1, payload, checksum_algo)
    records = level1_record_bytes(_TAGS["segment_dir"], spec_dir_bytes(listed))
    root = level0_root_bytes(total_vector_count=total, dimension=dimension, epoch=epoch,
                             l1_manifest_offset=len(out) + HEADER_SIZE, l1_manifest_length=len(records))
    return out + spec_segment_bytes(SEG_TYPES["manifest"], len(vec_blocks) + 1, records + root, checksum_algo)
